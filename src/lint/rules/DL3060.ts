import type { Rule } from "../rule.js";
import { isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3060",
  level: "info",
  source: "hadolint",
  description: "`yarn cache clean` missing after `yarn install` was run.",
  example: "RUN yarn install --frozen-lockfile",
  note: "Not reported when a cache mount holds the yarn cache, nor in stages that no image ships.",
  check(ctx, report) {
    for (const run of ctx.runs) {
      const installs = run.commands.filter(
        (rc) =>
          rc.cmd.name === "yarn" &&
          (rc.cmd.args.length === 0 ||
            rc.cmd.args.find((a) => !a.value.startsWith("-"))?.value === "install"),
      );
      if (!installs.length) continue;
      if (run.mounts.some((m) => m.type === "cache" && m.target !== undefined && /yarn/i.test(m.target)))
        continue;
      if (!isShippedStage(ctx, run.stage)) continue;
      const clean = run.commands.some(
        (rc) =>
          rc.cmd.name === "yarn" && rc.cmd.args[0]?.value === "cache" && rc.cmd.args[1]?.value === "clean",
      );
      if (clean) continue;
      const p = installs[0]!.part.at(installs[0]!.cmd.start);
      report({ ins: run.owner, line: p.line, column: p.column });
    }
  },
};
