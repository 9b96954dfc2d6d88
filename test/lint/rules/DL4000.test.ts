import { ruleCases } from "../helpers.js";

ruleCases("DL4000", {
  triggers: ["FROM debian:12\nMAINTAINER Jane <jane@example.com>\n", "FROM debian:12\nmaintainer me\n"],
  passes: ['FROM debian:12\nLABEL maintainer="Jane <jane@example.com>"\n'],
});
