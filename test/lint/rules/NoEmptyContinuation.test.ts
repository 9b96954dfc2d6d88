import { ruleCases } from "../helpers.js";

ruleCases("NoEmptyContinuation", {
  triggers: ["FROM debian:12\nRUN apk add \\\n\n    curl\n", "FROM debian:12\nRUN a \\\n   \n  b\n"],
  passes: ["FROM debian:12\nRUN apk add \\\n    curl\n", "FROM debian:12\nRUN a \\\n# comment\n  b\n"],
});
