import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL4004",
  level: "error",
  source: "hadolint",
  description:
    "Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` then only the last `ENTRYPOINT` will take effect",
  example: "ENTRYPOINT a then ENTRYPOINT b",
  twins: ["MultipleInstructionsDisallowed"],
  check(ctx, report) {
    for (const st of ctx.stages)
      for (const ins of st.instructions.filter((i) => i.keyword === "ENTRYPOINT").slice(1)) report({ ins });
  },
};
