import type { Rule } from "../rule.js";
import { hasCacheMount } from "../model.js";
import { ZYPPER_INSTALL, ZYPPER_VALUED } from "./DL3034.js";
import { isSub, isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3036",
  level: "warning",
  source: "hadolint",
  description: "`zypper clean` missing after zypper use.",
  example: "RUN zypper install -y curl=8.0.1",
  note: "Not reported in stages that no image ships (neither the last stage nor the base of another).",
  check(ctx, report) {
    for (const run of ctx.runs) {
      const installs = run.commands.filter(
        (rc) => rc.cmd.name === "zypper" && isSub(rc.cmd, ZYPPER_INSTALL, ZYPPER_VALUED),
      );
      if (!installs.length) continue;
      if (!isShippedStage(ctx, run.stage)) continue;
      if (hasCacheMount(run, "/var/cache/zypp")) continue;
      const clean = run.commands.some(
        (rc) =>
          (rc.cmd.name === "zypper" && isSub(rc.cmd, ["clean", "cc"], ZYPPER_VALUED)) ||
          (rc.cmd.name === "rm" && rc.cmd.args.some((a) => a.value.startsWith("/var/cache/zypp"))),
      );
      if (clean) continue;
      const p = installs[0]!.part.at(installs[0]!.cmd.start);
      report({ ins: run.owner, line: p.line, column: p.column });
    }
  },
};
