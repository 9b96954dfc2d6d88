import type { Rule } from "../rule.js";
import { hasCacheMount } from "../model.js";
import { DNF_INSTALL, DNF_VALUED } from "./DL3038.js";
import { isSub, isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3040",
  level: "warning",
  source: "hadolint",
  description: "`dnf clean all` missing after dnf command.",
  example: "RUN dnf install -y httpd-2.4.57",
  note: "Not reported in stages that no image ships (neither the last stage nor the base of another). microdnf too. Not reported when /var/cache/dnf (or /var/cache/yum) is a cache mount or the RUN removes it.",
  check(ctx, report) {
    for (const run of ctx.runs) {
      const installs = run.commands.filter(
        (rc) =>
          (rc.cmd.name === "dnf" || rc.cmd.name === "microdnf") &&
          isSub(rc.cmd, [...DNF_INSTALL, "update", "upgrade"], DNF_VALUED),
      );
      if (!installs.length) continue;
      if (!isShippedStage(ctx, run.stage)) continue;
      if (hasCacheMount(run, "/var/cache/dnf", "/var/cache/yum")) continue;
      const clean = run.commands.some(
        (rc) =>
          ((rc.cmd.name === "dnf" || rc.cmd.name === "microdnf") &&
            rc.cmd.args.some((a) => a.value === "clean") &&
            rc.cmd.args.some((a) => a.value === "all")) ||
          (rc.cmd.name === "rm" &&
            rc.cmd.args.some(
              (a) => a.value.startsWith("/var/cache/dnf") || a.value.startsWith("/var/cache/yum"),
            )),
      );
      if (clean) continue;
      const p = installs[0]!.part.at(installs[0]!.cmd.start);
      report({ ins: run.owner, line: p.line, column: p.column });
    }
  },
};
