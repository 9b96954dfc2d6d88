// Snapshots: a step's rootfs is an overlayfs mount (lowerdirs = the parent layers, each extracted
// once into a directory named by its diffID; upper = a new dir). The upper dir after the step is
// the new layer: it is turned into a tar with whiteouts, and (renamed) becomes the next lowerdir.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import {
  chmodSync,
  closeSync,
  createWriteStream,
  readFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { TarWriter } from "./tarwriter.js";
import { readTar } from "./tarreader.js";
import { mkdir, mkdtemp, open, rename, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { SegmentedGzip } from "./gzip-segments.js";
import { Digester, type Digest } from "../image/digest.js";
import { DockyardError } from "../image/errors.js";
import { cleanRelative, lstatOrUndefined } from "./fsutil.js";
import { registerCleanup, tempPrefix } from "./cleanup.js";
import { runCommand } from "./helper.js";

const execFileP = promisify(execFile);

export const OPAQUE_XATTR = "trusted.overlay.opaque";

// ---------------------------------------------------------------- overlay mounts

export interface Mounted {
  merged: string;
  upper: string;
  dir: string;
  /**
   * Unmounts; with `keepUpper` the upper dir is left for the caller to move; everything else is
   * removed. Rejects when the overlay could not be unmounted (it is then left, and nothing under
   * `dir` may be deleted: that would delete through the mount).
   */
  release(opts?: { keepUpper?: boolean }): Promise<void>;
}

function isMounted(path: string): boolean {
  try {
    return readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .some((l) => l.split(" ")[1] === path);
  } catch {
    return false;
  }
}

/** Unmounts, retrying while busy, lazily as a last resort; true when `path` is no longer a mount. */
async function umount(path: string): Promise<boolean> {
  for (let i = 0; i < 5 && isMounted(path); i++) {
    await runCommand("umount", [path]).catch(() => new Promise((r) => setTimeout(r, 50)));
  }
  if (isMounted(path)) await runCommand("umount", ["-l", path]).catch(() => {});
  return !isMounted(path);
}

/**
 * Mounts an overlay of `lowers` (top-most first; absolute dirs) at a new dir under `workRoot`.
 * With no lowers (FROM scratch) an empty dir is the lower.
 */
export async function mountOverlay(lowers: string[], workRoot: string): Promise<Mounted> {
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, tempPrefix("snap", workRoot)));
  const upper = join(dir, "upper");
  const work = join(dir, "work");
  const merged = join(dir, "merged");
  const empty = join(dir, "empty");
  await Promise.all([upper, work, merged, empty].map((d) => mkdir(d)));
  const lowerList = lowers.length ? lowers : [empty];
  // relative lowerdirs (resolved from cwd by mount(2)) keep the option string short
  const common = commonParent(lowerList);
  const lowerOpt = lowerList.map((l) => (common ? posix.relative(common, l) : l)).join(":");
  const opts = `lowerdir=${lowerOpt},upperdir=${upper},workdir=${work},redirect_dir=off,index=off,metacopy=off,volatile`;
  if (opts.length > 4000)
    throw new DockyardError("UNSUPPORTED", `too many layers for one overlay mount (${lowers.length})`);
  let mounted = false;
  let releasing: Promise<void> | undefined;
  let mounting: Promise<unknown> | undefined;
  // one release at a time (a failed step and Ctrl-C may both release); never delete through a mount
  const cleanup = (keepUpper = false): Promise<void> =>
    (releasing ??= (async () => {
      // a mount(8) still running would mount after we looked (and outlive us): wait for it first
      await mounting?.catch(() => {});
      // the mount may have completed after a signal arrived: look, do not trust the flag alone
      if ((mounted || isMounted(merged)) && !(await umount(merged)))
        throw new DockyardError("INTERNAL", `cannot unmount ${merged}: left mounted`);
      mounted = false;
      if (keepUpper) {
        await Promise.all([work, merged, empty].map((d) => rm(d, { recursive: true, force: true })));
      } else await rm(dir, { recursive: true, force: true });
    })());
  let unregister: () => void;
  try {
    unregister = registerCleanup(() => cleanup(false));
  } catch (err) {
    await rm(dir, { recursive: true, force: true }); // interrupted: do not mount
    throw err;
  }
  try {
    mounting = runCommand("mount", ["-t", "overlay", "overlay", "-o", opts, merged], { cwd: common || "/" });
    await mounting;
    mounted = true;
  } catch (err) {
    unregister();
    await cleanup(false);
    throw new DockyardError(
      "UNSUPPORTED",
      `cannot mount overlayfs (needs root and a kernel with overlay): ${(err as Error).message.trim()}`,
    );
  }
  return {
    merged,
    upper,
    dir,
    async release(o = {}) {
      unregister();
      await cleanup(o.keepUpper === true);
    },
  };
}

