import type { Stats } from "node:fs";
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  utimes,
  type FileHandle,
} from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { Readable } from "node:stream";
import { tempPathFor } from "../../util/fs.js";
import { DockyardError } from "../../image/errors.js";
import {
  PathNotFoundError,
  type FileInfo,
  type FileWriter,
  type RandomReader,
  type StorageDriver,
} from "./driver.js";

const READ_HWM = 1024 * 1024;
const READ_AHEAD = 4 * READ_HWM;
const WRITE_BATCH = 1024 * 1024;

function isENOENT(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Maps ENOSPC/EDQUOT to a clear STORAGE_FULL error; ENOENT to PathNotFoundError. */
export function mapFsError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOSPC" || code === "EDQUOT")
    return new DockyardError(
      "STORAGE_FULL",
      "the registry's storage is full: free disk space (or run 'dockyard registry gc') and retry",
    );
  if (isENOENT(err)) return new PathNotFoundError(path);
  return err;
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

class FsWriter implements FileWriter {
  size: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  /** One write in flight while the next batch fills (double buffering keeps the socket reading). */
  private inflight: Promise<void> | undefined;
  private failed: unknown;
  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    initial: number,
  ) {
    this.size = initial;
  }
  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.size += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH) {
      if (this.inflight) await this.inflight;
      if (this.failed) throw this.failed;
      this.inflight = this.flush().catch((err) => {
        this.failed = err;
      });
    }
  }
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    let list = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let total = 0;
      for (const b of list) total += b.length;
      let written = 0;
      // writev may write partially; loop until every byte is down.
      while (written < total) {
        const r = await this.fh.writev(list);
        written += r.bytesWritten;
        if (written < total) {
          let skip = r.bytesWritten;
          const rest: Buffer[] = [];
          for (const b of list) {
            if (skip >= b.length) {
              skip -= b.length;
              continue;
            }
            rest.push(skip ? b.subarray(skip) : b);
            skip = 0;
          }
          list = rest;
        }
      }
    } catch (err) {
      throw mapFsError(err, this.path);
    }
  }
  async commit(sync = true): Promise<void> {
    if (this.inflight) await this.inflight;
    if (this.failed) {
      await this.close();
      throw this.failed;
    }
    await this.flush();
    try {
      if (sync) await this.fh.sync();
    } catch (err) {
      throw mapFsError(err, this.path);
    }
    await this.close();
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inflight) await this.inflight;
    this.pending = [];
    await this.fh.close().catch(() => {});
  }
}

/**
 * Reads [start, end] of a file in 1 MiB reads while keeping up to 4 MiB buffered ahead, so disk
 * reads overlap with the socket draining (fs.ReadStream reads one highWaterMark at a time, which
 * serialises reading and sending).
 */
class FileRangeReader extends Readable {
  private pos: number;
  private reading = false;
  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: READ_AHEAD });
    this.pos = start;
  }
  override _read(): void {
    if (this.reading) return;
    const len = Math.min(READ_HWM, this.end + 1 - this.pos);
    if (len <= 0) {
      this.push(null);
      return;
    }
    this.reading = true;
    const buf = Buffer.allocUnsafe(len);
    this.fh.read(buf, 0, len, this.pos).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.destroyed) return;
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.pos += bytesRead;
        if (this.push(bytesRead < len ? buf.subarray(0, bytesRead) : buf)) this._read();
      },
      (err) => {
        this.reading = false;
        this.destroy(err as Error);
      },
    );
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

/**
 * Filesystem driver: files under `root`. Atomic writes are temp file (same directory) + fsync +
 * rename; temp files are dot-files, so `list` and `walk` never show them.
 */
export class FilesystemDriver implements StorageDriver {
  readonly name = "filesystem";
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  /** Absolute path on disk (for callers that need it: tests, gc). */
  fullPath(path: string): string {
    if (path.split("/").some((c) => c === ".." || c === "."))
      throw new DockyardError("PATH_ESCAPE", `storage path ${JSON.stringify(path)} is not allowed`);
    return path === "" ? this.root : join(this.root, path.split("/").join(sep));
  }

  async getContent(path: string): Promise<Buffer> {
    try {
      return await readFile(this.fullPath(path));
    } catch (err) {
      throw mapFsError(err, path);
    }
  }

