import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { isSub, reportCommand } from "./_util.js";

export const YUM_VALUED = [
  "-c",
  "--config",
  "--installroot",
  "--releasever",
  "--enablerepo",
  "--disablerepo",
  "-x",
  "--exclude",
  "--setopt",
  "-d",
  "--debuglevel",
  "-e",
  "--errorlevel",
];

export const rule: Rule = {
  id: "DL3030",
  level: "warning",
  source: "hadolint",
  description: "Use the -y switch to avoid manual input `yum install -y <package>`",
  example: "RUN yum install httpd-2.4.57",
  check(ctx, report) {
    for (const rc of ctx.commands("yum")) {
      if (!isSub(rc.cmd, ["install", "groupinstall", "localinstall", "reinstall"], YUM_VALUED)) continue;
      if (hasFlag(rc.cmd, "-y", "--assumeyes")) continue;
      reportCommand(report, rc);
    }
  },
};
