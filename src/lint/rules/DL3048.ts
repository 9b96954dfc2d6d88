import type { Rule } from "../rule.js";
import { stageLabels } from "./_labels.js";

const RESERVED = ["com.docker.", "io.docker.", "org.dockerproject."];

export function validLabelKey(k: string): boolean {
  if (RESERVED.some((r) => k.startsWith(r))) return false;
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(k)) return false;
  return !/[.-]{2}/.test(k);
}

export const rule: Rule = {
  id: "DL3048",
  level: "style",
  source: "hadolint",
  description: "Invalid label key.",
  example: "LABEL My_Label=x",
  check(ctx, report) {
    for (const st of ctx.stages) {
      for (const l of stageLabels(ctx, st)) {
        if (l.key.includes("$")) continue;
        if (!validLabelKey(l.key)) report({ ins: l.ins, message: `Invalid label key \`${l.key}\`.` });
      }
    }
  },
};
