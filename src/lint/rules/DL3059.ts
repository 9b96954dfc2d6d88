import type { Rule } from "../rule.js";
import type { Instruction } from "../source.js";

function flagKey(ins: Instruction): string {
  return ins.flags
    .map((f) => `${f.name}=${f.value ?? ""}`)
    .sort()
    .join(" ");
}

export const rule: Rule = {
  id: "DL3059",
  level: "info",
  source: "hadolint",
  description: "Multiple consecutive `RUN` instructions. Consider consolidation.",
  example: "RUN a then RUN b",
  check(ctx, report) {
    const ins = ctx.instructions;
    for (let i = 1; i < ins.length; i++) {
      const a = ins[i - 1]!;
      const b = ins[i]!;
      if (a.keyword === "RUN" && b.keyword === "RUN" && flagKey(a) === flagKey(b)) report({ ins: b });
    }
  },
};
