/**
 * ShellCheck on each shell-form RUN (ONBUILD RUN and heredoc scripts included), like hadolint:
 * a script `#!<shell>` + `export VAR=1` for every ARG/ENV in scope and the proxy variables, then
 * the RUN's shell text; findings come back as SCxxxx placed on the original line and column.
 */
import { spawnSync } from "node:child_process";
import type { Finding } from "./finding.js";
import { PROXY_ARGS, type Model } from "./model.js";
import { positionAt, type Position } from "./source.js";

const EXCLUDED = new Set([1090, 1091, 2187]);
const NON_POSIX = /(?:^|\/)(?:pwsh|powershell|cmd)(?:\.exe)?$/i;

let available: boolean | undefined;
let binary = "shellcheck";

/** Whether the shellcheck binary runs (checked once). */
export function shellcheckAvailable(bin = process.env.DOCKYARD_SHELLCHECK ?? "shellcheck"): boolean {
  if (available !== undefined && bin === binary) return available;
  binary = bin;
  const r = spawnSync(bin, ["--version"], { stdio: "ignore" });
  available = r.status === 0;
  return available;
}

interface ScComment {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  level: string;
  code: number;
  message: string;
}

const cache = new Map<string, ScComment[]>();

function shellcheck(script: string, dialect: string): ScComment[] {
  const key = dialect + "\0" + script;
  const hit = cache.get(key);
  if (hit) return hit;
  const r = spawnSync(binary, ["-f", "json1", "-s", dialect, "-S", "style", "-"], {
    input: script,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  let comments: ScComment[] = [];
  try {
    comments = (JSON.parse(r.stdout) as { comments: ScComment[] }).comments;
  } catch {
    comments = [];
  }
  if (cache.size > 2000) cache.clear();
  cache.set(key, comments);
  return comments;
}

function dialectOf(shell: string[], override?: string): string | undefined {
  const sh = override ?? shell[0] ?? "/bin/sh";
  if (NON_POSIX.test(sh)) return undefined;
  const b = sh.slice(sh.lastIndexOf("/") + 1);
  if (b === "bash") return "bash";
  if (b === "ksh" || b === "mksh") return "ksh";
  if (b === "dash") return "dash";
  if (b === "sh" || b === "ash") return "sh";
  return undefined;
}

export function runShellcheck(model: Model, file: string, shellOverride?: string): Finding[] {
  const out: Finding[] = [];
  for (const run of model.runs) {
    if (run.exec) continue;
    const dialect = dialectOf(run.shell, shellOverride);
    if (!dialect) continue;
    const scope = model.scopeAt(run.owner);
    const names = new Set<string>([...scope.keys(), ...PROXY_ARGS]);
    for (const a of model.globalArgs.keys()) names.add(a);
    const header = [
      `#!/bin/${dialect === "dash" ? "sh" : dialect}`,
      ...[...names].sort().map((n) => `export ${n}=1`),
    ];
    for (const part of run.parts) {
      let text = part.text;
      let at: (line: number, col: number) => Position;
      const ins = run.ins;
      if (!part.heredoc && ins.heredocs.length && ins.json === null) {
        // `RUN cat <<EOF > f`: give shellcheck the bodies too, they follow the RUN's last line.
        const lastLine = positionAt(ins, ins.logical.length).line;
        text = [part.text, ...ins.heredocs.flatMap((h) => [h.body, h.name])].join("\n");
        at = (l, c) => (l === 1 ? part.at(c - 1) : { line: lastLine + l - 1, column: c, offset: 0 });
      } else {
        const starts = [0];
        for (let k = 0; k < text.length; k++) if (text[k] === "\n") starts.push(k + 1);
        at = (l, c) => part.at((starts[l - 1] ?? 0) + c - 1);
      }
      // A heredoc script's own shebang picks the dialect.
      const d = part.interpreter ? (dialectOf([part.interpreter]) ?? dialect) : dialect;
      const script = header.join("\n") + "\n" + text + "\n";
      for (const c of shellcheck(script, d)) {
        if (EXCLUDED.has(c.code)) continue;
        const l = c.line - header.length;
        if (l < 1) continue;
        const p = at(l, c.column);
        const e = at(c.endLine - header.length, c.endColumn);
        out.push({
          code: `SC${c.code}`,
          message: c.message,
          level: (["error", "warning", "info", "style"].includes(c.level)
            ? c.level
            : "info") as Finding["level"],
          file,
          line: p.line,
          column: p.column,
          endLine: e.line,
          endColumn: e.column,
          url: `https://www.shellcheck.net/wiki/SC${c.code}`,
        });
      }
    }
  }
  return out;
}
