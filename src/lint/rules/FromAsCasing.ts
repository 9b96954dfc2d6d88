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
    // The fix follows the casing FROM will have once ConsistentInstructionCasing is fixed too.
    let up = 0;
    let low = 0;
    for (const i of ctx.instructions) {
      if (i.keywordRaw === i.keywordRaw.toUpperCase()) up++;
      else if (i.keywordRaw === i.keywordRaw.toLowerCase()) low++;
    }
    const fixAs = up >= low ? "AS" : "as";
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
      const literal = w.raw.length === 2 && ctx.src.text.slice(off, off + 2) === w.raw;
      report({
        ins,
        message: `'${w.raw}' and '${kw}' keywords' casing do not match`,
        fix: literal && w.raw !== fixAs ? [{ start: off, end: off + 2, text: fixAs }] : undefined,
      });
    }
  },
};
