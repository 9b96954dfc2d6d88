import { ruleCases } from "../helpers.js";

ruleCases("MaintainerDeprecated", {
  triggers: ["FROM debian:12\nMAINTAINER me\n"],
  passes: ["FROM debian:12\nLABEL maintainer=me\n"],
});
