import type { Rule } from "../rule.js";
import { positionAt, splitWords } from "../source.js";

export const rule: Rule = {
  id: "LegacyKeyValueFormat",
  level: "warning",
  source: "buildkit",
  description: "Legacy key/value format with whitespace separator should not be used",
  example: "ENV PATH /usr/local/bin:$PATH",
  fixable: true,
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      if (ins.keyword !== "ENV" && ins.keyword !== "LABEL") continue;
      const words = splitWords(ins.args, ctx.src.escape);
      if (words.length < 2 || words[0]!.raw.includes("=")) continue;
      let fix;
      const rest = ins.args.slice(words[0]!.end);
      const value = rest.trim();
      if (ins.line === ins.endLine && words.length === 2 && !/["'\\]/.test(value) && value !== "") {
        const a = positionAt(ins, ins.argsStart + words[0]!.end).offset;
        const b = positionAt(ins, ins.argsStart + words[1]!.start).offset;
        fix = [{ start: a, end: b, text: "=" }];
      }
      report({
        ins,
        message: `"${ins.keyword} key=value" should be used instead of legacy "${ins.keyword} key value" format`,
        fix,
      });
    }
  },
};
