import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "MultipleInstructionsDisallowed",
  level: "warning",
  source: "buildkit",
  description: "Multiple instructions of the same type should not be used in the same stage",
  example: "CMD a then CMD b (the first one is reported)",
  twins: ["DL4003", "DL4004", "DL3012"],
  check(ctx, report) {
    for (const st of ctx.stages) {
      for (const kw of ["CMD", "ENTRYPOINT", "HEALTHCHECK"]) {
        const list = st.instructions.filter((i) => i.keyword === kw);
        for (const ins of list.slice(0, -1)) {
          report({
            ins,
            message: `Multiple ${kw} instructions should not be used in the same stage because only the last one will be used`,
          });
        }
      }
    }
  },
};
