import { ruleCases } from "../helpers.js";

ruleCases("DL3044", {
  triggers: ["FROM debian:12\nENV A=1 B=$A\n", "FROM debian:12\nENV PATH_X=/a LIB=${PATH_X}/lib\n"],
  passes: [
    "FROM debian:12\nENV A=1\nENV B=$A\n",
    "FROM debian:12\nENV A=1\nENV A=2 B=$A\n",
    "FROM debian:12\nENV A 1\n",
    "FROM debian:12\nENV A=1 B='$A'\n",
    "FROM debian:12\nENV A=1 B=\\$A\n",
  ],
});
