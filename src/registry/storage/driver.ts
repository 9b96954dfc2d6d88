import type { Readable } from "node:stream";

/**
 * The storage driver interface, modelled on distribution's `storagedriver.StorageDriver`.
 * Paths are '/'-separated, relative to the driver's root, never contain `..` and never start
 * with '/'. Every `putContent` and every committed writer is atomic: readers see the old
 * content or the new content, never a mix, even after a crash (kill -9) at any moment.
 *
 * The repository-metadata layer (`../store.ts`) is the only user of this interface in the
 * HTTP path, so an object-store driver later does not touch the HTTP layer.
 */
export interface StorageDriver {
  readonly name: string;
  /** The whole content of a small file; throws PathNotFoundError. */
  getContent(path: string): Promise<Buffer>;
  /** Atomically replaces the content of `path` (creating parents). */
  /** `secret`: readable by the registry's user only (0600 on a filesystem), from its creation on. */
  putContent(
    path: string,
    data: Uint8Array | string,
    opts?: { sync?: boolean; secret?: boolean },
  ): Promise<void>;
  /** A stream of the file from `offset` (to `end` inclusive when given). Throws PathNotFoundError. */
  reader(path: string, offset?: number, end?: number): Promise<Readable>;
  /**
   * A writer at `path`. With `append` the writer continues an existing file (resumable
   * uploads); the content becomes durable only on `commit()`.
   */
  writer(path: string, append: boolean): Promise<FileWriter>;
  /** Size and modification time; throws PathNotFoundError. */
  stat(path: string): Promise<FileInfo>;
  /** Direct children names of a directory (no dot-files); [] when it does not exist. */
  list(path: string): Promise<string[]>;
  /** Atomically moves a file or directory, replacing a file at `dest`. */
  move(source: string, dest: string, opts?: { sync?: boolean }): Promise<void>;
  /** Deletes a file or a whole directory tree; no error when absent. */
  delete(path: string): Promise<void>;
  /** Calls `fn` for every file and directory under `path` (depth first, no dot-files). */
  walk(path: string, fn: (info: FileInfo) => Promise<void | "skip"> | void | "skip"): Promise<void>;
  /** Updates the modification time (used by gc's generation scheme); throws PathNotFoundError. */
  touch(path: string): Promise<void>;
  /**
   * Optional random-access reads (lets the HTTP layer reuse a small pool of buffers instead of a
   * fresh buffer per chunk). Throws PathNotFoundError.
   */
  openRandom?(path: string): Promise<RandomReader>;
  /** Truncates a file to `size` bytes (rolling back a failed upload chunk). */
  truncate(path: string, size: number): Promise<void>;
}

export interface RandomReader {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `buf` (from 0); resolves to the byte count. */
  read(buf: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface FileInfo {
  path: string;
  size: number;
  mtimeMs: number;
  /** Inode change time where the backend has one (rename and touch update it); gc uses it. */
  ctimeMs?: number;
  isDir: boolean;
}

export interface FileWriter {
  /** Bytes in the file (including what was there before when appending). */
  readonly size: number;
  write(chunk: Buffer): Promise<void>;
  /** Flushes and fsyncs (when `sync`), then closes. */
  commit(sync?: boolean): Promise<void>;
  /** Closes without guarantees; the caller deletes or truncates. */
  close(): Promise<void>;
}

export class PathNotFoundError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`path not found: ${path}`);
    this.name = "PathNotFoundError";
    this.path = path;
  }
}

export function isPathNotFound(err: unknown): err is PathNotFoundError {
  return err instanceof PathNotFoundError;
}
