import type { Rule } from "../rule.js";
import { positionAt } from "../source.js";

export const rule: Rule = {
  id: "DL4000",
  level: "error",
  source: "hadolint",
  description: "MAINTAINER is deprecated",
  example: "MAINTAINER Jane <jane@example.com>",
  twins: ["MaintainerDeprecated"],
  fixable: true,
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      if (ins.keyword !== "MAINTAINER") continue;
      let fix;
      if (ins.line === ins.endLine && ctx.src.escape === "\\" && ins.args) {
        const kw = ins.keywordRaw === ins.keywordRaw.toLowerCase() ? "label" : "LABEL";
        const val = ins.args.replace(/[\\"$]/g, (c) => "\\" + c);
        const end = positionAt(ins, ins.argsStart + ins.args.length).offset;
        fix = [{ start: ins.offset, end, text: `${kw} maintainer="${val}"` }];
      }
      report({ ins, fix });
    }
  },
};
