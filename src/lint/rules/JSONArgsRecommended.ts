import type { Rule } from "../rule.js";
import type { Stage } from "../model.js";
import { execFormFix } from "./DL3025.js";

function hasShell(stage: Stage | undefined, before: number): boolean {
  for (let s = stage, limit = before; s; s = s.base, limit = Infinity) {
    if (s.instructions.some((i) => i.keyword === "SHELL" && i.index < limit)) return true;
  }
  return false;
}

export const rule: Rule = {
  id: "JSONArgsRecommended",
  level: "warning",
  source: "buildkit",
  description:
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
  example: "ENTRYPOINT my-server --port 80",
  twins: ["DL3025"],
  fixable: true,
  note: "Not reported when the stage sets SHELL (a base image's SHELL is not known offline).",
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      if ((ins.keyword !== "CMD" && ins.keyword !== "ENTRYPOINT") || ins.json !== null) continue;
      if (hasShell(ctx.stageOf(ins), ins.index)) continue;
      report({
        ins,
        message: `JSON arguments recommended for ${ins.keyword} to prevent unintended behavior related to OS signals`,
        fix: execFormFix(ctx, ins),
      });
    }
  },
};
