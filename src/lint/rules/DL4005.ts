import type { Rule } from "../rule.js";
import { reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL4005",
  level: "warning",
  source: "hadolint",
  description: "Use SHELL to change the default shell",
  example: "RUN ln -sf /bin/bash /bin/sh",
  check(ctx, report) {
    for (const rc of ctx.commands("ln")) {
      const pos = rc.cmd.args.filter((a) => !a.value.startsWith("-"));
      if (pos.length >= 2 && pos[pos.length - 1]!.value === "/bin/sh") reportCommand(report, rc);
    }
  },
};
