import { ruleCases } from "../helpers.js";

ruleCases("DL4003", {
  triggers: [
    { df: "FROM debian:12\nCMD a\nCMD b\n", lines: [3] },
    'FROM debian:12\nCMD ["a"]\nRUN x\nCMD ["b"]\n',
  ],
  passes: [
    "FROM debian:12\nCMD a\n",
    "FROM a:1\nCMD a\nFROM b:1\nCMD b\n",
    "FROM debian:12\nONBUILD CMD a\nCMD b\n",
  ],
});
