import type { Rule } from "../rule.js";
import { each } from "./_util.js";
import { splitWords } from "../source.js";

export const rule: Rule = {
  id: "DL3011",
  level: "error",
  source: "hadolint",
  description: "Valid UNIX ports range from 0 to 65535",
  example: "EXPOSE 80000",
  check(ctx, report) {
    for (const ins of each(ctx, "EXPOSE")) {
      const scope = ctx.scopeAt(ins);
      for (const w of splitWords(ins.args, ctx.src.escape)) {
        const v = ctx.expand(w.value, scope);
        if (v === undefined) continue;
        const spec = v.split("/")[0]!;
        const port = spec.slice(spec.lastIndexOf(":") + 1);
        for (const p of port.split("-")) {
          if (/^\d+$/.test(p) && Number(p) > 65535) {
            report({ ins });
            break;
          }
        }
      }
    }
  },
};
