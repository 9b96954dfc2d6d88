import { ruleCases } from "../helpers.js";

ruleCases("FromPlatformFlagConstDisallowed", {
  triggers: ["FROM --platform=linux/amd64 debian:12\n", "FROM --platform=linux/arm64 debian:12 AS build\n"],
  passes: [
    "FROM --platform=$BUILDPLATFORM debian:12\n",
    "FROM --platform=linux/amd64 debian:12 AS build-amd64\n",
    "FROM debian:12\n",
  ],
});
