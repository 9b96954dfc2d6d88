import type { Rule } from "../rule.js";
import { stageLabels } from "./_labels.js";

export const rule: Rule = {
  id: "DL3050",
  level: "info",
  source: "hadolint",
  description: "Superfluous label(s) present.",
  example: "LABEL other=x (with strict-labels and a label-schema without it)",
  note: "Needs strict-labels and a label-schema.",
  check(ctx, report) {
    if (!ctx.options.strictLabels) return;
    const schema = ctx.options.labelSchema;
    for (const st of ctx.stages) {
      for (const l of stageLabels(ctx, st)) {
        if (!(l.key in schema))
          report({ ins: l.ins, message: `Superfluous label(s) present: \`${l.key}\`.` });
      }
    }
  },
};
