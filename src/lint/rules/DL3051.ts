import type { Rule } from "../rule.js";
import { stageLabels } from "./_labels.js";

export const rule: Rule = {
  id: "DL3051",
  level: "warning",
  source: "hadolint",
  description: "label `<label>` is empty.",
  example: 'LABEL maintainer="" (maintainer in label-schema)',
  check(ctx, report) {
    const schema = ctx.options.labelSchema;
    for (const st of ctx.stages) {
      for (const l of stageLabels(ctx, st)) {
        if (l.key in schema && l.value !== undefined && l.value.trim() === "")
          report({ ins: l.ins, message: `label \`${l.key}\` is empty.` });
      }
    }
  },
};
