import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { isSub, reportCommand } from "./_util.js";

export const ZYPPER_VALUED = [
  "--root",
  "-R",
  "--config",
  "-c",
  "--reposd-dir",
  "-D",
  "--cache-dir",
  "-C",
  "--raw-cache-dir",
  "--solv-cache-dir",
  "--pkg-cache-dir",
];
export const ZYPPER_INSTALL = ["install", "in"];

export const rule: Rule = {
  id: "DL3034",
  level: "warning",
  source: "hadolint",
  description: "Non-interactive switch missing from `zypper` command: `zypper install -y`",
  example: "RUN zypper install curl=8.0.1",
  check(ctx, report) {
    for (const rc of ctx.commands("zypper")) {
      if (!isSub(rc.cmd, ["install", "in", "remove", "rm", "source-install", "si", "patch"], ZYPPER_VALUED))
        continue;
      if (hasFlag(rc.cmd, "-n", "--non-interactive", "-y", "--no-confirm")) continue;
      reportCommand(report, rc);
    }
  },
};
