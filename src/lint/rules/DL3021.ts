import type { Rule } from "../rule.js";
import { each } from "./_util.js";
import { argWords } from "../source.js";

export const rule: Rule = {
  id: "DL3021",
  level: "error",
  source: "hadolint",
  description: "COPY with more than 2 arguments requires the last argument to end with /",
  example: "COPY a.txt b.txt /dest",
  check(ctx, report) {
    for (const ins of each(ctx, "COPY")) {
      const words = argWords(ins, ctx.src.escape);
      if (words.length <= 2) continue;
      const dest = words[words.length - 1]!;
      const v = ctx.expand(dest, ctx.scopeAt(ins));
      if (v === undefined) continue;
      if (!v.endsWith("/") && !v.endsWith("\\")) report({ ins });
    }
  },
};
