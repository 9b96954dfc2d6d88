import type { Rule } from "../rule.js";

const CHECKED = /(?:^|\/)(?:sh|bash|ksh|zsh)$/;

function shellHasPipefail(shell: string[]): boolean {
  return (
    shell.some((a, i) => a === "pipefail" && /^-[a-z]*o$/.test(shell[i - 1] ?? "")) ||
    shell.some((a) => /^-[a-z]*o\s*pipefail$/.test(a))
  );
}

export const rule: Rule = {
  id: "DL4006",
  level: "warning",
  source: "hadolint",
  description:
    "Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, or disable this check",
  example: "RUN curl -fsSL https://example.com/install.sh | sh",
  note: "Not reported for SHELL ash/dash/pwsh, exec-form RUN, pipes inside $(…), or when the RUN sets -o pipefail itself.",
  check(ctx, report) {
    for (const run of ctx.runs) {
      if (run.exec) continue;
      if (!CHECKED.test(run.shell[0] ?? "/bin/sh") || shellHasPipefail(run.shell)) continue;
      const pipe = run.commands.find((rc) => rc.cmd.inPipeline && !rc.cmd.nested);
      if (!pipe) continue;
      const setsPipefail = run.commands.some(
        (rc) =>
          rc.cmd.name === "set" &&
          rc.cmd.start < pipe.cmd.start + (rc.part === pipe.part ? 0 : Infinity) &&
          rc.cmd.args.some(
            (a, i, all) =>
              (a.value === "pipefail" && /^[-+][a-z]*o$/.test(all[i - 1]?.value ?? "")) ||
              (/^-[a-z]*o$/.test(a.value) && all[i + 1]?.value === "pipefail"),
          ),
      );
      if (setsPipefail) continue;
      report({ ins: run.owner });
    }
  },
};
