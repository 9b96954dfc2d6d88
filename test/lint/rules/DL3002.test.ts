import { ruleCases } from "../helpers.js";

ruleCases("DL3002", {
  triggers: [
    "FROM debian:12\nUSER root\n",
    "FROM debian:12\nUSER 0:0\n",
    { df: "FROM a:1 AS build\nUSER root\nFROM b:1\nUSER app\n", lines: [2] },
    "FROM debian:12\nARG U=root\nUSER $U\n",
  ],
  passes: [
    "FROM debian:12\nUSER app\n",
    "FROM debian:12\nUSER root\nRUN x\nUSER 1000\n",
    "FROM debian:12\nRUN true\n",
    "FROM debian:12\nUSER rooty\n",
  ],
});
