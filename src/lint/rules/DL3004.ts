import type { Rule } from "../rule.js";
import { reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3004",
  level: "error",
  source: "hadolint",
  description: "Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root",
  example: "RUN sudo apt-get update",
  check(ctx, report) {
    for (const rc of ctx.commands("sudo")) reportCommand(report, rc);
  },
};
