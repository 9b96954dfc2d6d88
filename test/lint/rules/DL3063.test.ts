import { ruleCases } from "../helpers.js";

ruleCases("DL3063", {
  triggers: ["FROM debian:12 AS scratch\n", "FROM debian:12 AS Context\n"],
  passes: ["FROM debian:12 AS build\n", "FROM scratch\n"],
});
