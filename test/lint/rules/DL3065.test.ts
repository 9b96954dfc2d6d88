import { ruleCases } from "../helpers.js";

ruleCases("DL3065", {
  triggers: [
    "FROM --platform=$TARGETPLATFORM debian:12\n",
    "FROM --platform=${TARGETPLATFORM} debian:12 AS x\n",
  ],
  passes: ["FROM --platform=$BUILDPLATFORM debian:12\n", "FROM debian:12\n"],
});
