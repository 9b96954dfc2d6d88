import { ruleCases } from "../helpers.js";

ruleCases("DL3000", {
  triggers: [
    "FROM debian:12\nWORKDIR app\n",
    'FROM debian:12\nWORKDIR "relative/dir"\n',
    "FROM debian:12\nONBUILD RUN true\nWORKDIR ./x\n",
  ],
  passes: [
    "FROM debian:12\nWORKDIR /app\n",
    "FROM debian:12\nWORKDIR $HOME/app\n",
    'FROM debian:12\nWORKDIR "/quoted"\n',
    "FROM mcr.microsoft.com/windows:ltsc2022\nWORKDIR C:\\\\app\n",
  ],
});
