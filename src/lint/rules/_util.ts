/** Helpers shared by rules (not a rule). */
import type { RunCommand, RunInfo, Stage } from "../model.js";
import type { Report, RuleContext } from "../rule.js";
import { positionals, subcommand, type ShWord, type SimpleCommand } from "../shell.js";
import type { Instruction } from "../source.js";

/** Report at a shell command's position inside its RUN. */
export function reportCommand(
  report: (r: Report) => void,
  rc: RunCommand & { run: RunInfo },
  message?: string,
): void {
  const p = rc.part.at(rc.cmd.start);
  report({ ins: rc.run.owner, line: p.line, column: p.column, message });
}

/** Top-level instructions with a keyword. */
export function each(ctx: RuleContext, keyword: string): Instruction[] {
  return ctx.byKeyword.get(keyword) ?? [];
}

/** Instructions of a keyword including ONBUILD triggers (for value checks). */
export function eachWithTriggers(ctx: RuleContext, keyword: string): Instruction[] {
  const out: Instruction[] = [];
  for (const i of ctx.instructions) {
    if (i.keyword === keyword) out.push(i);
    else if (i.keyword === "ONBUILD" && i.trigger?.keyword === keyword) out.push(i.trigger);
  }
  return out;
}

/**
 * If `cmd` runs one of `subcmds` (`apt-get install`), returns the package arguments after it,
 * skipping options and the values of `valued` options.
 */
export function packagesOf(
  cmd: SimpleCommand,
  subcmds: string[],
  valued: string[] = [],
): ShWord[] | undefined {
  const sc = subcommand(cmd, valued);
  if (!sc || !subcmds.includes(sc.word.value)) return undefined;
  return positionals(cmd, valued, sc.index + 1);
}

export function isSub(cmd: SimpleCommand, subcmds: string[], valued: string[] = []): boolean {
  const sc = subcommand(cmd, valued);
  return !!sc && subcmds.includes(sc.word.value);
}

/** The stage is shipped: the last one, or the base of another stage (its files end up in an image). */
const basesOf = new WeakMap<Stage[], Set<Stage>>();

export function isShippedStage(ctx: RuleContext, stage: Stage | undefined): boolean {
  if (!stage) return true;
  if (stage.index === ctx.stages.length - 1) return true;
  let bases = basesOf.get(ctx.stages);
  if (!bases) {
    bases = new Set();
    for (const s of ctx.stages) if (s.base) bases.add(s.base);
    basesOf.set(ctx.stages, bases);
  }
  return bases.has(stage);
}

export const APT_VALUED = [
  "-o",
  "-c",
  "-t",
  "--option",
  "--config-file",
  "--target-release",
  "--default-release",
];

/** Whether a RUN mentions a command with an argument (e.g. `rm` … `/var/lib/apt/lists/*`). */
export function runHas(run: RunInfo, name: string, pred: (c: SimpleCommand) => boolean): boolean {
  return run.commands.some(
    (rc) => rc.cmd.name.slice(rc.cmd.name.lastIndexOf("/") + 1) === name && pred(rc.cmd),
  );
}

export function argValues(c: SimpleCommand): string[] {
  return c.args.map((a) => a.value);
}

/** Whether a path is absolute (Unix, Windows drive, or starts with a variable). */
export function isAbsolutePath(p: string): boolean {
  const v = p.replace(/^["']|["']$/g, "");
  return v.startsWith("/") || v.startsWith("$") || /^[A-Za-z]:[\\/]/.test(v) || v.startsWith("\\");
}

export function levenshtein(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The closest name within distance 2 (case-insensitive), for "did you mean" hints. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(name.toLowerCase(), c.toLowerCase());
    if (d < bestD && d <= 2 && c !== name) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
