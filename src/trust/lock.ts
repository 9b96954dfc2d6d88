import { AsyncLocalStorage } from "node:async_hooks";
import { hostname } from "node:os";
import { join } from "node:path";
import { link, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { DockyardError } from "../image/errors.js";

/**
 * One writer at a time per trust directory, across processes: `<trust dir>/.lock`, created with
 * O_EXCL and holding `pid host time`. Two `trust sign`s, or a sign and a `pull --verify`, on one
 * trust dir take turns, so neither builds on metadata the other is replacing (the second signer
 * builds on the first one's targets version instead of failing with a version conflict) and the
 * TUF cache always holds one update's files, never a mix of two.
 *
 * A lock left by a process that died (SIGKILL, power loss) is stale when its pid is gone on this
 * host, or when it is older than STALE_MS; it is broken by renaming it aside (atomic) and checking
 * that what was renamed is still the stale lock. Within a process the lock is re-entrant along
 * one async call chain (a sign runs the TUF update inside its own lock) and queued between
 * unrelated chains.
 */
const STALE_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 120_000;

const held = new AsyncLocalStorage<Set<string>>();
const queues = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** Give up after this long (default 120 s, DOCKYARD_TRUST_LOCK_TIMEOUT in seconds). */
  waitMs?: number;
  /**
   * `fn` never takes this lock again (a verify's TUF update): it runs without the async context
   * that re-entrancy needs. That context turns on promise hooks for the whole process, which a
   * pull running alongside the update would pay for on every await.
   */
  leaf?: boolean;
}

/** Runs `fn` holding the lock of trust directory `dir`. */
export async function withTrustLock<T>(
  dir: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(dir)) return fn();
  // in this process: after whatever holds or waits for this dir already
  const prev = queues.get(dir) ?? Promise.resolve();
  let release!: () => void;
  const turn = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => turn);
  queues.set(dir, tail);
  try {
    await prev;
    const file = join(dir, ".lock");
    await acquire(file, opts.waitMs ?? waitFromEnv());
    try {
      if (opts.leaf) return await fn();
      return await held.run(new Set([...(mine ?? []), dir]), fn);
    } finally {
      await rm(file, { force: true });
    }
  } finally {
    release();
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}

function waitFromEnv(): number {
  const s = Number(process.env.DOCKYARD_TRUST_LOCK_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : DEFAULT_WAIT_MS;
}

const me = () => `${process.pid} ${hostname()} ${Date.now()}\n`;

async function acquire(file: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delay = 2;
  let madeDir = false;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o600);
      try {
        await fh.writeFile(me());
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !madeDir) {
        await mkdir(join(file, ".."), { recursive: true, mode: 0o700 });
        madeDir = true;
        continue;
      }
      if (code !== "EEXIST") throw err;
    }
    const content = await readFile(file, "utf8").catch(() => undefined);
    if (content === undefined) continue; // released meanwhile: try again at once
    if (await isStale(file, content)) {
      await breakStale(file, content);
      continue;
    }
    if (Date.now() > deadline) {
      const [pid, host] = content.split(" ");
      throw new DockyardError(
        "TRUST",
        `the trust directory is busy: ${file} is held by process ${pid} on ${host} for more than ${Math.round(waitMs / 1000)} s (if no dockyard process is running there, remove the file)`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(100, delay * 2);
  }
}

async function isStale(file: string, content: string): Promise<boolean> {
  const [pidStr, host, timeStr] = content.trim().split(" ");
  const pid = Number(pidStr);
  const time = Number(timeStr);
  if (!Number.isInteger(pid) || pid <= 0 || !host || !Number.isFinite(time)) {
    // being written right now (open → write), or garbage: judge by the file's age
    const st = await stat(file).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > 5_000;
  }
  if (Date.now() - time > STALE_MS) return true;
  if (host !== hostname()) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Moves the stale lock aside (atomic), then checks it is the one judged stale: if another process
 * broke it and took the lock meanwhile, its lock is put back (link: never over a newer one).
 */
async function breakStale(file: string, content: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${Date.now()}`;
  try {
    await rename(file, aside);
  } catch {
    return; // gone already
  }
  const moved = await readFile(aside, "utf8").catch(() => undefined);
  if (moved !== undefined && moved !== content) await link(aside, file).catch(() => {});
  await rm(aside, { force: true });
}
