import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL4003",
  level: "warning",
  source: "hadolint",
  description:
    "Multiple `CMD` instructions found. If you list more than one `CMD` then only the last `CMD` will take effect",
  example: "CMD a then CMD b",
  twins: ["MultipleInstructionsDisallowed"],
  check(ctx, report) {
    for (const st of ctx.stages)
      for (const ins of st.instructions.filter((i) => i.keyword === "CMD").slice(1)) report({ ins });
  },
};
