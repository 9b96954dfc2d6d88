import { ruleCases } from "../helpers.js";

ruleCases("StageNameCasing", {
  triggers: ["FROM debian:12 AS Builder\n"],
  passes: ["FROM debian:12 AS builder\n", "ARG N\nFROM debian:12 AS ${N}\n", "FROM debian:12\n"],
});