/**
 * A snapshot without a mount: a fresh upper dir (as `merged` too) for a step that writes its
 * changes itself and asks the parent layers through a LowerView (COPY). Same contract as
 * mountOverlay's: `release({ keepUpper })` leaves the upper dir, else removes everything.
 */
export async function directSnapshot(workRoot: string): Promise<Mounted> {
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(join(workRoot, tempPrefix("snap", workRoot)));
  let unregister: () => void;
  try {
    unregister = registerCleanup(() => rm(dir, { recursive: true, force: true }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true }); // interrupted
    throw err;
  }
  const upper = join(dir, "upper");
  await mkdir(upper);
  return {
    merged: upper,
    upper,
    dir,
    async release(o = {}) {
      unregister();
      if (!o.keepUpper) await rm(dir, { recursive: true, force: true });
    },
  };
}

function commonParent(paths: string[]): string {
  if (!paths.length) return "";
  const split = paths.map((p) => p.split("/"));
  const first = split[0]!;
  let n = first.length - 1;
  for (const s of split) {
    let i = 0;
    while (i < n && i < s.length - 1 && s[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join("/") || "/";
}

// ---------------------------------------------------------------- upper dir → layer tar

export interface LayerBlob {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** sha256 of the gzip blob. */
  digest: Digest;
  size: number;
  /** Path of the gzip blob. */
  path: string;
  /** Uncompressed size. */
  uncompressedSize: number;
  /** The opaque directories of the upper dir (relative paths). */
  opaque: string[];
  /** Bytes of file content stored without deflating (it would not compress). */
  stored: number;
}

interface Xattrs {
  opaque: Set<string>;
  /** Extended attributes to carry into the layer, by relative path (overlay's own left out). */
  xattrs: Map<string, [string, Buffer][]>;
}

export function decodeGetfattrName(s: string): string {
  // getfattr escapes bytes as \ooo; the name is UTF-8 underneath
  const parts = s
    .split(/(\\[0-7]{3})/)
    .map((p) => (/^\\[0-7]{3}$/.test(p) ? Buffer.of(parseInt(p.slice(1), 8)) : Buffer.from(p, "utf8")));
  return Buffer.concat(parts).toString("utf8");
}

/** Quotes a path for `setfattr --restore` (every byte outside a safe set as \ooo). */
export function quoteGetfattrName(p: string): string {
  let out = "";
  for (const b of Buffer.from(p, "utf8"))
    out += /[A-Za-z0-9._/+,:@%-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : "\\" + b.toString(8).padStart(3, "0");
  return out;
}

/**
 * Attributes a layer carries (as PAX `SCHILY.xattr.*` records, like Docker and BuildKit):
 * user.*, security.capability (setcap binaries), ACLs, trusted.* — but not overlayfs's own
 * trusted.overlay.* bookkeeping (the opaque marker becomes `.wh..wh..opq`) nor the host's
 * SELinux label.
 */
export function carriedXattr(name: string): boolean {
  return !name.startsWith("trusted.overlay.") && name !== "security.selinux";
}

/** Runs getfattr (hex values, no dereferencing) with `args`; its dump, empty attributes included. */
export async function getfattr(args: string[]): Promise<string> {
  try {
    return (await runCommand("getfattr", ["-h", "--absolute-names", "-e", "hex", ...args])).stdout;
  } catch (err) {
    const e = err as { code?: string | number; stdout?: string };
    if (e.code === "ENOENT")
      throw new DockyardError(
        "UNSUPPORTED",
        "getfattr not found: install the attr package (apt-get install attr); builds read file attributes and overlayfs opaque-directory markers with it",
      );
    // exit 1 when some files lack the attribute: normal; anything else (the helper shell died
    // under it) would silently drop attributes and opaque markers from the layer
    if (typeof e.code !== "number") throw err;
    return e.stdout ?? "";
  }
}

async function getfattrDump(root: string, args: string[]): Promise<string> {
  return getfattr(["-R", ...args, root]);
}

/** Reads every extended attribute under `root` in one getfattr run. */
async function readXattrs(root: string): Promise<Xattrs> {
  const opaque = new Set<string>();
  const xattrs = new Map<string, [string, Buffer][]>();
  const out = await getfattrDump(root, ["-d", "-m", "-"]);
  let rel: string | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) {
      const r = posix.relative(root, decodeGetfattrName(line.slice(8)));
      rel = r.startsWith("..") ? undefined : r;
      continue;
    }
    const eq = line.indexOf("=");
    if (rel === undefined || eq <= 0) continue;
    const name = line.slice(0, eq);
    const raw = line.slice(eq + 1);
    const value = raw.startsWith("0x") ? Buffer.from(raw.slice(2), "hex") : Buffer.alloc(0);
    if (name === OPAQUE_XATTR) {
      if (value.toString("latin1") === "y" && rel !== "") opaque.add(rel);
      continue;
    }
    if (rel === "" || !carriedXattr(name)) continue;
    let l = xattrs.get(rel);
    if (!l) xattrs.set(rel, (l = []));
    l.push([name, value]);
  }
  return { opaque, xattrs };
}

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}
function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

class HashCount extends Transform {
  readonly d = new Digester();
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.d.update(chunk);
    this.push(chunk);
    cb();
  }
}

