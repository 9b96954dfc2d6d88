import type { Rule } from "../rule.js";
import { hasCacheMount } from "../model.js";
import { isShippedStage } from "./_util.js";

const LISTS = /^\/var\/lib\/apt\/lists(\/\*?|\/partial)?\/?$/;

export const rule: Rule = {
  id: "DL3009",
  level: "info",
  source: "hadolint",
  description: "Delete the apt-get lists after installing something",
  example: "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10",
  note: "Not reported when /var/lib/apt/lists (or /var/lib/apt) is a cache or tmpfs mount, nor in stages that no image ships (neither last nor the base of another stage).",
  check(ctx, report) {
    for (const run of ctx.runs) {
      const updates = run.commands.filter(
        (rc) => /(^|\/)apt(-get)?$/.test(rc.cmd.name) && rc.cmd.args.some((a) => a.value === "update"),
      );
      if (!updates.length) continue;
      if (hasCacheMount(run, "/var/lib/apt/lists")) continue;
      if (!isShippedStage(ctx, run.stage)) continue;
      const cleaned = run.commands.some(
        (rc) =>
          (rc.cmd.name === "rm" && rc.cmd.args.some((a) => LISTS.test(a.value))) ||
          (rc.cmd.name === "find" &&
            rc.cmd.args.some((a) => a.value.startsWith("/var/lib/apt/lists")) &&
            rc.cmd.args.some((a) => a.value === "-delete")),
      );
      if (cleaned) continue;
      const p = updates[0]!.part.at(updates[0]!.cmd.start);
      report({ ins: run.owner, line: p.line, column: p.column });
    }
  },
};
