import { open, rename, mkdir, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join, basename } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable, Transform } from "node:stream";

/** A temp path beside `target`, so the final rename stays on one filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `target` atomically: temp file, fsync, rename, fsync of the directory.
 * `mkdir: false` skips creating the directory (the caller knows it exists).
 */
export async function atomicWriteFile(
  target: string,
  data: Uint8Array | string,
  /** `mode`: the file's permissions from its creation on (0600 for secrets: never readable by others, even briefly). */
  opts: { fsync?: boolean; mkdir?: boolean; mode?: number } = {},
): Promise<void> {
  const fsync = opts.fsync !== false;
  if (opts.mkdir !== false) await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const mode = opts.mode ?? 0o644;
  const fh = await open(tmp, "w", mode);
  try {
    if (opts.mode !== undefined) await fh.chmod(mode); // exact, whatever the umask
    await fh.writeFile(data);
    if (fsync) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (fsync) await fsyncDir(dirname(target));
}

/**
 * Streams into `target` atomically (through `through`, e.g. a verifier); on any error the temp file
 * is removed and `target` is untouched.
 */
export async function atomicWriteStream(
  target: string,
  source: Readable | NodeJS.ReadableStream,
  opts: { fsync?: boolean; through?: Transform[] } = {},
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  // The temp file exists before any byte flows, and the stream opens it without O_CREAT: a write
  // stream opens lazily, so a source that failed at once could reject before that open, and an
  // O_CREAT open would then recreate the file after our cleanup. (A FileHandle's stream with
  // autoClose: false has no lazy open, but its pipeline never settles behind a Transform.)
  try {
    await (await open(tmp, "w", 0o644)).close();
    await pipeline([source as Readable, ...(opts.through ?? []), createWriteStream(tmp, { flags: "r+" })]);
    if (opts.fsync !== false) {
      const fh = await open(tmp, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
