import { ruleCases } from "../helpers.js";

ruleCases("DL3007", {
  triggers: [
    "FROM debian:latest\n",
    "ARG TAG=latest\nFROM debian:${TAG}\n",
    "FROM reg.io:443/x/y:latest AS a\n",
  ],
  passes: [
    "FROM debian:12\n",
    "FROM debian\n",
    "FROM debian:latest@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
    "ARG TAG=12\nFROM debian:$TAG\n",
  ],
});
