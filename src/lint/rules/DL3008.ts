import type { Rule } from "../rule.js";
import { APT_VALUED, packagesOf, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3008",
  level: "warning",
  source: "hadolint",
  description:
    "Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`",
  example: "RUN apt-get install -y --no-install-recommends curl",
  check(ctx, report) {
    for (const rc of ctx.commands("apt-get")) {
      const pkgs = packagesOf(rc.cmd, ["install"], APT_VALUED);
      if (!pkgs) continue;
      const unpinned = pkgs.filter(
        (p) =>
          !p.dynamic &&
          !p.value.includes("=") &&
          !p.value.endsWith(".deb") &&
          !p.value.startsWith("/") &&
          !p.value.startsWith("./"),
      );
      if (unpinned.length) reportCommand(report, rc);
    }
  },
};
