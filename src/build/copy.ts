// COPY/ADD file semantics (BuildKit's fileop / fsutil copy): a file source lands at dest (or inside
// it when dest is a directory or ends with "/"); a directory source has its contents copied;
// modes and mtimes are kept, owners become --chown (default 0:0), --chmod replaces the mode of
// everything copied; missing parents are created 0755 owned by the --chown user.
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, rm, writeFile } from "node:fs/promises";
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { join, normalize, posix } from "node:path";
import { DockyardError } from "../image/errors.js";
import { lstatOrUndefined, resolveInRoot } from "./fsutil.js";
import { compilePattern } from "./dockerignore.js";
import { carriedXattr, decodeGetfattrName, getfattr, quoteGetfattrName, restoreXattrs } from "./snapshot.js";
import { NeedsOverlay, type LowerView } from "./lower.js";

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOpts {
  /** Root of the destination filesystem (the merged overlay). */
  root: string;
  owner?: Owner;
  /** Mode transform from --chmod. */
  chmod?: (mode: number, isDir: boolean) => number;
  /** Set when a directory was removed (the overlay may then have made an opaque directory). */
  removedDir?: boolean;
  /** Collects what was copied so its extended attributes follow (flushXattrs). */
  xattrs?: XattrCopy;
  /** `root` is a fresh upper dir, not a merged mount: what the parent layers hold is asked here. */
  lower?: LowerView;
}

/** What the parent layers show at `dstHost` (under `o.root`) when writing into an upper dir directly. */
function lowerAt(o: CopyOpts, dstHost: string) {
  if (!o.lower || !dstHost.startsWith(o.root + "/")) return undefined;
  return o.lower.lookup(dstHost.slice(o.root.length + 1));
}

/**
 * Extended attributes of copied files and created directories (user.*, security.capability,
 * ACLs, trusted.*: what a layer carries, see carriedXattr), set on the copies as BuildKit's COPY
 * does (fsutil copies every attribute of the source). Collected during a step's copies and applied
 * with getfattr on exactly the copied paths and one setfattr run, after the owners are set (a
 * chown drops security.capability).
 */
export class XattrCopy {
  /** Source host path → the copy's host path (files and the directories the copy created). */
  readonly pairs = new Map<string, string>();
  /** Some attribute was set (the layer diff must then read them: DiffOptions.opaque). */
  applied = false;
  /** Dumps read ahead (while the copy runs), and the source paths they cover. */
  private readonly ahead: Promise<string>[] = [];
  private readonly covered = new Set<string>();

  /** Starts reading the attributes of source paths about to be copied (the copy need not wait). */
  prefetch(paths: string[]): void {
    for (const chunk of argChunks(paths.filter((p) => !this.covered.has(p)))) {
      const dump = getfattrOf(chunk);
      dump.catch(() => {}); // awaited by flushXattrs
      this.ahead.push(dump);
      for (const p of chunk) this.covered.add(p);
    }
  }

  /** The read-ahead dumps, and what of `srcs` they do not cover. */
  async takeAhead(srcs: string[]): Promise<{ dumps: string[]; rest: string[] }> {
    const dumps = await Promise.all(this.ahead.splice(0));
    const rest = srcs.filter((s) => !this.covered.has(s));
    this.covered.clear();
    return { dumps, rest };
  }
}

/** `getfattr -d` of exactly these paths (not recursive: what was excluded is never read). */
function getfattrOf(paths: string[]): Promise<string> {
  return getfattr(["-d", "-m", "-", "--", ...paths]);
}

/** Argument lists of at most ~96 KiB. */
function argChunks(paths: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < paths.length;) {
    const chunk: string[] = [];
    for (let bytes = 0; i < paths.length && (chunk.length === 0 || bytes < 96 << 10); i++) {
      chunk.push(paths[i]!);
      bytes += Buffer.byteLength(paths[i]!) + 3;
    }
    out.push(chunk);
  }
  return out;
}

/** Copies the collected extended attributes onto the copies (and forgets them). */
export async function flushXattrs(o: CopyOpts): Promise<void> {
  const x = o.xattrs;
  if (!x || x.pairs.size === 0) return;
  const pairs = new Map(x.pairs);
  x.pairs.clear();
  const dump: string[] = [];
  const { dumps, rest } = await x.takeAhead([...pairs.keys()]);
  for (const chunk of argChunks(rest)) dumps.push(await getfattrOf(chunk));
  for (const out of dumps) {
    let dst: string | undefined;
    let list: string[] = [];
    const end = () => {
      if (dst && list.length) dump.push(`# file: ${quoteGetfattrName(dst)}\n${list.join("")}\n`);
      list = [];
    };
    for (const line of out.split("\n")) {
      if (line.startsWith("# file: ")) {
        end();
        dst = pairs.get(decodeGetfattrName(line.slice(8)));
        continue;
      }
      const eq = line.indexOf("=");
      if (!dst || eq <= 0) continue;
      if (carriedXattr(line.slice(0, eq))) list.push(line + "\n");
    }
    end();
  }
  if (dump.length) {
    await restoreXattrs(dump.join(""));
    x.applied = true;
  }
}