  async putContent(
    path: string,
    data: Uint8Array | string,
    opts: { sync?: boolean; secret?: boolean } = {},
  ): Promise<void> {
    const target = this.fullPath(path);
    const tmp = tempPathFor(target);
    const sync = opts.sync !== false;
    const mode = opts.secret ? 0o600 : 0o644;
    let fh: FileHandle;
    try {
      fh = await open(tmp, "w", mode);
    } catch (err) {
      if (!isENOENT(err)) throw mapFsError(err, path);
      await mkdir(dirname(target), { recursive: true }).catch((e) => {
        throw mapFsError(e, path);
      });
      fh = await open(tmp, "w", mode).catch((e) => {
        throw mapFsError(e, path);
      });
    }
    try {
      if (opts.secret) await fh.chmod(0o600); // exact, whatever the umask
      await fh.writeFile(data);
      if (sync) await fh.sync();
      await fh.close();
      await rename(tmp, target);
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw mapFsError(err, path);
    }
  }

  async reader(path: string, offset = 0, end?: number): Promise<Readable> {
    const full = this.fullPath(path);
    let fh: FileHandle;
    try {
      fh = await open(full, "r");
    } catch (err) {
      throw mapFsError(err, path);
    }
    let stop = end;
    if (stop === undefined) {
      try {
        stop = (await fh.stat()).size - 1;
      } catch (err) {
        await fh.close().catch(() => {});
        throw mapFsError(err, path);
      }
    }
    return new FileRangeReader(fh, offset, stop);
  }

  async openRandom(path: string): Promise<RandomReader> {
    let fh: FileHandle;
    try {
      fh = await open(this.fullPath(path), "r");
    } catch (err) {
      throw mapFsError(err, path);
    }
    const size = (await fh.stat()).size;
    return {
      size,
      read: async (buf, length, position) => (await fh.read(buf, 0, length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const full = this.fullPath(path);
    let fh: FileHandle;
    const flags = append ? "a" : "w";
    try {
      fh = await open(full, flags, 0o644);
    } catch (err) {
      if (!isENOENT(err)) throw mapFsError(err, path);
      await mkdir(dirname(full), { recursive: true });
      fh = await open(full, flags, 0o644).catch((e) => {
        throw mapFsError(e, path);
      });
    }
    const size = append ? (await fh.stat()).size : 0;
    return new FsWriter(fh, path, size);
  }

  async stat(path: string): Promise<FileInfo> {
    let st: Stats;
    try {
      st = await stat(this.fullPath(path));
    } catch (err) {
      throw mapFsError(err, path);
    }
    return { path, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, isDir: st.isDirectory() };
  }

  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(this.fullPath(path))).filter((n) => !n.startsWith("."));
    } catch (err) {
      if (isENOENT(err)) return [];
      throw mapFsError(err, path);
    }
  }

  async move(source: string, dest: string, opts: { sync?: boolean } = {}): Promise<void> {
    const from = this.fullPath(source);
    const to = this.fullPath(dest);
    try {
      await rename(from, to);
    } catch (err) {
      if (!isENOENT(err)) throw mapFsError(err, source);
      // The destination's parent may be missing; the source missing is a real error.
      await stat(from).catch((e) => {
        throw mapFsError(e, source);
      });
      await mkdir(dirname(to), { recursive: true });
      await rename(from, to).catch((e) => {
        throw mapFsError(e, source);
      });
    }
    if (opts.sync) await fsyncPath(dirname(to)).catch(() => {});
  }

  async delete(path: string): Promise<void> {
    await rm(this.fullPath(path), { recursive: true, force: true });
  }

  async walk(path: string, fn: (info: FileInfo) => Promise<void | "skip"> | void | "skip"): Promise<void> {
    const full = this.fullPath(path);
    let entries;
    try {
      entries = await readdir(full, { withFileTypes: true });
    } catch (err) {
      if (isENOENT(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const child = path ? `${path}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      let size = 0;
      let mtimeMs = 0;
      if (!isDir) {
        try {
          const st = await stat(join(full, e.name));
          size = st.size;
          mtimeMs = st.mtimeMs;
        } catch {
          continue;
        }
      }
      const r = await fn({ path: child, size, mtimeMs, isDir });
      if (isDir && r !== "skip") await this.walk(child, fn);
    }
  }

  async touch(path: string): Promise<void> {
    const now = new Date();
    try {
      await utimes(this.fullPath(path), now, now);
    } catch (err) {
      throw mapFsError(err, path);
    }
  }

  async truncate(path: string, size: number): Promise<void> {
    try {
      await truncate(this.fullPath(path), size);
    } catch (err) {
      throw mapFsError(err, path);
    }
  }
}
