import type { Rule } from "../rule.js";
import { YUM_VALUED } from "./DL3030.js";
import { packagesOf, reportCommand } from "./_util.js";

/** name-version (httpd-2.4.57), name-version-release, .rpm files, name:stream. */
export function rpmPinned(p: string): boolean {
  return (
    p.includes("$") ||
    /-\d/.test(p) ||
    p.endsWith(".rpm") ||
    /[=<>]/.test(p) ||
    p.startsWith("$") ||
    p.startsWith("/") ||
    p.includes("://")
  );
}

export const rule: Rule = {
  id: "DL3033",
  level: "warning",
  source: "hadolint",
  description: "Specify version with `yum install -y <package>-<version>`.",
  example: "RUN yum install -y httpd && yum clean all",
  check(ctx, report) {
    for (const rc of ctx.commands("yum")) {
      const pkgs = packagesOf(rc.cmd, ["install"], YUM_VALUED);
      if (!pkgs) continue;
      if (pkgs.some((p) => !rpmPinned(p.value) && !p.value.startsWith("@"))) reportCommand(report, rc);
    }
  },
};