/** Creates missing directories of `containerDir` (inside `root`) like fsutil MkdirAll: 0755, owned by `owner`. */
export async function mkdirAllInRoot(
  root: string,
  containerDir: string,
  owner?: Owner,
  mtime?: Date,
): Promise<string> {
  const parts = posix
    .normalize("/" + containerDir)
    .split("/")
    .filter(Boolean);
  let cur = "/";
  let host = root;
  for (const p of parts) {
    cur = posix.join(cur, p);
    host = await resolveInRoot(root, cur);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st)
      throw new DockyardError(
        "USAGE",
        `cannot copy to ${containerDir}: ${cur} exists and is not a directory`,
      );
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    if (owner) await lchown(host, owner.uid, owner.gid);
    if (mtime) await lutimes(host, mtime, mtime);
  }
  return host;
}

/** A source for copyTree: a host path (file, dir or symlink) to copy. */
export interface TreeSource {
  /** Host path of the source. */
  path: string;
  /** When copying from the build context, which relative paths are included (.dockerignore). */
  include?: (relUnderSource: string) => boolean;
}

function copyMetaSync(
  dst: string,
  st: { mode: number; mtime: Date },
  isDir: boolean,
  o: CopyOpts,
  keepOwner?: Owner,
): void {
  const owner = o.owner ?? keepOwner ?? { uid: 0, gid: 0 };
  lchownSync(dst, owner.uid, owner.gid);
  const mode = o.chmod ? o.chmod(st.mode & 0o7777, isDir) : st.mode & 0o7777;
  chmodSync(dst, mode);
  lutimesSync(dst, st.mtime, st.mtime);
}

/** One reused buffer for file copies: a file of up to 1 MiB is one read and one write. */
let copyBuf: Buffer | undefined;

/**
 * Copies a regular file's content to a new file `dst` (which must not exist) and sets its owner,
 * mode and mtime through the open descriptor. Plain read/write on purpose: through an overlay
 * mount copyFileSync's FICLONE attempt fails and its fallback costs 2× this (issue #5), and the
 * f* calls save a path walk through the overlay each.
 */
function copyFileContentSync(
  src: string,
  dst: string,
  st: { mode: number; mtime: Date },
  o: CopyOpts,
  keepOwner?: Owner,
): void {
  const buf = (copyBuf ??= Buffer.allocUnsafe(1 << 20));
  const fi = openSync(src, "r");
  try {
    // "wx": O_CREAT|O_EXCL, never follows a symlink left at dst
    const fo = openSync(dst, "wx", 0o600);
    try {
      for (;;) {
        const n = readSync(fi, buf, 0, buf.length, null);
        if (n === 0) break;
        for (let off = 0; off < n;) off += writeSync(fo, buf, off, n - off);
      }
      const owner = o.owner ?? keepOwner ?? { uid: 0, gid: 0 };
      fchownSync(fo, owner.uid, owner.gid);
      // after chown, which clears set-id bits
      fchmodSync(fo, o.chmod ? o.chmod(st.mode & 0o7777, false) : st.mode & 0o7777);
      futimesSync(fo, st.mtime, st.mtime);
    } finally {
      closeSync(fo);
    }
  } finally {
    closeSync(fi);
  }
}

/**
 * Copies `srcHost` (already resolved; a file, dir or symlink) to the host path `dstHost`.
 * Directories merge into an existing directory. Symlinks inside are copied as links, never followed.
 * `preserveOwner` keeps the source's uid/gid (COPY --from without --chown, ADD archives).
 * Sync fs calls on purpose: COPY of thousands of small files is bound by per-call overhead.
 */
export async function copyEntry(
  srcHost: string,
  dstHost: string,
  o: CopyOpts,
  include?: (rel: string) => boolean,
  rel = "",
  preserveOwner = false,
): Promise<number> {
  if (o.xattrs) srcHost = normalize(srcHost).replace(/(.)\/+$/, "$1");
  return copyEntrySync(srcHost, dstHost, o, include, rel, preserveOwner);
}

