// The builder's short helper commands (mount, umount, getfattr) run through one long-lived /bin/sh
// instead of one Node spawn each: forking this large Node process costs a few milliseconds of CPU
// per spawn on the main thread, forking a small shell costs a fraction of that. A touch rebuild
// runs half a dozen of them. Commands run concurrently (each in a background job of the shell);
// their output goes through files in a private temp dir. When the shell cannot be started or dies,
// commands fall back to execFile. DOCKYARD_SHELL_HELPER=0 turns it off.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempPrefix } from "./cleanup.js";

const execFileP = promisify(execFile);

export interface HelperOutput {
  stdout: string;
  stderr: string;
}

/** A failed command, shaped like execFile's error: `code` (exit code, or "ENOENT"), stdout, stderr. */
export class HelperCommandError extends Error {
  constructor(
    message: string,
    readonly code: number | string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (r: HelperOutput) => void;
  reject: (e: Error) => void;
  out: string;
  err: string;
  label: string;
}

let shell: ChildProcess | undefined;
let outDir = "";
let broken = process.env.DOCKYARD_SHELL_HELPER === "0";
let seq = 0;
const pending = new Map<number, Pending>();

/** Single-quotes a word for sh. */
export function shQuote(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

function fail(why: string): void {
  broken = true;
  const waiting = [...pending.values()];
  pending.clear();
  // not an exit status: callers that accept some statuses (getfattr's 1) must not take this as one
  for (const p of waiting)
    p.reject(new HelperCommandError(`${p.label}: the helper shell ${why}`, "EHELPER", "", ""));
  shell = undefined;
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}

function start(): ChildProcess | undefined {
  if (broken) return undefined;
  if (shell) return shell;
  try {
    outDir = mkdtempSync(join(tmpdir(), tempPrefix("dockyard-sh")));
    // its own process group: a Ctrl-C meant for the build does not kill it under a pending
    // command (the build's cleanup still unmounts through it); it exits when our end of its stdin
    // closes, which is also when this process exits
    const child = spawn("/bin/sh", ["-s"], { stdio: ["pipe", "pipe", "ignore"], detached: true });
    child.unref();
    (child.stdout as unknown as Socket).unref();
    (child.stdin as unknown as Socket).unref();
    let buf = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (c: string) => {
      buf += c;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const [id, status] = line.split(" ");
        const p = pending.get(Number(id));
        if (!p) continue;
        pending.delete(Number(id));
        if (!pending.size) (child.stdout as unknown as Socket).unref();
        let stdout = "";
        let stderr = "";
        try {
          stdout = readFileSync(p.out, "utf8");
          stderr = readFileSync(p.err, "utf8");
        } catch {
          /* reported below by the status */
        } finally {
          rmSync(p.out, { force: true });
          rmSync(p.err, { force: true });
        }
        const code = Number(status);
        if (code === 0) p.resolve({ stdout, stderr });
        else
          p.reject(
            new HelperCommandError(
              `Command failed: ${p.label}\n${stderr}`,
              code === 127 ? "ENOENT" : code,
              stdout,
              stderr,
            ),
          );
      }
    });
    child.on("error", () => fail("could not be started"));
    child.on("exit", () => fail("exited"));
    child.stdin!.on("error", () => fail("closed its input"));
    process.once("exit", () => {
      if (outDir) rmSync(outDir, { recursive: true, force: true });
    });
    shell = child;
    return child;
  } catch {
    broken = true;
    return undefined;
  }
}

/**
 * Runs `cmd args` (in `cwd`), resolving with its output when it exits 0 and rejecting with a
 * HelperCommandError otherwise, as promisified execFile does.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {},
): Promise<HelperOutput> {
  const sh = start();
  if (!sh) return direct(cmd, args, opts);
  const id = ++seq;
  const out = join(outDir, `${id}.out`);
  const err = join(outDir, `${id}.err`);
  const label = [cmd, ...args].join(" ");
  const line =
    `{ (${opts.cwd ? `cd ${shQuote(opts.cwd)} && ` : ""}exec ${[cmd, ...args].map(shQuote).join(" ")})` +
    ` >${shQuote(out)} 2>${shQuote(err)} </dev/null; echo "${id} $?"; } &\n`;
  return new Promise<HelperOutput>((resolve, reject) => {
    pending.set(id, { resolve, reject, out, err, label });
    (sh.stdout as unknown as Socket).ref();
    sh.stdin!.write(line);
  });
}

async function direct(cmd: string, args: string[], opts: { cwd?: string }): Promise<HelperOutput> {
  const r = await execFileP(cmd, args, { cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr };
}
