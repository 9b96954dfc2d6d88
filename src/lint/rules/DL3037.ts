import type { Rule } from "../rule.js";
import { ZYPPER_INSTALL, ZYPPER_VALUED } from "./DL3034.js";
import { packagesOf, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3037",
  level: "warning",
  source: "hadolint",
  description: "Specify version with `zypper install -y <package>=<version>`.",
  example: "RUN zypper install -y curl && zypper clean",
  check(ctx, report) {
    for (const rc of ctx.commands("zypper")) {
      const pkgs = packagesOf(rc.cmd, ZYPPER_INSTALL, [
        ...ZYPPER_VALUED,
        "-t",
        "--type",
        "-r",
        "--repo",
        "--from",
      ]);
      if (!pkgs) continue;
      if (pkgs.some((p) => !/[=<>]/.test(p.value) && !p.value.endsWith(".rpm") && !p.dynamic))
        reportCommand(report, rc);
    }
  },
};
