import { ruleCases } from "../helpers.js";

ruleCases("DL3061", {
  triggers: [
    { df: "RUN echo hi\nFROM debian:12\n", lines: [1] },
    { df: "LABEL a=b\nARG X\nFROM debian:12\n", lines: [1] },
  ],
  passes: [
    "FROM debian:12\n",
    "ARG TAG=12\nFROM debian:$TAG\n",
    "# comment\nFROM debian:12\n",
    "# syntax=docker/dockerfile:1\nFROM debian:12\n",
  ],
});
