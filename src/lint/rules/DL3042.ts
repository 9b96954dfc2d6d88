import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { pipInstallArgs } from "./DL3013.js";
import { isSub, reportCommand, isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3042",
  level: "warning",
  source: "hadolint",
  description: "Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`",
  example: "RUN pip install flask==3.0.0",
  note: "Not reported in stages that no image ships (neither the last stage nor the base of another). Not reported when PIP_NO_CACHE_DIR is set by ENV/ARG, or a cache mount covers ~/.cache/pip.",
  check(ctx, report) {
    for (const run of ctx.runs) {
      if (!isShippedStage(ctx, run.stage)) continue;
      const scope = ctx.scopeAt(run.owner);
      if (scope.has("PIP_NO_CACHE_DIR")) continue;
      if (
        run.mounts.some(
          (m) =>
            m.type === "cache" && m.target !== undefined && /(^|\/)\.cache(\/pip)?$|\/pip$/.test(m.target),
        )
      )
        continue;
      for (const rc of run.commands) {
        const pip = pipInstallArgs(rc.cmd);
        if (!pip || !isSub(pip, ["install"], ["-r", "-c", "-i", "--index-url", "-e"])) continue;
        if (hasFlag(pip, "--no-cache-dir")) continue;
        if (rc.cmd.assignments.some((a) => a.value.startsWith("PIP_NO_CACHE_DIR="))) continue;
        reportCommand(report, { ...rc, run });
      }
    }
  },
};
