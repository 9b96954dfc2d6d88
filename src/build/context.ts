// The build context: the files COPY/ADD may read, after .dockerignore, with a persistent stat
// cache (path, size, mtime, inode, mode → content digest), so a no-change rebuild re-reads no file
// and an edit re-hashes only what changed.
import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync, readlinkSync, readFileSync } from "node:fs";
import { lstat, readFile, realpath } from "node:fs/promises";
import { join, posix, dirname, basename } from "node:path";
import { atomicWriteFile } from "../util/fs.js";
import { DockyardError } from "../image/errors.js";
import { PatternMatcher, parseDockerignore } from "./dockerignore.js";
import { mapLimit } from "./util.js";

export interface ContextEntry {
  /** Slash path relative to the context root ("" is the root). */
  rel: string;
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
  linkname?: string;
  /** Content digest (files only), filled lazily. */
  digest?: string;
}

type StatRow = [size: number, mtimeMs: number, ino: number, mode: number, digest: string];

export interface ContextOptions {
  /** The Dockerfile path: `<Dockerfile>.dockerignore` beside it wins over `.dockerignore`. */
  dockerfile?: string;
  /** Where the stat cache lives (a file per context directory). */
  cacheDir?: string;
}

export async function readIgnoreFile(root: string, dockerfile?: string): Promise<string[]> {
  const candidates: string[] = [];
  if (dockerfile) candidates.push(join(dirname(dockerfile), basename(dockerfile) + ".dockerignore"));
  candidates.push(join(root, ".dockerignore"));
  for (const c of candidates) {
    try {
      return parseDockerignore(await readFile(c, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return [];
}

export class BuildContext {
  readonly entries = new Map<string, ContextEntry>();
  private statCache = new Map<string, StatRow>();
  private statCachePath?: string;
  private dirty = false;
  hashedFiles = 0;

  private constructor(
    readonly root: string,
    readonly matcher: PatternMatcher,
  ) {}

  /** Walks the context once (stat only), applying .dockerignore like BuildKit's fsutil walker. */
  static async load(dir: string, opts: ContextOptions = {}): Promise<BuildContext> {
    let root: string;
    try {
      root = await realpath(dir);
      if (!(await lstat(root)).isDirectory()) throw new Error("not a directory");
    } catch {
      throw new DockyardError("NOT_FOUND", `build context ${dir} is not a directory`);
    }
    const ctx = new BuildContext(root, new PatternMatcher(await readIgnoreFile(root, opts.dockerfile)));
    if (opts.cacheDir) {
      const key = createHash("sha256").update(root).digest("hex").slice(0, 32);
      ctx.statCachePath = join(opts.cacheDir, `${key}.json`);
      try {
        const rows = JSON.parse(await readFile(ctx.statCachePath, "utf8")) as Record<string, StatRow>;
        for (const [k, v] of Object.entries(rows)) ctx.statCache.set(k, v);
      } catch {
        /* none yet */
      }
    }
    const rootSt = await lstat(root);
    ctx.entries.set("", {
      rel: "",
      type: "dir",
      mode: rootSt.mode,
      size: 0,
      mtimeMs: rootSt.mtimeMs,
      ino: rootSt.ino,
    });
    ctx.walk("");
    return ctx;
  }

  /**
   * Returns true when something under `rel` was included. Sync on purpose: thousands of lstat
   * calls. `hits`: which .dockerignore patterns match `rel` or a parent (see parentHits).
   */
  private walk(rel: string, hits: boolean[] = this.matcher.parentHits("")): boolean {
    const abs = rel ? `${this.root}/${rel}` : this.root;
    let any = false;
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const name = d.name;
      const r = rel ? `${rel}/${name}` : name;
      const excluded = this.matcher.matchesIn(r, hits);
      // an excluded file, or an excluded directory nothing can re-include, is not even stat'ed
      // (a filesystem that does not report entry types gets the lstat)
      if (excluded) {
        if (d.isDirectory() ? !this.matcher.mayReincludeUnder(r) : d.isFile() || d.isSymbolicLink()) continue;
      }
      const path = `${abs}/${name}`;
      const st = lstatSync(path);
      if (st.isDirectory()) {
        const e: ContextEntry = {
          rel: r,
          type: "dir",
          mode: st.mode,
          size: 0,
          mtimeMs: st.mtimeMs,
          ino: st.ino,
        };
        this.entries.set(r, e);
        const child = this.walk(r, this.matcher.parentHits(r, hits));
        if (excluded && !child) {
          this.entries.delete(r);
          continue;
        }
        any = true;
        continue;
      }
      if (excluded) continue; // raced: it was a directory when listed
      const e: ContextEntry = {
        rel: r,
        type: st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other",
        mode: st.mode,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      };
      if (e.type === "symlink") e.linkname = readlinkSync(path);
      this.entries.set(r, e);
      any = true;
    }
    return any;
  }

  /** Content digest of a file entry, from the stat cache when size/mtime/inode/mode are unchanged. */
  async fileDigest(e: ContextEntry): Promise<string> {
    const cached = this.cachedDigest(e);
    if (cached !== undefined) return cached;
    const h = createHash("sha256");
    if (e.size <= 4 << 20) h.update(readFileSync(join(this.root, e.rel)));
    else
      await new Promise<void>((resolve, reject) => {
        const s = createReadStream(join(this.root, e.rel));
        s.on("data", (c) => h.update(c));
        s.on("end", resolve);
        s.on("error", reject);
      });
    this.hashedFiles++;
    e.digest = "sha256:" + h.digest("hex");
    this.statCache.set(e.rel, [e.size, e.mtimeMs, e.ino, e.mode, e.digest]);
    this.dirty = true;
    return e.digest;
  }

  /** Every entry sorted by path (made once: the entries do not change after the walk). */
  private sortedCache?: ContextEntry[];
  private sorted(): ContextEntry[] {
    return (this.sortedCache ??= [...this.entries.values()].sort((a, b) =>
      a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0,
    ));
  }

  /** Index of the first sorted entry whose path is not less than `key` (binary search). */
  private lowerBound(key: string): number {
    const list = this.sorted();
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.rel < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The included entries at and under `rel` (the root is ""), sorted by path. */
  under(rel: string): ContextEntry[] {
    const list = this.sorted();
    if (rel === "") return [...list];
    const out: ContextEntry[] = [];
    const self = this.entries.get(rel);
    if (self) out.push(self);
    // "rel/…" are contiguous in path order, from "rel/" up to (not including) "rel0" ('0' follows
    // '/'); "rel" itself sorts before all of them
    const end = this.lowerBound(rel + "0");
    for (let i = this.lowerBound(rel + "/"); i < end; i++) out.push(list[i]!);
    return out;
  }

  /** The digest the stat cache holds for a file entry whose size, mtime, inode and mode are unchanged. */
  private cachedDigest(e: ContextEntry): string | undefined {
    if (e.digest) return e.digest;
    const row = this.statCache.get(e.rel);
    if (row && row[0] === e.size && row[1] === e.mtimeMs && row[2] === e.ino && row[3] === e.mode)
      return (e.digest = row[4]);
    return undefined;
  }

  /**
   * A digest of the entries at and under each of `rels` (paths, modes, symlink targets, file
   * contents): the "inputs" part of a COPY's cache key.
   */
  async digestOf(rels: string[]): Promise<string> {
    const h = createHash("sha256");
    for (const rel of rels) {
      const list = this.under(rel);
      // what the stat cache answers is taken at once; only the rest is read (16 files at a time)
      const digests: string[] = new Array<string>(list.length);
      const misses: number[] = [];
      list.forEach((e, i) => {
        if (e.type !== "file") digests[i] = "";
        else {
          const d = this.cachedDigest(e);
          if (d !== undefined) digests[i] = d;
          else misses.push(i);
        }
      });
      if (misses.length)
        await mapLimit(misses, 16, async (i) => {
          digests[i] = await this.fileDigest(list[i]!);
        });
      h.update(`@${rel}\n`);
      let chunk = "";
      list.forEach((e, i) => {
        chunk += `${e.rel}\0${e.type}\0${(e.mode & 0o7777).toString(8)}\0${e.linkname ?? ""}\0${digests[i]}\n`;
        if (chunk.length > 1 << 16) {
          h.update(chunk);
          chunk = "";
        }
      });
      if (chunk) h.update(chunk);
    }
    return "sha256:" + h.digest("hex");
  }

  /** Saves the stat cache if anything was hashed. */
  async save(): Promise<void> {
    if (!this.statCachePath || !this.dirty) return;
    const rows: Record<string, StatRow> = {};
    for (const rel of this.entries.keys()) {
      const r = this.statCache.get(rel);
      if (r) rows[rel] = r;
    }
    await atomicWriteFile(this.statCachePath, JSON.stringify(rows), { fsync: false });
    this.dirty = false;
  }

  /**
   * Resolves a COPY source (relative to the context, may contain globs) to context entries.
   * Symlinks on the way are followed only inside the context (chroot-like), never out of it.
   */
  async resolveSources(src: string): Promise<ContextEntry[]> {
    const clean = posix
      .normalize("/" + src)
      .slice(1)
      .replace(/\/+$/, "");
    if (hasGlob(clean)) {
      const re = globToRegex(clean);
      const hits = [...this.entries.values()].filter((e) => e.rel !== "" && re.test(e.rel));
      return hits.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    }
    if (clean === "") return [this.entries.get("")!];
    const e = await this.followInContext(clean);
    return e ? [e] : [];
  }

  /** Follows symlinks of `rel` (and its parents) inside the context; undefined when it does not exist. */
  async followInContext(rel: string): Promise<ContextEntry | undefined> {
    const parts = rel.split("/").filter(Boolean);
    const resolved: string[] = [];
    let hops = 0;
    while (parts.length) {
      const p = parts.shift()!;
      if (p === ".") continue;
      if (p === "..") {
        resolved.pop();
        continue;
      }
      const r = [...resolved, p].join("/");
      const e = this.entries.get(r);
      if (!e) return undefined;
      if (e.type === "symlink") {
        if (++hops > 64) throw new DockyardError("PATH_ESCAPE", `too many symlinks resolving ${rel}`);
        const t = e.linkname!;
        if (t.startsWith("/")) resolved.length = 0;
        parts.unshift(...t.split("/").filter(Boolean));
        continue;
      }
      resolved.push(p);
    }
    return this.entries.get(resolved.join("/"));
  }
}

export function hasGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

/** filepath.Match semantics per path segment (`*` and `?` never cross `/`). */
export function globToRegex(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith("^") || cls.startsWith("!")) cls = "^" + cls.slice(1);
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (ch === "\\" && i + 1 < pattern.length) re += "\\" + pattern[++i];
    else if (/[.+^${}()|\]\\]/.test(ch)) re += "\\" + ch;
    else re += ch;
  }
  return new RegExp(re + "$", "s");
}
