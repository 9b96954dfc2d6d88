import type { Rule } from "../rule.js";
import type { SimpleCommand } from "../shell.js";
import { packagesOf, reportCommand } from "./_util.js";

const VALUED = [
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-e",
  "--editable",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "-t",
  "--target",
  "--prefix",
  "--root",
  "--src",
  "--trusted-host",
  "--platform",
  "--python-version",
  "--implementation",
  "--abi",
  "--no-binary",
  "--only-binary",
  "--progress-bar",
  "--cache-dir",
  "--log",
  "--upgrade-strategy",
  "--global-option",
  "--install-option",
  "--config-settings",
  "-C",
  "--report",
  "--python",
];

/** The pip arguments of `pip install …`, `pip3.11 install`, `python -m pip install`. */
export function pipInstallArgs(cmd: SimpleCommand): SimpleCommand | undefined {
  const n = cmd.name.slice(cmd.name.lastIndexOf("/") + 1);
  if (/^pip(\d+(\.\d+)?)?$/.test(n)) return cmd;
  if (/^python(\d+(\.\d+)?)?$/.test(n)) {
    const i = cmd.args.findIndex((a) => a.value === "-m");
    if (i >= 0 && cmd.args[i + 1]?.value === "pip") return { ...cmd, args: cmd.args.slice(i + 2) };
  }
  return undefined;
}

function pinned(p: string): boolean {
  if (/[=<>~!]=?|@/.test(p)) return true;
  if (p.startsWith(".") || p.startsWith("/") || p.startsWith("$") || p.includes("://")) return true;
  return /\.(whl|tar\.gz|zip)$/.test(p);
}

export const rule: Rule = {
  id: "DL3013",
  level: "warning",
  source: "hadolint",
  description:
    "Pin versions in pip. Instead of `pip install <package>` use `pip install <package>==<version>` or `pip install --requirement <requirements file>`",
  example: "RUN pip install --no-cache-dir flask",
  check(ctx, report) {
    for (const run of ctx.runs) {
      for (const rc of run.commands) {
        const pip = pipInstallArgs(rc.cmd);
        if (!pip) continue;
        const pkgs = packagesOf(pip, ["install"], VALUED);
        if (!pkgs) continue;
        if (pkgs.some((p) => !pinned(p.value))) reportCommand(report, { ...rc, run });
      }
    }
  },
};
