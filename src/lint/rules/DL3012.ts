import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3012",
  level: "error",
  source: "hadolint",
  description: "Multiple `HEALTHCHECK` instructions",
  example: "HEALTHCHECK CMD a (twice in a stage)",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const hc = st.instructions.filter((i) => i.keyword === "HEALTHCHECK");
      for (const ins of hc.slice(1)) report({ ins });
    }
  },
};
