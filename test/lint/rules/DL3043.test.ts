import { ruleCases } from "../helpers.js";

ruleCases("DL3043", {
  triggers: [
    "FROM debian:12\nONBUILD ONBUILD RUN x\n",
    "FROM debian:12\nONBUILD FROM debian:12\n",
    "FROM debian:12\nonbuild maintainer me\n",
  ],
  passes: ["FROM debian:12\nONBUILD RUN make\n", "FROM debian:12\nONBUILD COPY . /app\n"],
});
