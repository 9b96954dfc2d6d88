import type { Rule } from "../rule.js";
import { APT_VALUED, isSub, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3015",
  level: "info",
  source: "hadolint",
  description: "Avoid additional packages by specifying `--no-install-recommends`",
  example: "RUN apt-get install -y curl",
  fixable: true,
  check(ctx, report) {
    for (const rc of ctx.commands("apt-get")) {
      if (!isSub(rc.cmd, ["install"], APT_VALUED)) continue;
      const args = rc.cmd.args.map((a) => a.value);
      const ok =
        args.includes("--no-install-recommends") ||
        args.some(
          (a, i) =>
            /^APT::Install-Recommends=("?)(false|0|no)\1$/i.test(a) &&
            (args[i - 1] === "-o" || args[i - 1] === "--option"),
        ) ||
        args.some((a) => /^(-o|--option=)APT::Install-Recommends=("?)(false|0|no)\2$/i.test(a));
      if (ok) continue;
      const sub = rc.cmd.args.find((a) => a.value === "install")!;
      const at = rc.part.at(sub.end);
      const exact =
        !rc.part.heredoc && !rc.run.exec && ctx.src.text.slice(at.offset - 7, at.offset) === "install";
      if (!exact) {
        reportCommand(report, rc);
        continue;
      }
      const p = rc.part.at(rc.cmd.start);
      report({
        ins: rc.run.owner,
        line: p.line,
        column: p.column,
        fix: [{ start: at.offset, end: at.offset, text: " --no-install-recommends" }],
      });
    }
  },
};
