// Helpers for the builder's interop tests: the buildbench fixtures, base images on 127.0.0.1:5300,
// running dockyard/docker, and comparing image file trees.
import { execFile, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as tar from "tar-stream";
import { DOCKER_CLI } from "../helpers/peers.js";
import { SHARED } from "../helpers/shared.js";
import { runtimeRoot } from "../../src/build/runner.js";

export const execFileP = promisify(execFile);
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BIN = join(REPO, "bin/dockyard");
export const BUILDBENCH = join(SHARED, "tools", "buildbench");
export const FIXTURES = join(BUILDBENCH, "fixtures");
export const REGISTRY = "127.0.0.1:5300";
process.env.DOCKER_HOST ??= "unix:///run/dockyard-test/docker.sock";

export function fixtureNames(): string[] {
  return existsSync(FIXTURES)
    ? readdirSync(FIXTURES)
        .filter((f) => existsSync(join(FIXTURES, f, "fixture.conf")))
        .sort()
    : [];
}

export interface FixtureConf {
  NETWORK: string;
  BASES: string;
  RUN_EXPECT: string;
  TOUCH_FILE: string;
}

export async function fixtureConf(name: string): Promise<FixtureConf> {
  const { stdout } = await execFileP("bash", [
    "-c",
    `. "$1"; printf '%s\\n' "$NETWORK" "$BASES" "$RUN_EXPECT" "$TOUCH_FILE"`,
    "_",
    join(FIXTURES, name, "fixture.conf"),
  ]);
  const [NETWORK, BASES, RUN_EXPECT, TOUCH_FILE] = stdout.split("\n");
  return {
    NETWORK: NETWORK || "none",
    BASES: BASES ?? "",
    RUN_EXPECT: RUN_EXPECT ?? ".",
    TOUCH_FILE: TOUCH_FILE ?? "",
  };
}

/** A fresh, writable copy of a fixture's context (as a git checkout would be), prepare.sh applied. */
export async function prepareFixture(name: string, parent: string): Promise<string> {
  const ctx = await mkdtemp(join(parent, `${name}-`));
  const src = join(FIXTURES, name, "context");
  if (existsSync(src)) await cp(src, ctx, { recursive: true });
  await execFileP("chmod", ["-R", "u+w", ctx]);
  const prep = join(FIXTURES, name, "prepare.sh");
  if (existsSync(prep)) await execFileP("bash", [prep, ctx], { maxBuffer: 16 << 20 });
  return ctx;
}

export async function expectedOutput(name: string, ctx: string): Promise<string> {
  const sh = join(FIXTURES, name, "expected.sh");
  if (existsSync(sh)) return (await execFileP("bash", [sh, ctx], { maxBuffer: 16 << 20 })).stdout;
  return readFile(join(FIXTURES, name, "expected.txt"), "utf8");
}

async function registryHas(repo: string, tag: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        Accept:
          "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      },
      signal: AbortSignal.timeout(3000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

/** Makes sure 127.0.0.1:5300 serves busybox:latest and debian:bookworm (setup-bases.sh when not). */
export async function ensureBases(): Promise<string | undefined> {
  const ready = async () =>
    (await registryHas("busybox", "latest")) && (await registryHas("debian", "bookworm"));
  if (await ready()) return undefined;
  const script = join(BUILDBENCH, "setup-bases.sh");
  if (!existsSync(script)) return `no ${script}`;
  // test files run in parallel: one runs setup-bases.sh, the others wait for it (a lock dir)
  const lock = join(tmpdir(), "dockyard-build-setup-bases.lock");
  const deadline = Date.now() + 900_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (Date.now() > deadline) return "timed out waiting for another setup-bases.sh";
      await new Promise((r) => setTimeout(r, 500));
      if (await ready()) return undefined;
    }
  }
  try {
    if (await ready()) return undefined;
    // the registry it starts (127.0.0.1:5300, pid in /tmp/buildbench/registry/registry.pid) is the
    // shared buildbench registry: it keeps running for later runs and the benchmark
    await execFileP("bash", [script], { timeout: 900_000, maxBuffer: 64 << 20, env: { ...process.env } });
  } catch (err) {
    return `setup-bases.sh failed: ${(err as Error).message.slice(0, 500)}`;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
  return (await registryHas("busybox", "latest"))
    ? undefined
    : "setup-bases.sh ran but the registry has no busybox";
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const t = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
    child.on("close", (code) => {
      clearTimeout(t);
      resolvePromise({ code: code ?? 137, stdout, stderr });
    });
  });
}

export function dockyard(home: string, args: string[], timeoutMs?: number): Promise<Run> {
  return run(BIN, args, { env: { ...process.env, DOCKYARD_HOME: home }, timeoutMs });
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileP(DOCKER_CLI, args, { maxBuffer: 256 << 20, timeout: 600_000 });
  return stdout;
}

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  content?: string;
}

