import type { Rule } from "../rule.js";
import { inheritedLabels } from "./_labels.js";

export const rule: Rule = {
  id: "DL3049",
  level: "info",
  source: "hadolint",
  description: "Label `<label>` is missing.",
  example: "FROM debian:12 (with label-schema: {maintainer: text})",
  note: "Needs label-schema (config) or --require-label; checked on the last stage (labels of the stages it builds on count).",
  check(ctx, report) {
    const schema = Object.keys(ctx.options.labelSchema);
    const last = ctx.stages[ctx.stages.length - 1];
    if (!schema.length || !last) return;
    const have = new Set(inheritedLabels(ctx, last).map((l) => l.key));
    for (const k of schema)
      if (!have.has(k)) report({ ins: last.from, message: `Label \`${k}\` is missing.` });
  },
};
