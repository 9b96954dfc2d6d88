import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tests run from dist/test/…). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BIN = join(ROOT, "bin", "dockyard");

export { SHARED } from "../helpers/shared.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProc {
  proc: ChildProcess;
  port: number;
  url: string;
  data: string;
  stderr: () => string;
  stdout: () => string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
  /** Waits for the process to exit; returns the exit code. */
  exited: Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export async function tempDir(prefix = "dockyard-reg-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Starts `bin/dockyard registry serve` on a free port; waits until /healthz answers. */
export async function startServer(
  opts: { data?: string; args?: string[]; env?: Record<string, string>; https?: boolean } = {},
): Promise<ServerProc> {
  const data = opts.data ?? (await tempDir());
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [BIN, "registry", "serve", "--listen", `127.0.0.1:${port}`, "--data", data, ...(opts.args ?? [])],
    { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  let out = "";
  proc.stderr!.on("data", (c) => (err += c));
  proc.stdout!.on("data", (c) => (out += c.length + out.length > 1e6 ? "" : c));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const url = `${opts.https ? "https" : "http"}://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`registry exited early (${proc.exitCode}): ${err}`);
    if (err.includes("dockyard registry listening")) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`registry did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    port,
    url,
    data,
    exited,
    stderr: () => err,
    stdout: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

export async function removeDir(d: string): Promise<void> {
  await rm(d, { recursive: true, force: true });
}

/** Writes an htpasswd file with one bcrypt ($2y$, as `htpasswd -B` writes) entry. */
export async function writeHtpasswd(dir: string, user: string, password: string): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const bcrypt = (await import("bcryptjs")).default;
  const file = join(dir, "htpasswd");
  await writeFile(file, `# test users\n${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, "$2y$")}\n`);
  return file;
}
