import type { Rule } from "../rule.js";
import { positionals } from "../shell.js";
import { isSub, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3062",
  level: "warning",
  source: "hadolint",
  description:
    "Pin versions in go install. Instead of `go install <package>` use `go install <package>@<version>`",
  example: "RUN go install golang.org/x/tools/gopls@latest",
  note: "`@latest` counts as not pinned; local packages (./…) are fine.",
  check(ctx, report) {
    for (const rc of ctx.commands("go")) {
      if (!isSub(rc.cmd, ["install"])) continue;
      const i = rc.cmd.args.findIndex((a) => a.value === "install");
      const pkgs = positionals(
        rc.cmd,
        [
          "-ldflags",
          "-gcflags",
          "-tags",
          "-o",
          "-p",
          "-mod",
          "-modfile",
          "-overlay",
          "-pkgdir",
          "-toolexec",
          "-asmflags",
          "-buildmode",
          "-compiler",
          "-gccgoflags",
          "-installsuffix",
        ],
        i + 1,
      );
      const bad = pkgs.some((p) => {
        const v = p.value;
        if (v.startsWith(".") || v.startsWith("/") || v.startsWith("$")) return false;
        const at = v.lastIndexOf("@");
        return at < 0 || v.slice(at + 1) === "latest" || v.slice(at + 1) === "";
      });
      if (bad) reportCommand(report, rc);
    }
  },
};