export function copyEntrySync(
  srcHost: string,
  dstHost: string,
  o: CopyOpts,
  include?: (rel: string) => boolean,
  rel = "",
  preserveOwner = false,
): number {
  const st = lstatSync(srcHost);
  const keep = preserveOwner ? { uid: st.uid, gid: st.gid } : undefined;
  let count = 0;
  let existing = lstatOrUndefined(dstHost);
  if (!existing && o.lower) {
    const below = lowerAt(o, dstHost);
    if (below?.st.isDirectory()) {
      // a file over a directory is refused on the overlay (with the error users know)
      if (!st.isDirectory()) throw new NeedsOverlay(`a file over the directory ${dstHost}`);
      o.lower.copyUpDir(dstHost.slice(o.root.length + 1));
      existing = lstatSync(dstHost);
    }
  }
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dstHost, { force: true });
    const created = !existing || !existing.isDirectory();
    if (created) mkdirSync(dstHost);
    for (const name of readdirSync(srcHost).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (include && !include(r)) continue;
      count += copyEntrySync(join(srcHost, name), join(dstHost, name), o, include, r, preserveOwner);
    }
    // a directory that already exists keeps its metadata (as BuildKit's copy does)
    if (created) {
      copyMetaSync(dstHost, st, true, o, keep);
      o.xattrs?.pairs.set(srcHost, dstHost);
    }
    return count + 1;
  }
  if (existing) {
    if (existing.isDirectory())
      throw new DockyardError("USAGE", `cannot copy a file over the directory ${dstHost}`);
    rmSync(dstHost, { force: true });
  }
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(srcHost), dstHost);
    const owner = o.owner ?? keep ?? { uid: 0, gid: 0 };
    lchownSync(dstHost, owner.uid, owner.gid);
    lutimesSync(dstHost, st.mtime, st.mtime);
    return 1;
  }
  if (st.isFile()) {
    copyFileContentSync(srcHost, dstHost, st, o, keep);
    o.xattrs?.pairs.set(srcHost, dstHost);
    return 1;
  }
  return 0; // devices, sockets and fifos are not copied from a context
}

/** Writes a heredoc (or downloaded) file. */
export async function writeFileEntry(
  dstHost: string,
  /** The bytes, or a file holding them (copied, never read into memory). */
  data: string | Uint8Array | { file: string },
  o: CopyOpts,
  mode = 0o644,
  mtime?: Date,
) {
  const existing = await lstat(dstHost).catch(() => undefined);
  if (!existing && lowerAt(o, dstHost)?.st.isDirectory())
    throw new NeedsOverlay(`a file over the directory ${dstHost}`); // it leaves an opaque directory
  if (existing?.isDirectory()) o.removedDir = true;
  if (existing) await rm(dstHost, { recursive: true, force: true });
  if (typeof data === "object" && "file" in data) await copyFile(data.file, dstHost);
  else await writeFile(dstHost, data);
  const owner = o.owner ?? { uid: 0, gid: 0 };
  await lchown(dstHost, owner.uid, owner.gid);
  await chmod(dstHost, o.chmod ? o.chmod(mode, false) : mode);
  if (mtime) await lutimes(dstHost, mtime, mtime);
}

// ------------------------------------------------------------------ COPY --parents with patterns
/**
 * COPY --parents SRC: BuildKit copies from the part before the first `/./` (the pivot, itself
 * globbed per segment; the root without one) with the part after it as an include pattern
 * (moby/patternmatcher: `*` and `?` stay in a segment, `**` spans directories, `**∕` also matches
 * none), so the path under the pivot is kept at the destination. A matched directory brings
 * everything under it; the directories on the way are recreated like the source's.
 */
export interface ParentsPattern {
  /** Does `rel` (a path under the pivot) match? */
  test(rel: string): boolean;
  /** The pattern's leading literal directories: nothing outside them can match. */
  base: string;
}

export function parentsPattern(pattern: string): ParentsPattern {
  const re = compilePattern(pattern).regex;
  const segs = pattern.split("/").filter(Boolean);
  const base: string[] = [];
  for (const s of segs.slice(0, -1)) {
    if (/[*?[\\]/.test(s)) break;
    base.push(s);
  }
  return { test: (rel) => rel !== "" && re.test(rel), base: base.join("/") };
}

/**
 * The paths of `rels` (under one pivot) the pattern takes, without those under a taken directory
 * (its copy brings them), in sorted order.
 */
export function selectParents(rels: Iterable<string>, p: ParentsPattern): string[] {
  const taken = new Set<string>();
  const out: string[] = [];
  const sorted = [...rels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const r of sorted) {
    let under = false;
    for (let i = r.indexOf("/"); i >= 0; i = r.indexOf("/", i + 1))
      if (taken.has(r.slice(0, i))) {
        under = true;
        break;
      }
    if (under || !p.test(r)) continue;
    taken.add(r);
    out.push(r);
  }
  return out;
}

/** Every path under the host directory `dir` (relative to it, symlinks not followed). */
export function walkRelSync(dir: string, prefix = "", out: string[] = []): string[] {
  let ents;
  try {
    ents = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) walkRelSync(join(dir, e.name), rel, out);
  }
  return out;
}
