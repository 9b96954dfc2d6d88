import type { Rule } from "../rule.js";
import { positionAt, splitWords } from "../source.js";

export const rule: Rule = {
  id: "FromAsCasing",
  level: "warning",
  source: "buildkit",
  description: "The 'as' keyword should match the case of the 'from' keyword",
  example: "FROM debian:12 as build",
  fixable: true,
  check(ctx, report) {
    for (const st of ctx.stages) {
      const ins = st.from;
      const kw = ins.keywordRaw;
      const upper = kw === kw.toUpperCase();
      const lower = kw === kw.toLowerCase();
      if (!upper && !lower) continue;
      const w = splitWords(ins.args, ctx.src.escape)[1];
      if (!w || w.value.toLowerCase() !== "as") continue;
      const want = upper ? "AS" : "as";
      if (w.raw === want) continue;
      const off = positionAt(ins, ins.argsStart + w.start).offset;
      report({
        ins,
        message: `'${w.raw}' and '${kw}' keywords' casing do not match`,
        fix: [{ start: off, end: off + 2, text: want }],
      });
    }
  },
};
