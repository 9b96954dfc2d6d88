import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "StageNameCasing",
  level: "warning",
  source: "buildkit",
  description: "Stage names should be lowercase",
  example: "FROM debian:12 AS Builder",
  check(ctx, report) {
    for (const st of ctx.stages) {
      if (st.name && !st.name.includes("$") && st.name !== st.name.toLowerCase()) {
        report({ ins: st.from, message: `Stage name '${st.name}' should be lowercase` });
      }
    }
  },
};
