import type { Rule } from "../rule.js";
import { hasFlag } from "../shell.js";
import { reportCommand } from "./_util.js";

/** `-q`, `-nv`, `-qO-`, `-o log`: a short-option cluster that silences progress output. */
function quietCluster(v: string): boolean {
  if (!v.startsWith("-") || v.startsWith("--")) return false;
  if (v === "-nv") return true;
  for (const ch of v.slice(1)) {
    if (ch === "q" || ch === "o" || ch === "a") return true;
    if ("OPtTeUYwiBDI".includes(ch)) return false; // takes a value: the rest is that value
  }
  return false;
}

export const rule: Rule = {
  id: "DL3047",
  level: "info",
  source: "hadolint",
  description:
    "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`. Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).",
  example: "RUN wget https://example.com/a.tgz",
  check(ctx, report) {
    for (const rc of ctx.commands("wget")) {
      const c = rc.cmd;
      if (hasFlag(c, "--progress", "--quiet", "-nv", "--no-verbose", "--output-file", "--append-output"))
        continue;
      if (c.args.some((a) => quietCluster(a.value))) continue;
      reportCommand(report, rc);
    }
  },
};
