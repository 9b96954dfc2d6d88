import type { Rule } from "../rule.js";
import { reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3003",
  level: "warning",
  source: "hadolint",
  description: "Use WORKDIR to switch to a directory",
  example: "RUN cd /app && make",
  check(ctx, report) {
    for (const rc of ctx.commands("cd")) {
      // `cd` inside $(…) or a subshell-only helper does not change the build's directory either,
      // but hadolint flags every cd; keep parity except inside command substitutions.
      if (rc.cmd.nested) continue;
      reportCommand(report, rc);
    }
  },
};
