import type { Rule } from "../rule.js";
import { packagesOf, reportCommand } from "./_util.js";

export const APK_VALUED = [
  "-t",
  "--virtual",
  "-X",
  "--repository",
  "--root",
  "-p",
  "--arch",
  "--keys-dir",
  "--cache-dir",
  "--repositories-file",
  "--cache-max-age",
];

export const rule: Rule = {
  id: "DL3018",
  level: "warning",
  source: "hadolint",
  description: "Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
  example: "RUN apk add --no-cache curl",
  check(ctx, report) {
    for (const rc of ctx.commands("apk")) {
      const pkgs = packagesOf(rc.cmd, ["add"], APK_VALUED);
      if (!pkgs) continue;
      if (pkgs.some((p) => !/[=<>~]/.test(p.value) && !p.value.endsWith(".apk") && !p.dynamic))
        reportCommand(report, rc);
    }
  },
};
