import type { Rule } from "../rule.js";
import { positionAt, splitWords } from "../source.js";
import { each } from "./_util.js";

export const rule: Rule = {
  id: "ExposeProtoCasing",
  level: "warning",
  source: "buildkit",
  description: "Protocol in EXPOSE instruction should be lowercase",
  example: "EXPOSE 80/TCP",
  fixable: true,
  check(ctx, report) {
    for (const ins of each(ctx, "EXPOSE")) {
      for (const w of splitWords(ins.args, ctx.src.escape)) {
        const i = w.raw.indexOf("/");
        if (i < 0) continue;
        const proto = w.raw.slice(i + 1);
        if (proto === proto.toLowerCase() || proto.includes("$")) continue;
        const off = positionAt(ins, ins.argsStart + w.start + i + 1).offset;
        report({
          ins,
          message: `Defined protocol '${w.value}' in EXPOSE instruction should be lowercase`,
          fix: [{ start: off, end: off + proto.length, text: proto.toLowerCase() }],
        });
      }
    }
  },
};
