import type { Rule } from "../rule.js";
import { flagValues, hasFlag } from "../shell.js";
import { reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3046",
  level: "warning",
  source: "hadolint",
  description: "`useradd` without flag `-l` and high UID will result in excessively large Image.",
  example: "RUN useradd -u 123456 app",
  check(ctx, report) {
    for (const rc of ctx.commands("useradd")) {
      if (hasFlag(rc.cmd, "-l", "--no-log-init")) continue;
      const uids = flagValues(rc.cmd, "-u", "--uid");
      if (uids.some((u) => /^\d+$/.test(u) && u.length > 5)) reportCommand(report, rc);
    }
  },
};
