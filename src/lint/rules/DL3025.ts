import type { Rule, Edit } from "../rule.js";
import type { Instruction } from "../source.js";
import { positionAt, splitWords } from "../source.js";
import type { RuleContext } from "../rule.js";

/** The exec-form rewrite of a simple shell-form CMD/ENTRYPOINT, when it means the same. */
export function execFormFix(ctx: RuleContext, ins: Instruction): Edit[] | undefined {
  if (ins.line !== ins.endLine || ins.json !== null) return undefined;
  if (/[$`\\*?[\]{}~;&|<>()#!]/.test(ins.args)) return undefined;
  const words = splitWords(ins.args, ctx.src.escape);
  if (words.length === 0 || words[0]!.value.includes("=")) return undefined;
  if (ins.keyword === "ENTRYPOINT") {
    // Exec-form ENTRYPOINT takes CMD as arguments; only safe when the stage sets no CMD.
    const st = ctx.stageOf(ins);
    if (!st || st.instructions.some((i) => i.keyword === "CMD")) return undefined;
  }
  const start = positionAt(ins, ins.argsStart).offset;
  const end = positionAt(ins, ins.argsStart + ins.args.length).offset;
  return [{ start, end, text: "[" + words.map((w) => JSON.stringify(w.value)).join(", ") + "]" }];
}

export const rule: Rule = {
  id: "DL3025",
  level: "warning",
  source: "hadolint",
  description: "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
  example: "CMD node server.js",
  twins: ["JSONArgsRecommended"],
  fixable: true,
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      if ((ins.keyword === "CMD" || ins.keyword === "ENTRYPOINT") && ins.json === null && ins.args !== "") {
        report({ ins, fix: execFormFix(ctx, ins) });
      }
    }
  },
};
