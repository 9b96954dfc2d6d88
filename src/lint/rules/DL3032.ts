import type { Rule } from "../rule.js";
import { hasCacheMount } from "../model.js";
import { YUM_VALUED } from "./DL3030.js";
import { isSub, isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3032",
  level: "warning",
  source: "hadolint",
  description: "`yum clean all` missing after yum command.",
  example: "RUN yum install -y httpd-2.4.57",
  note: "Not reported in stages that no image ships (neither the last stage nor the base of another). Not reported when /var/cache/yum is a cache mount or the RUN removes /var/cache/yum.",
  check(ctx, report) {
    for (const run of ctx.runs) {
      const installs = run.commands.filter(
        (rc) =>
          rc.cmd.name === "yum" &&
          isSub(
            rc.cmd,
            ["install", "groupinstall", "localinstall", "reinstall", "update", "upgrade"],
            YUM_VALUED,
          ),
      );
      if (!installs.length) continue;
      if (!isShippedStage(ctx, run.stage)) continue;
      if (hasCacheMount(run, "/var/cache/yum")) continue;
      const clean = run.commands.some(
        (rc) =>
          (rc.cmd.name === "yum" &&
            rc.cmd.args.some((a) => a.value === "clean") &&
            rc.cmd.args.some((a) => a.value === "all")) ||
          (rc.cmd.name === "rm" && rc.cmd.args.some((a) => a.value.startsWith("/var/cache/yum"))),
      );
      if (clean) continue;
      const p = installs[0]!.part.at(installs[0]!.cmd.start);
      report({ ins: run.owner, line: p.line, column: p.column });
    }
  },
};
