import type { Rule } from "../rule.js";
import type { Stage } from "../model.js";
import { argWords } from "../source.js";
import { isAbsolutePath } from "./_util.js";

function hasWorkdir(stage: Stage | undefined, beforeIndex: number): boolean {
  for (let s = stage, limit = beforeIndex; s; limit = Infinity, s = s.base) {
    if (s.instructions.some((i) => i.keyword === "WORKDIR" && i.index < limit)) return true;
  }
  return false;
}

export const rule: Rule = {
  id: "DL3045",
  level: "warning",
  source: "hadolint",
  description: "`COPY` to a relative destination without `WORKDIR` set.",
  example: "COPY app.py app/",
  check(ctx, report) {
    for (const st of ctx.stages) {
      for (const ins of st.instructions) {
        if (ins.keyword !== "COPY") continue;
        const words = argWords(ins, ctx.src.escape);
        if (words.length < 2) continue;
        const dest = ctx.expand(words[words.length - 1]!, ctx.scopeAt(ins));
        if (dest === undefined || isAbsolutePath(dest)) continue;
        if (hasWorkdir(st, ins.index)) continue;
        report({ ins });
      }
    }
  },
};