/** The file tree of an image in the Docker Engine (docker create + export), by path. */
export async function imageTree(image: string): Promise<Map<string, TreeEntry>> {
  const cid = (await docker("create", "--network", "none", image, "true")).trim();
  try {
    const tree = new Map<string, TreeEntry>();
    const child = spawn(DOCKER_CLI, ["export", cid], { stdio: ["ignore", "pipe", "inherit"] });
    const ex = tar.extract();
    child.stdout.pipe(ex as unknown as NodeJS.WritableStream);
    for await (const e of ex) {
      const h = e.header;
      const name = h.name.replace(/^\.?\//, "").replace(/\/$/, "");
      const hash = createHash("sha256");
      for await (const c of e) hash.update(c as Buffer);
      tree.set(name, {
        type: h.type === "link" ? "file" : (h.type ?? "file"),
        mode: (h.mode ?? 0) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        ...(h.type === "symlink" ? { linkname: h.linkname ?? "" } : {}),
        ...(h.type === "file" ? { content: hash.digest("hex") } : {}),
      });
    }
    return tree;
  } finally {
    await docker("rm", "-f", cid).catch(() => {});
  }
}

/** Differences between two trees (at most `max`), ignoring paths `ignore` matches. */
export function treeDiff(
  ours: Map<string, TreeEntry>,
  theirs: Map<string, TreeEntry>,
  opts: { ignore?: RegExp; contents?: boolean; max?: number } = {},
): string[] {
  const out: string[] = [];
  const skip = (p: string) => opts.ignore?.test(p) ?? false;
  for (const [p, t] of theirs) {
    if (skip(p)) continue;
    const o = ours.get(p);
    if (!o) out.push(`missing in dockyard's image: ${p}`);
    else {
      const a = { ...o, ...(opts.contents === false ? { content: undefined } : {}) };
      const b = { ...t, ...(opts.contents === false ? { content: undefined } : {}) };
      if (JSON.stringify(a) !== JSON.stringify(b))
        out.push(`${p}: dockyard ${JSON.stringify(a)} vs buildkit ${JSON.stringify(b)}`);
    }
    if (out.length >= (opts.max ?? 15)) return out;
  }
  for (const p of ours.keys()) {
    if (!skip(p) && !theirs.has(p)) out.push(`only in dockyard's image: ${p}`);
    if (out.length >= (opts.max ?? 15)) return out;
  }
  return out;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(d: string | undefined): Promise<void> {
  if (d) await rm(d, { recursive: true, force: true });
}

/** Is the Debian mirror reachable (the apt fixture needs it)? */
export async function debianMirrorReachable(): Promise<boolean> {
  const r = await run(
    "bash",
    [
      "-c",
      "m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | head -1); [ -n \"$m\" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -1); curl -fsS -m 5 -o /dev/null \"${m%/}/dists/bookworm/Release\"",
    ],
    { timeoutMs: 15_000 },
  );
  return r.code === 0;
}

/**
 * Skips test `t` when the base images could not be prepared (`problem`), or fails it in CI
 * (DOCKYARD_REQUIRE_PEERS=1), where a missing base is a broken machine. True when it skipped.
 */
export function skipWithoutBases(t: { skip: (m: string) => void }, problem: string | undefined): boolean {
  if (!problem) return false;
  if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(problem);
  t.skip(problem);
  return true;
}

/** Writes a build context: `dir/Dockerfile` and `files` (relative path → content). */
export async function writeContext(
  dir: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  for (const [k, v] of Object.entries(files)) {
    await mkdir(join(dir, k, ".."), { recursive: true });
    await writeFile(join(dir, k), v);
  }
  return dir;
}

/** What a build under `home` holds or left: mounts, temp dirs of its store, runtime containers. */
export function leftovers(home: string): string[] {
  const found: string[] = [];
  for (const l of readFileSync("/proc/mounts", "utf8").split("\n"))
    if (l.includes(home)) found.push(`mount: ${l.split(" ")[1]}`);
  const tmp = join(home, "build", "tmp");
  if (existsSync(tmp)) for (const e of readdirSync(tmp)) found.push(`temp: ${e}`);
  for (const rt of ["runc", "crun"]) {
    let out = "[]";
    try {
      out = execFileSync(rt, ["--root", runtimeRoot(), "list", "--format", "json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      continue;
    }
    for (const c of (JSON.parse(out || "[]") as { id: string; bundle: string }[] | null) ?? [])
      if (c.bundle.startsWith(home)) found.push(`${rt} container: ${c.id}`);
  }
  return found;
}