export interface DiffOptions {
  /** SOURCE_DATE_EPOCH: mtimes later than it are clamped to it. */
  epoch?: number;
  gzipLevel?: number;
  /** Look for opaque directories (getfattr). Off when the step cannot have made any. */
  opaque?: boolean;
}

/** Files smaller than this never change the compression level (a switch costs a flush). */
const STORE_MIN_SIZE = 16 << 10;
/** Stored data is followed by deflated data again from a file of this size that compresses. */
const RESUME_MIN_SIZE = 512;

/**
 * Whether data will hardly compress: the byte entropy of its first 64 KiB above 7.5 bits (random
 * and already-compressed data are near 8; text is near 5, machine code near 6).
 */
export function looksIncompressible(b: Buffer): boolean {
  const n = Math.min(b.length, 1 << 16);
  const counts = new Uint32Array(256);
  for (let i = 0; i < n; i++) counts[b[i]!]!++;
  let bits = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / n;
    bits -= p * Math.log2(p);
  }
  return bits > 7.5;
}

export function gzipLevel(): number {
  const v = Number(process.env.DOCKYARD_GZIP_LEVEL);
  return Number.isInteger(v) && v >= 0 && v <= 9 ? v : 1;
}

/**
 * Writes the overlay upper dir `upper` as a layer: a tar (entries sorted by name, directories
 * before their contents) with overlay whiteouts (char device 0/0) turned into `.wh.<name>` and
 * opaque directories into `.wh..wh..opq`; gzip-compressed into `outPath`. Returns its digests.
 */
