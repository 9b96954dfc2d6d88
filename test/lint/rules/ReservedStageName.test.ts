import { ruleCases } from "../helpers.js";

ruleCases("ReservedStageName", {
  triggers: ["FROM debian:12 AS context\n", "FROM debian:12 AS scratch\n"],
  passes: ["FROM debian:12 AS ctx\n"],
});
