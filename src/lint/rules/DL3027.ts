import type { Rule } from "../rule.js";
import { reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3027",
  level: "warning",
  source: "hadolint",
  description: "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead",
  example: "RUN apt install -y curl",
  check(ctx, report) {
    for (const rc of ctx.commands("apt")) reportCommand(report, rc);
  },
};
