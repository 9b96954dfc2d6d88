import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "ConsistentInstructionCasing",
  level: "warning",
  source: "buildkit",
  description: "All commands within the Dockerfile should use the same casing (either upper or lower)",
  example: "FROM debian:12 then run echo hi",
  fixable: true,
  check(ctx, report) {
    let up = 0;
    let low = 0;
    for (const ins of ctx.instructions) {
      if (ins.keywordRaw === ins.keywordRaw.toUpperCase()) up++;
      else if (ins.keywordRaw === ins.keywordRaw.toLowerCase()) low++;
    }
    const wantUpper = up >= low;
    for (const ins of ctx.instructions) {
      const want = wantUpper ? ins.keywordRaw.toUpperCase() : ins.keywordRaw.toLowerCase();
      if (ins.keywordRaw === want) continue;
      report({
        ins,
        message: `Command '${ins.keywordRaw}' should match the case of the command majority (${wantUpper ? "uppercase" : "lowercase"})`,
        fix: [{ start: ins.offset, end: ins.offset + ins.keywordRaw.length, text: want }],
      });
    }
  },
};
