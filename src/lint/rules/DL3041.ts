import type { Rule } from "../rule.js";
import { DNF_VALUED } from "./DL3038.js";
import { rpmPinned } from "./DL3033.js";
import { packagesOf, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3041",
  level: "warning",
  source: "hadolint",
  description: "Specify version with `dnf install -y <package>-<version>`.",
  example: "RUN dnf install -y httpd && dnf clean all",
  check(ctx, report) {
    for (const rc of ctx.commands("dnf", "microdnf")) {
      const pkgs = packagesOf(rc.cmd, ["install", "in"], DNF_VALUED);
      if (!pkgs) continue;
      if (pkgs.some((p) => !rpmPinned(p.value) && !p.value.startsWith("@"))) reportCommand(report, rc);
    }
  },
};
