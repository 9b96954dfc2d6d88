import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "NoEmptyContinuation",
  level: "warning",
  source: "buildkit",
  description: "Empty continuation lines will become errors in a future release",
  example: "RUN apk add \\ + an empty line + curl",
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      if (ins.emptyContinuationLines.length) {
        report({
          ins,
          message: `Empty continuation line found in: ${ins.keywordRaw} (line ${ins.emptyContinuationLines.join(", ")})`,
        });
      }
    }
  },
};