export async function diffToLayer(
  upper: string,
  outPath: string,
  opts: DiffOptions = {},
): Promise<LayerBlob> {
  // a step that cannot have made opaque dirs (COPY, WORKDIR) cannot have set attributes either
  const { opaque, xattrs } =
    opts.opaque === false ? { opaque: new Set<string>(), xattrs: new Map() } : await readXattrs(upper);
  const inodes = new Map<string, string>();
  const epochMs = opts.epoch !== undefined ? opts.epoch * 1000 : undefined;
  const mtimeOf = (ms: number) => Math.floor((epochMs !== undefined && ms > epochMs ? epochMs : ms) / 1000);

  const baseLevel = opts.gzipLevel ?? gzipLevel();
  // Files that do not compress (images, archives, fonts: already compressed) are stored, not
  // deflated: gzip -1 spent ~50 ms on 2.8 MB of PNGs to save 15 %. The level changes only at
  // file boundaries and by the content alone, so the blob stays reproducible.
  const gzip = new SegmentedGzip(baseLevel);
  let level = baseLevel;
  let stored = 0;
  const useLevel = async (want: number) => {
    if (want === level) return;
    await tw.flushBuffered();
    await gzip.setLevel(want);
    level = want;
  };
  const gz = new HashCount();
  // the blob is on disk (fsynced) before a step record can name it: a crash must not leave a
  // cached step whose layer is a truncated file
  const done = pipeline(gzip.output, gz, createWriteStream(outPath));
  done.catch(() => {});
  const tw = new TarWriter(gzip);
  const buf = Buffer.allocUnsafe(1 << 20);

  // Sync fs calls on purpose: a diff of thousands of small files is bound by per-call overhead.
  const walk = async (rel: string): Promise<void> => {
    const names = readdirSync(rel ? join(upper, rel) : upper).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(upper, r);
      const st = lstatSync(abs);
      const base = {
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: mtimeOf(st.mtimeMs),
        xattrs: xattrs.get(r),
      };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await tw.entry({
          ...base,
          name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`,
          type: "file",
          size: 0,
          mode: 0o644,
          xattrs: undefined,
        });
        continue;
      }
      if (st.isDirectory()) {
        await tw.entry({ ...base, name: r + "/", type: "directory" });
        if (opaque.has(r))
          await tw.entry({
            ...base,
            name: `${r}/.wh..wh..opq`,
            type: "file",
            size: 0,
            mode: 0o644,
            xattrs: undefined,
          });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        await tw.entry({ ...base, name: r, type: "symlink", linkname: readlinkSync(abs) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first) {
          await tw.entry({ ...base, name: r, type: "link", linkname: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, r);
        await tw.entry({ ...base, name: r, type: "file", size: st.size });
        const fd = openSync(abs, "r");
        try {
          let left = st.size;
          let first = true;
          while (left > 0) {
            const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
            if (n <= 0) throw new DockyardError("INTERNAL", `${r} shrank while it was archived`);
            if (first && baseLevel > 0) {
              if (st.size >= STORE_MIN_SIZE)
                await useLevel(looksIncompressible(buf.subarray(0, n)) ? 0 : baseLevel);
              // after stored data, a smaller file that compresses deflates again (and so do the
              // tar headers after it): node-app's node_modules layer 20.3 MB → 19.1 MB
              else if (level === 0 && st.size >= RESUME_MIN_SIZE && !looksIncompressible(buf.subarray(0, n)))
                await useLevel(baseLevel);
            }
            first = false;
            if (level === 0 && baseLevel > 0) stored += n;
            await tw.data(buf.subarray(0, n));
            left -= n;
          }
        } finally {
          closeSync(fd);
        }
        await tw.pad(st.size);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await tw.entry({
          ...base,
          name: r,
          type: st.isCharacterDevice() ? "character-device" : "block-device",
          devmajor: major(st.rdev),
          devminor: minor(st.rdev),
        });
      } else if (st.isFIFO()) {
        await tw.entry({ ...base, name: r, type: "fifo" });
      }
      // sockets are not archived (as in Docker)
    }
  };
  try {
    await walk("");
    await tw.finish();
    await gzip.end();
  } catch (err) {
    gzip.destroy(err as Error);
    // a failed write of the blob (ENOSPC, EIO…) is the cause worth reporting
    const cause = await done.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw cause ?? err;
  }
  await done;
  const fh = await open(outPath, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return {
    diffID: tw.digester.digest(),
    uncompressedSize: tw.digester.size,
    digest: gz.d.digest(),
    size: gz.d.size,
    path: outPath,
    opaque: [...opaque],
    stored,
  };
}

// ---------------------------------------------------------------- layer tar → overlay lower dir

export interface ExtractOptions {
  /** Keep whiteouts as overlay markers (char device 0/0, opaque xattr): for lowerdirs. Default true. */
  overlay?: boolean;
}

function escape(name: string, why: string): never {
  throw new DockyardError(
    "PATH_ESCAPE",
    `layer entry ${JSON.stringify(name)} ${why}: refusing to extract it`,
  );
}

/**
 * Extracts an (uncompressed) layer tar into `dest` safely: names are cleaned and may not climb out
 * (`..`, absolute names are made relative), no entry is written through a symlink (a parent that
 * is a symlink is refused), hardlink targets must be inside `dest`. Whiteouts become overlay
 * whiteouts (char device 0/0) and `.wh..wh..opq` sets the opaque xattr, so the dir can be a lowerdir.
 */
export async function extractLayer(
  input: Readable,
  dest: string,
  opts: ExtractOptions = {},
): Promise<{ opaque: string[] }> {
  const overlay = opts.overlay !== false;
  await mkdir(dest, { recursive: true });
  const realDirs = new Set<string>([""]);
  const dirTimes: [string, Date, number][] = [];
  const opaqueDirs: string[] = [];
  // Sync fs calls on purpose: base layers hold thousands of small files.
  const ensureParents = (rel: string, name: string) => {
    const parts = rel.split("/");
    parts.pop();
    let cur = "";
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      if (realDirs.has(cur)) continue;
      const abs = join(dest, cur);
      const st = lstatOrUndefined(abs);
      if (!st) {
        mkdirSync(abs, { mode: 0o755 });
      } else if (st.isSymbolicLink()) escape(name, `goes through the symlink ${cur}`);
      else if (!st.isDirectory()) {
        rmSync(abs, { force: true });
        mkdirSync(abs, { mode: 0o755 });
      }
      realDirs.add(cur);
    }
  };

  // attributes are set once every file is in place (a chown after setcap would drop the capability)
  const attrs: string[] = [];
  const setAttrs = (abs: string, list: [string, Buffer][]) => {
    if (list.length)
      attrs.push(
        `# file: ${quoteGetfattrName(abs)}\n` +
          list.map(([k, v]) => `${k}=0x${v.toString("hex")}\n`).join("") +
          "\n",
      );
  };
  for await (const e of readTar(input)) {
    const h = e.header;
    let rel: string;
    try {
      rel = cleanRelative(h.name, "layer entry");
    } catch {
      escape(h.name, "climbs out of the layer with ..");
    }
    if (rel === "" || rel === ".") {
      if (h.type === "directory") dirTimes.push(["", h.mtime, h.mode]);
      continue;
    }
    ensureParents(rel, h.name);
    const abs = join(dest, rel);
    const base = posix.basename(rel);
    const parent = posix.dirname(rel) === "." ? "" : posix.dirname(rel);
    if (base.startsWith(".wh.")) {
      if (base === ".wh..wh..opq") {
        if (overlay) opaqueDirs.push(join(dest, parent));
      } else {
        const target = join(dest, parent, base.slice(4));
        rmSync(target, { recursive: true, force: true });
        if (overlay) await execFileP("mknod", ["-m", "000", target, "c", "0", "0"]);
      }
      continue;
    }
    const existing = lstatOrUndefined(abs);
    if (existing && !(existing.isDirectory() && h.type === "directory")) {
      rmSync(abs, { recursive: true, force: true });
      realDirs.delete(rel);
    }
    const mode = h.mode & 0o7777;
    const { uid, gid, mtime } = h;
    const carried = h.xattrs.filter(([k]) => carriedXattr(k));
    switch (h.type) {
      case "directory":
        if (!existing || !existing.isDirectory()) mkdirSync(abs, { mode: 0o755 });
        realDirs.add(rel);
        lchownSync(abs, uid, gid);
        dirTimes.push([rel, mtime, mode]);
        setAttrs(abs, carried);
        continue;
      case "file":
      case "contiguous-file": {
        const fd = openSync(abs, "wx", 0o600);
        try {
          for await (const b of e.body) {
            for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
          }
        } finally {
          closeSync(fd);
        }
        break;
      }
      case "symlink":
        symlinkSync(h.linkname, abs);
        break;
      case "link": {
        let target: string;
        try {
          target = cleanRelative(h.linkname, "hardlink target");
        } catch {
          escape(h.name, `is a hardlink to ${JSON.stringify(h.linkname)} outside the layer`);
        }
        if (!target) escape(h.name, "is a hardlink to the layer root");
        ensureParents(target, h.name);
        const tst = lstatOrUndefined(join(dest, target));
        if (!tst) escape(h.name, `is a hardlink to ${JSON.stringify(h.linkname)}, which is not in the layer`);
        if (tst.isDirectory()) escape(h.name, "is a hardlink to a directory");
        linkSync(join(dest, target), abs);
        continue; // a hardlink shares the target's metadata
      }
      case "character-device":
      case "block-device":
        await execFileP("mknod", [
          abs,
          h.type === "character-device" ? "c" : "b",
          String(h.devmajor),
          String(h.devminor),
        ]);
        break;
      case "fifo":
        await execFileP("mknod", [abs, "p"]);
        break;
      default:
        continue; // other types (GNU sparse, volume labels…) are skipped, their data with them
    }
    lchownSync(abs, uid, gid);
    if (h.type !== "symlink") chmodSync(abs, mode);
    lutimesSync(abs, mtime, mtime);
    if (h.type !== "symlink") setAttrs(abs, carried); // Linux allows no user.* attributes on symlinks
  }
  for (const d of opaqueDirs) setAttrs(d, [[OPAQUE_XATTR, Buffer.from("y")]]);
  if (attrs.length) await restoreXattrs(attrs.join(""));
  for (const [rel, mtime, mode] of dirTimes.reverse()) {
    const abs = rel ? join(dest, rel) : dest;
    chmodSync(abs, mode);
    utimesSync(abs, mtime, mtime);
  }
  return { opaque: opaqueDirs.map((d) => posix.relative(dest, d)) };
}

/** Sets extended attributes from a getfattr-format dump, in one `setfattr --restore` run. */
export async function restoreXattrs(dump: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn("setfattr", ["-h", "--restore=-"], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new DockyardError(
              "UNSUPPORTED",
              "setfattr not found: install the attr package (apt-get install attr); it sets file attributes and overlayfs markers",
            )
          : e,
      ),
    );
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(
            new DockyardError("INTERNAL", `setfattr failed (exit ${code}): ${err.trim().split("\n")[0]}`),
          ),
    );
    child.stdin.on("error", () => {}); // a failing setfattr closes its stdin early: its exit code tells
    child.stdin.end(dump);
  });
}

/** Moves a finished upper dir into place as the lowerdir of layer `diffID`. */
export async function adoptUpper(upper: string, layerDir: string): Promise<void> {
  await mkdir(posix.dirname(layerDir), { recursive: true });
  try {
    await rename(upper, layerDir);
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ENOTEMPTY" ||
      (err as NodeJS.ErrnoException).code === "EEXIST"
    ) {
      await rm(upper, { recursive: true, force: true }); // the same layer is already there
      return;
    }
    throw err;
  }
}
