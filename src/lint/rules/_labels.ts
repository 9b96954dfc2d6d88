/** Label helpers for DL3048–DL3058 (not a rule). */
import { kvPairs, type Stage } from "../model.js";
import type { RuleContext } from "../rule.js";
import type { Instruction } from "../source.js";

export interface LabelUse {
  key: string;
  value: string | undefined;
  ins: Instruction;
}

/** Labels set in a stage (resolved values; undefined when a variable is unknown). */
export function stageLabels(ctx: RuleContext, stage: Stage): LabelUse[] {
  const out: LabelUse[] = [];
  for (const ins of stage.instructions) {
    if (ins.keyword !== "LABEL") continue;
    const scope = ctx.scopeAt(ins);
    for (const p of kvPairs(ins, ctx.src.escape))
      out.push({ key: p.key, value: ctx.expand(p.value, scope), ins });
  }
  return out;
}

/** Labels of a stage and the stages it builds on. */
export function inheritedLabels(ctx: RuleContext, stage: Stage): LabelUse[] {
  const out: LabelUse[] = [];
  for (let s: Stage | undefined = stage; s; s = s.base) out.push(...stageLabels(ctx, s));
  return out;
}

/** Runs `check` on each label of `type` in the schema, per stage. */
export function checkTyped(
  ctx: RuleContext,
  type: string,
  valid: (v: string) => boolean,
  report: (ins: Instruction, key: string) => void,
): void {
  const schema = ctx.options.labelSchema;
  for (const st of ctx.stages) {
    for (const l of stageLabels(ctx, st)) {
      if (schema[l.key] !== type || l.value === undefined || l.value === "") continue;
      if (!valid(l.value)) report(l.ins, l.key);
    }
  }
}
