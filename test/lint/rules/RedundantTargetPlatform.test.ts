import { ruleCases } from "../helpers.js";

ruleCases("RedundantTargetPlatform", {
  triggers: ["FROM --platform=$TARGETPLATFORM debian:12\n"],
  passes: ["FROM --platform=$BUILDPLATFORM debian:12\n", "FROM debian:12\n"],
});
