import { ruleCases } from "../helpers.js";

ruleCases("DL3045", {
  triggers: [
    "FROM debian:12\nCOPY app.py app/\n",
    "FROM debian:12\nCOPY . .\n",
    "FROM a:1 AS b\nFROM b\nCOPY x y\n",
  ],
  passes: [
    "FROM debian:12\nWORKDIR /app\nCOPY . .\n",
    "FROM debian:12\nCOPY a /abs/\n",
    "FROM a:1 AS b\nWORKDIR /w\nFROM b\nCOPY x y\n",
    "FROM debian:12\nARG D=/x\nCOPY a $D\n",
    "FROM mcr.microsoft.com/windows:ltsc2022\nCOPY a C:\\\\x\n",
  ],
});
