// Process-wide cleanup of what a build holds (overlay mounts, runtime containers, temp dirs), so a
// failure or Ctrl-C (SIGINT/SIGTERM) leaves nothing behind.
//
// Races this guards against (found by test/build/interrupt-stress.test.ts):
// - Ctrl-C while a failed step is being cleaned up: the signal's cleanup pass waits for cleanups
//   already running (in-flight) instead of exiting under them;
// - work that goes on after the signal (a parallel stage mounting its snapshot, a temp dir being
//   made): once shutting down, registering a new resource releases it at once, the pass waits for
//   that too, and the registering code gets an error instead of starting more work.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DockyardError } from "../image/errors.js";

type Cleanup = () => Promise<void>;

const pending = new Map<number, Cleanup>();
const inflight = new Set<Promise<void>>();
let nextId = 1;
let shuttingDown = false;

function track(p: Promise<void>): Promise<void> {
  const q: Promise<void> = p.catch(() => {}).finally(() => inflight.delete(q));
  inflight.add(q);
  return q;
}

/**
 * Registers a cleanup; the returned function unregisters it (call it once the resource is
 * released). During shutdown the cleanup runs at once and this throws: do not start the work.
 */
export function registerCleanup(fn: Cleanup): () => void {
  if (shuttingDown) {
    void track(fn());
    throw new DockyardError("INTERNAL", "the build was interrupted");
  }
  const id = nextId++;
  pending.set(id, fn);
  return () => void pending.delete(id);
}

/** A temp dir that is removed on Ctrl-C (the caller still removes it when done with it). */
export function registerTempDir(dir: string): () => void {
  return registerCleanup(() => rm(dir, { recursive: true, force: true }));
}

const tempRoots = new Set<string>();

/**
 * Who owns a temp dir, in its name: this host and PID namespace. A sweep takes only dirs of its
 * own host and namespace for a dead process's: with DOCKYARD_HOME on a volume that containers or
 * hosts share, another one's live build has PIDs this one cannot see.
 */
const OWNER = (() => {
  let ns = "";
  try {
    ns = readlinkSync("/proc/self/ns/pid");
  } catch {
    /* no /proc: the host name alone */
  }
  return createHash("sha256").update(`${hostname()}\0${ns}`).digest("hex").slice(0, 8);
})();

/**
 * The prefix of a temp dir this process makes under a temp root (`snap-<pid>-<owner>-…`): what a
 * cleanup pass misses (a dir whose creation was still under way when the signal came) is swept
 * by name, and so is what a process killed outright left (sweepDeadOwners).
 */
export function tempPrefix(kind: string, root?: string): string {
  if (root) tempRoots.add(root);
  return `${kind}-${process.pid}-${OWNER}-`;
}

/** The pid in a temp dir's name, when the dir is one this host and namespace made (mkdtemp's six characters last). */
function ownerPid(name: string): number | undefined {
  const m = /-(\d+)-([0-9a-f]{8})-[A-Za-z0-9]{6}$/.exec(name);
  return m && m[2] === OWNER ? Number(m[1]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function mountsUnder(dir: string): string[] {
  try {
    return readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " "))
      .filter((m) => m === dir || m.startsWith(dir + "/"));
  } catch {
    return []; // no /proc: nothing to unmount
  }
}

/** Unmounts (lazily, deepest first) what is mounted under `dir`, then removes it unless a mount stays. */
async function removeTempDir(dir: string): Promise<void> {
  for (const m of mountsUnder(dir).reverse()) await promisify(execFile)("umount", ["-l", m]).catch(() => {});
  // never delete through a live mount
  if (!mountsUnder(dir).length) await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/** Removes what is left of this process's temp dirs under the known temp roots (unmounting first). */
async function sweepTempRoots(): Promise<void> {
  for (const root of tempRoots) {
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names.filter((n) => ownerPid(n) === process.pid))
      await removeTempDir(join(root, name));
  }
}

/**
 * Clears what builds killed outright (SIGKILL, the OOM killer, a CI job's timeout) left under
 * `roots`: temp dirs whose owner process, on this host and in this PID namespace, is gone. Their
 * runtime containers are stopped first (`stopContainers`, given the dirs), then their mounts
 * detached. A dir it cannot clear waits for the next build.
 */
export async function sweepDeadOwners(
  roots: string[],
  stopContainers: (dirs: string[]) => Promise<void>,
): Promise<string[]> {
  const stale: string[] = [];
  for (const root of roots) {
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names) {
      const pid = ownerPid(name);
      if (pid !== undefined && pid !== process.pid && !alive(pid)) stale.push(join(root, name));
    }
  }
  if (!stale.length) return stale;
  await stopContainers(stale).catch(() => {});
  for (const dir of stale) await removeTempDir(dir);
  return stale;
}

/** Runs every registered cleanup, newest first, and waits for cleanups already running. */
export async function runCleanups(): Promise<void> {
  for (;;) {
    const fns = [...pending.entries()].sort((a, b) => b[0] - a[0]);
    pending.clear();
    for (const [, fn] of fns) await track(fn());
    if (pending.size) continue;
    if (!inflight.size) return;
    await Promise.all([...inflight]);
  }
}

/** True once a signal started the shutdown: long work should stop. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

let installed = false;
/**
 * On SIGINT/SIGTERM: abort the build, release everything, exit 130/143. `onSignal` is told first
 * (to abort running steps). A second signal does not cut the cleanup short.
 */
export function installSignalCleanup(onSignal?: () => void): void {
  if (installed) return;
  installed = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (shuttingDown) return;
      shuttingDown = true;
      onSignal?.();
      void runCleanups()
        .then(sweepTempRoots)
        .finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
    });
  }
}
