import type { Rule } from "../rule.js";
import { kvPairs, referencedVars } from "../model.js";
import { each } from "./_util.js";

export const rule: Rule = {
  id: "DL3044",
  level: "error",
  source: "hadolint",
  description: "Do not refer to an environment variable within the same `ENV` statement where it is defined.",
  example: "ENV A=1 B=$A",
  check(ctx, report) {
    for (const ins of each(ctx, "ENV")) {
      const pairs = kvPairs(ins, ctx.src.escape);
      if (pairs.length < 2) continue;
      const before = ctx.scopeAt(ins);
      const defined = new Set<string>();
      let hit = false;
      for (const p of pairs) {
        const raw = ins.logical.slice(p.start, p.end);
        const val = raw.slice(raw.indexOf("=") + 1);
        if (referencedVars(val, ctx.src.escape).some((v) => defined.has(v.name) && !before.has(v.name)))
          hit = true;
        defined.add(p.key);
      }
      if (hit) report({ ins });
    }
  },
};
