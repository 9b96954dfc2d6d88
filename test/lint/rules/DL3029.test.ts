import { ruleCases } from "../helpers.js";

ruleCases("DL3029", {
  triggers: ["FROM --platform=linux/amd64 debian:12\n", "FROM --platform=linux/arm64 a:1 AS x\n"],
  passes: ["FROM debian:12\n", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"],
});
