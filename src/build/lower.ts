// The merged view of a stack of overlay lowerdirs, looked up without mounting them, for COPY: it
// writes straight into a fresh upper dir and asks this view what the parent layers hold at the
// paths it writes (as overlayfs would show them: whiteouts hide, opaque directories cut off what
// is below). Mounting an overlay costs a step ~10 ms, and every file created through overlayfs
// costs more than on the plain filesystem. Whatever this view cannot answer the way overlayfs
// would (a symlink on the way, a directory to be replaced) throws NeedsOverlay: the step then
// runs again on a mounted overlay.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lchownSync,
  chmodSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  type Stats,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { OPAQUE_XATTR } from "./snapshot.js";
import { lstatOrUndefined } from "./fsutil.js";

/** This step needs a real overlay mount: the direct upper dir is thrown away and it runs again. */
export class NeedsOverlay extends Error {
  constructor(why: string) {
    super(`needs an overlay mount: ${why}`);
  }
}

export interface LowerEntry {
  /** Host path of the entry in the top-most layer that shows it. */
  host: string;
  st: Stats;
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** Is the directory marked opaque (trusted.overlay.opaque=y)? Asked only of a directory with layers below it. */
function isOpaque(dir: string): boolean {
  try {
    const v = execFileSync("getfattr", ["-h", "--absolute-names", "--only-values", "-n", OPAQUE_XATTR, dir], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    return v.toString("latin1") === "y";
  } catch (err) {
    // exit 1: no such attribute; getfattr missing: the overlay path reports that clearly
    if ((err as { status?: number }).status === 1) return false;
    throw new NeedsOverlay("cannot read opaque-directory markers");
  }
}

/** The parent of a relative path ("" for the root's children). */
function parentOf(rel: string): string {
  const d = posix.dirname(rel);
  return d === "." ? "" : d;
}

/** A relative path ("" for the root) from a container path. */
export function relOf(containerPath: string): string {
  return posix
    .normalize("/" + containerPath)
    .slice(1)
    .replace(/\/$/, "");
}

export class LowerView {
  /** rel → the layers (top-most first) in which rel is a directory the merged view shows, or null. */
  private readonly dirs = new Map<string, string[] | null>();
  /** Directories copied up into the upper dir (parents first). */
  private readonly materialized: string[] = [];

  /** `layers`: the lowerdirs, top-most first. `upper`: the fresh upper dir written to. */
  constructor(
    private readonly layers: string[],
    readonly upper: string,
    /** A layer dir's opaque directories when known (else they are read from its xattrs). */
    private readonly opaqueOf: (layerDir: string) => Set<string> | undefined = () => undefined,
  ) {}

  private opaque(layer: string, rel: string): boolean {
    const known = this.opaqueOf(layer);
    return known ? known.has(rel) : isOpaque(join(layer, rel));
  }

  /** The layers in which `rel` is a visible directory (top-most first); null when it is none. */
  private dirLayers(rel: string): string[] | null {
    if (rel === "") return this.layers;
    const known = this.dirs.get(rel);
    if (known !== undefined) return known;
    const parent = this.dirLayers(parentOf(rel));
    let out: string[] | null = null;
    if (parent) {
      const found: string[] = [];
      for (let i = 0; i < parent.length; i++) {
        const st = lstatOrUndefined(join(parent[i]!, rel));
        if (!st) continue;
        if (isWhiteout(st)) break;
        if (!st.isDirectory()) {
          // a directory above a non-directory hides it (overlayfs treats that one as opaque)
          if (found.length === 0 && st.isSymbolicLink())
            throw new NeedsOverlay(`/${rel} is a symlink in a parent layer`);
          break;
        }
        found.push(parent[i]!);
        if (i < parent.length - 1 && this.opaque(parent[i]!, rel)) break;
      }
      out = found.length ? found : null;
    }
    this.dirs.set(rel, out);
    return out;
  }

  /** What the parent layers show at `rel` (not following a symlink there); undefined when nothing. */
  lookup(rel: string): LowerEntry | undefined {
    if (rel === "") return undefined;
    const parent = this.dirLayers(parentOf(rel));
    if (!parent) return undefined;
    for (const layer of parent) {
      const host = join(layer, rel);
      const st = lstatOrUndefined(host);
      if (!st) continue;
      if (isWhiteout(st)) return undefined;
      return { host, st };
    }
    return undefined;
  }

  /**
   * Makes the upper dir show what the merged view shows at `rel` when that is a directory: the
   * directory (and its parents) copied up with their owner, mode and times, as overlayfs does
   * before writing into one. True when it did (or the upper dir already has one).
   */
  copyUpDir(rel: string): boolean {
    if (rel === "") return true;
    const host = join(this.upper, rel);
    const have = lstatOrUndefined(host);
    if (have) return have.isDirectory();
    const e = this.lookup(rel);
    if (!e || !e.st.isDirectory()) return false;
    const parent = parentOf(rel);
    if (!this.copyUpDir(parent)) return false;
    mkdirSync(host);
    lchownSync(host, e.st.uid, e.st.gid);
    chmodSync(host, e.st.mode & 0o7777);
    lutimesSync(host, e.st.atime, e.st.mtime);
    this.materialized.push(rel);
    return true;
  }

  /**
   * Prepares the container directory `dir` for mkdirAllInRoot on the upper dir: every component
   * the parent layers have as a directory is copied up; one they have as something else needs
   * the overlay (a symlink to follow, or the error about a non-directory).
   */
  prepareDir(dir: string): void {
    const parts = relOf(dir).split("/").filter(Boolean);
    let rel = "";
    for (const p of parts) {
      rel = rel ? `${rel}/${p}` : p;
      const here = lstatOrUndefined(join(this.upper, rel));
      if (here) {
        if (!here.isDirectory()) throw new NeedsOverlay(`/${rel} is not a directory`);
        continue;
      }
      const e = this.lookup(rel);
      if (!e) return; // missing here, so everything below is missing too: mkdir makes them
      if (!e.st.isDirectory())
        throw new NeedsOverlay(
          `/${rel} is ${e.st.isSymbolicLink() ? "a symlink" : "not a directory"} in a parent layer`,
        );
      this.copyUpDir(rel);
    }
  }

  /**
   * Prepares a destination path: its parents as in prepareDir; the path itself copied up when the
   * parent layers have a directory there, refused when they have a symlink (COPY follows it).
   */
  prepareTarget(path: string): void {
    const rel = relOf(path);
    const parent = parentOf(rel);
    this.prepareDir(parent);
    if (rel === "" || lstatOrUndefined(join(this.upper, rel))) return;
    const e = this.lookup(rel);
    if (!e) return;
    if (e.st.isSymbolicLink()) throw new NeedsOverlay(`/${rel} is a symlink in a parent layer`);
    if (e.st.isDirectory()) this.copyUpDir(rel);
  }

  /** A file of the merged view (for /etc/passwd and /etc/group), undefined when there is none. */
  async readFile(path: string): Promise<string | undefined> {
    const rel = relOf(path);
    if (existsSync(join(this.upper, rel))) return readFile(join(this.upper, rel), "utf8");
    const e = this.lookup(rel);
    if (!e) return undefined;
    if (e.st.isSymbolicLink()) throw new NeedsOverlay(`${path} is a symlink`);
    return e.st.isFile() ? readFile(e.host, "utf8") : undefined;
  }

  /**
   * Removes the copied-up directories nothing was written into (deepest first): overlayfs copies
   * a directory up only to write under it, and the layer must not list the others.
   */
  pruneCopiedUp(): void {
    for (const rel of [...this.materialized].reverse()) {
      const host = join(this.upper, rel);
      if (readdirSync(host).length === 0) rmdirSync(host);
    }
    this.materialized.length = 0;
  }
}
