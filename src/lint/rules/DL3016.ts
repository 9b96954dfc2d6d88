import type { Rule } from "../rule.js";
import { packagesOf, reportCommand } from "./_util.js";

const VALUED = ["--prefix", "--registry", "-w", "--workspace", "--cache", "--tag", "--userconfig", "-C"];

function pinned(p: string): boolean {
  if (p.startsWith(".") || p.startsWith("/") || p.startsWith("~") || p.startsWith("$")) return true;
  if (/^(git(\+\w+)?|https?|file|github):/.test(p) || p.endsWith(".tgz") || p.endsWith(".tar.gz"))
    return true;
  if (/^[\w.-]+\/[\w.-]+(#.*)?$/.test(p) && !p.startsWith("@")) return true; // user/repo (GitHub)
  const at = p.startsWith("@") ? p.indexOf("@", 1) : p.indexOf("@");
  return at > 0;
}

export const rule: Rule = {
  id: "DL3016",
  level: "warning",
  source: "hadolint",
  description:
    "Pin versions in npm. Instead of `npm install <package>` use `npm install <package>@<version>`",
  example: "RUN npm install -g typescript",
  check(ctx, report) {
    for (const rc of ctx.commands("npm")) {
      const pkgs = packagesOf(
        rc.cmd,
        ["install", "i", "add", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal"],
        VALUED,
      );
      if (!pkgs || pkgs.length === 0) continue;
      if (pkgs.some((p) => !pinned(p.value))) reportCommand(report, rc);
    }
  },
};
