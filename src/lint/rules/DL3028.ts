import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { packagesOf, reportCommand } from "./_util.js";

const VALUED = [
  "-v",
  "--version",
  "-i",
  "--install-dir",
  "-n",
  "--bindir",
  "-s",
  "--source",
  "--platform",
  "-g",
  "--file",
];

export const rule: Rule = {
  id: "DL3028",
  level: "warning",
  source: "hadolint",
  description:
    "Pin versions in gem install. Instead of `gem install <gem>` use `gem install <gem>:<version>`",
  example: "RUN gem install bundler",
  check(ctx, report) {
    for (const rc of ctx.commands("gem")) {
      const pkgs = packagesOf(rc.cmd, ["install", "i"], VALUED);
      if (!pkgs || pkgs.length === 0) continue;
      if (hasFlag(rc.cmd, "-v", "--version")) continue;
      if (pkgs.some((p) => !p.dynamic && !p.value.includes(":") && !p.value.endsWith(".gem")))
        reportCommand(report, rc);
    }
  },
};
