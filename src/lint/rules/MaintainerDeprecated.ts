import type { Rule } from "../rule.js";
import { rule as dl4000 } from "./DL4000.js";

export const rule: Rule = {
  id: "MaintainerDeprecated",
  level: "warning",
  source: "buildkit",
  description: "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
  example: "MAINTAINER Jane <jane@example.com>",
  twins: ["DL4000"],
  fixable: true,
  check(ctx, report) {
    dl4000.check(ctx, (r) =>
      report({ ...r, message: "Maintainer instruction is deprecated in favor of using label" }),
    );
  },
};
