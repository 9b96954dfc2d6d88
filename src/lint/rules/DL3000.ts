import type { Rule } from "../rule.js";
import { each, isAbsolutePath } from "./_util.js";
import { argWords } from "../source.js";

export const rule: Rule = {
  id: "DL3000",
  level: "error",
  source: "hadolint",
  description: "Use absolute WORKDIR",
  example: "WORKDIR app",
  check(ctx, report) {
    for (const ins of each(ctx, "WORKDIR")) {
      const dir = argWords(ins, ctx.src.escape).join(" ");
      if (dir && !isAbsolutePath(dir)) report({ ins });
    }
  },
};
