import { readFile, readdir, rm } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { atomicWriteFile } from "../../util/fs.js";

/**
 * The little the trust server needs from storage: atomic whole-file put/get, list and recursive
 * delete under a prefix. The registry's storage driver provides this when the server is mounted
 * on the registry; `FsTrustStorage` is the stand-alone filesystem version.
 */
export interface TrustStorage {
  get(path: string): Promise<Uint8Array | undefined>;
  /**
   * Atomic: readers see the old or the new content, never a mix; durable when it resolves.
   * `secret` (private keys): readable by the server's user only.
   */
  put(path: string, data: Uint8Array, opts?: { secret?: boolean }): Promise<void>;
  list(prefix: string): Promise<string[]>;
  delete(prefix: string): Promise<void>;
}

export class FsTrustStorage implements TrustStorage {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  private p(path: string): string {
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep))
      throw new Error(`path escapes trust storage: ${path}`);
    return full;
  }
  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.p(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  async put(path: string, data: Uint8Array, opts: { secret?: boolean } = {}): Promise<void> {
    await atomicWriteFile(this.p(path), data, opts.secret ? { mode: 0o600 } : {});
  }
  async list(prefix: string): Promise<string[]> {
    try {
      return (await readdir(this.p(prefix))).filter((n) => !n.startsWith("."));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }
  async delete(prefix: string): Promise<void> {
    await rm(this.p(prefix), { recursive: true, force: true });
  }
}

/** In-memory storage for tests. */
export class MemoryTrustStorage implements TrustStorage {
  readonly files = new Map<string, Uint8Array>();
  async get(path: string) {
    return this.files.get(path);
  }
  async put(path: string, data: Uint8Array) {
    this.files.set(path, Buffer.from(data));
  }
  async list(prefix: string) {
    const pre = prefix.endsWith("/") ? prefix : prefix + "/";
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(pre)) names.add(k.slice(pre.length).split("/")[0]!);
    return [...names];
  }
  async delete(prefix: string) {
    for (const k of [...this.files.keys()])
      if (k === prefix || k.startsWith(prefix + "/")) this.files.delete(k);
  }
}

export function joinPath(...parts: string[]): string {
  return join(...parts)
    .split(sep)
    .join("/");
}
