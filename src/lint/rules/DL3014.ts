import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { APT_VALUED, isSub } from "./_util.js";

export const rule: Rule = {
  id: "DL3014",
  level: "warning",
  source: "hadolint",
  description: "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
  example: "RUN apt-get install curl",
  fixable: true,
  check(ctx, report) {
    for (const rc of ctx.commands("apt-get")) {
      if (!isSub(rc.cmd, ["install"], APT_VALUED)) continue;
      const c = rc.cmd;
      const yes =
        hasFlag(c, "-y", "--yes", "--assume-yes", "-qq") ||
        c.args.some((a) => a.value === "-q=2" || a.value === "--quiet=2") ||
        c.args.filter((a) => a.value === "-q").length >= 2;
      if (yes) continue;
      const p = rc.part.at(c.start);
      const ins = rc.run.owner;
      // Fix: insert " -y" after the sub-command word when it maps 1:1 to the original text.
      const sub = c.args.find((a) => a.value === "install")!;
      const at = rc.part.at(sub.end);
      const fix =
        !rc.part.heredoc && !rc.run.exec && ctx.src.text.slice(at.offset - 7, at.offset) === "install"
          ? [{ start: at.offset, end: at.offset, text: " -y" }]
          : undefined;
      report({ ins, line: p.line, column: p.column, fix });
    }
  },
};
