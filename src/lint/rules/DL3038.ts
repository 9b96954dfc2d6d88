import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { isSub, reportCommand } from "./_util.js";

export const DNF_VALUED = [
  "-c",
  "--config",
  "--installroot",
  "--releasever",
  "--enablerepo",
  "--disablerepo",
  "--repo",
  "--repoid",
  "-x",
  "--exclude",
  "--setopt",
  "-d",
  "--debuglevel",
  "-e",
  "--errorlevel",
  "--nodocs=false",
];
export const DNF_INSTALL = ["install", "groupinstall", "localinstall", "reinstall", "in"];

export const rule: Rule = {
  id: "DL3038",
  level: "warning",
  source: "hadolint",
  description: "Use the -y switch to avoid manual input `dnf install -y <package>`",
  example: "RUN dnf install httpd-2.4.57",
  check(ctx, report) {
    for (const rc of ctx.commands("dnf", "microdnf")) {
      if (!isSub(rc.cmd, DNF_INSTALL, DNF_VALUED)) continue;
      if (hasFlag(rc.cmd, "-y", "--assumeyes")) continue;
      reportCommand(report, rc);
    }
  },
};
