import type { Rule } from "../rule.js";
import { hasCacheMount } from "../model.js";
import { hasFlag } from "../shell.js";
import { APK_VALUED } from "./DL3018.js";
import { isSub, reportCommand, isShippedStage } from "./_util.js";

export const rule: Rule = {
  id: "DL3019",
  level: "info",
  source: "hadolint",
  description:
    "Use the `--no-cache` switch to avoid the need to use `--update` and remove `/var/cache/apk/*` when done installing packages",
  example: "RUN apk add curl=8.5.0-r0",
  note: "Not reported in stages that no image ships (neither the last stage nor the base of another). Not reported when /var/cache/apk or /etc/apk/cache is a cache mount, or the RUN removes /var/cache/apk/*.",
  check(ctx, report) {
    for (const rc of ctx.commands("apk")) {
      if (!isSub(rc.cmd, ["add"], APK_VALUED)) continue;
      if (hasFlag(rc.cmd, "--no-cache")) continue;
      if (!isShippedStage(ctx, rc.run.stage)) continue;
      if (hasCacheMount(rc.run, "/var/cache/apk", "/etc/apk/cache")) continue;
      const removes = rc.run.commands.some(
        (o) => o.cmd.name === "rm" && o.cmd.args.some((a) => a.value.startsWith("/var/cache/apk")),
      );
      if (removes) continue;
      reportCommand(report, rc);
    }
  },
};
