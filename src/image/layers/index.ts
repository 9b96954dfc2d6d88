// Layer tar helpers: decompression (gzip, zstd, none — sniffed), whiteouts (.wh. files and
// opaque dirs), flattening a stack of layers into one rootfs tar, safe extraction into a
// directory, and the validation that import/load apply to untrusted tarballs.
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import {
  chmod,
  chown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
  utimes,
} from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { PassThrough, Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import tarStream, { type Header as Headers } from "tar-stream";
import { Decompress } from "fzstd";
import { DockyardError } from "../errors.js";
import { cleanEntryName } from "./tar-index.js";

export { cleanEntryName, indexTar, type TarIndexEntry } from "./tar-index.js";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";

/** zstd → tar, via fzstd (a pure-JS streaming decoder). */
export class ZstdDecompressStream extends Transform {
  private readonly d: Decompress;
  constructor() {
    super();
    this.d = new Decompress((chunk) => {
      this.push(Buffer.from(chunk));
    });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.d.push(chunk);
      cb();
    } catch (err) {
      cb(new DockyardError("ARCHIVE_INVALID", `bad zstd data: ${(err as Error).message}`));
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(new DockyardError("ARCHIVE_INVALID", `bad zstd data: ${(err as Error).message}`));
    }
  }
}

/** Turns a layer blob (gzip, zstd or plain tar — sniffed from its first bytes) into a tar stream. */
export function decompressLayer(blob: Readable): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let decided = false;
  let head = Buffer.alloc(0);
  const decide = (final: boolean) => {
    if (decided) return;
    if (head.length < 4 && !final) return;
    decided = true;
    const src = Readable.from(
      (async function* () {
        yield head;
        yield* blob;
      })(),
    );
    let chain: Readable = src;
    if (head[0] === 0x1f && head[1] === 0x8b) chain = src.pipe(createGunzip());
    else if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
      chain = src.pipe(new ZstdDecompressStream());
    src.on("error", (e) => out.destroy(e));
    chain.on("error", (e) =>
      out.destroy(
        e instanceof DockyardError ? e : new DockyardError("ARCHIVE_INVALID", `layer: ${e.message}`),
      ),
    );
    chain.pipe(out);
  };
  const onData = (c: Buffer) => {
    head = Buffer.concat([head, c]);
    if (head.length >= 4) {
      blob.off("data", onData);
      blob.off("end", onEnd);
      blob.pause();
      decide(false);
    }
  };
  const onEnd = () => decide(true);
  blob.on("data", onData);
  blob.once("end", onEnd);
  blob.once("error", (e) => out.destroy(e));
  return out;
}

/** Whiteout meaning of a (clean) entry name. */
export function whiteoutOf(
  name: string,
): { kind: "opaque"; dir: string } | { kind: "delete"; path: string } | undefined {
  const base = posix.basename(name);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = posix.dirname(name) === "." ? "" : posix.dirname(name);
  if (base === OPAQUE_MARKER) return { kind: "opaque", dir };
  return {
    kind: "delete",
    path: dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length),
  };
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  let i = p.indexOf("/");
  while (i >= 0) {
    out.push(p.slice(0, i));
    i = p.indexOf("/", i + 1);
  }
  return out;
}

/** Iterates a tar stream's entries (header + body stream; the body must be consumed or resumed). */
async function eachEntry(
  tar: Readable,
  fn: (h: Headers, body: Readable) => Promise<void>,
  where: string,
): Promise<void> {
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, body, next) => {
      body.on("error", () => {}); // the extractor reports the error itself
      fn(h, body as unknown as Readable).then(
        () => {
          (body as unknown as Readable).resume();
          next();
        },
        (err) => {
          (body as unknown as Readable).resume();
          ex.destroy(err);
        },
      );
    });
    ex.on("finish", resolve);
    ex.on("close", resolve);
    ex.on("error", (e) =>
      reject(e instanceof DockyardError ? e : new DockyardError("ARCHIVE_INVALID", `${where}: ${e.message}`)),
    );
  });
  tar.on("error", (e) => ex.destroy(e));
  tar.pipe(ex as unknown as Writable);
  await done;
}

/**
 * Flattens layers (bottom first) into one rootfs tar on `out`, whiteouts applied: what a
 * container made from the image sees. Two passes: top-down to decide which entry of which layer
 * wins (headers only), then bottom-up to stream the winners, so hard-link targets precede links.
 */
export async function flattenLayers(
  openLayer: (i: number) => Promise<Readable>,
  count: number,
  out: NodeJS.WritableStream,
): Promise<{ entries: number }> {
  const keep: Set<string>[] = Array.from({ length: count }, () => new Set());
  const seen = new Map<string, string>(); // path → type, from higher layers
  const deleted = new Set<string>();
  const opaque = new Set<string>();
  for (let i = count - 1; i >= 0; i--) {
    const newDeleted: string[] = [];
    const newOpaque: string[] = [];
    await eachEntry(
      decompressLayer(await openLayer(i)),
      async (h) => {
        const name = cleanEntryName(h.name);
        if (!name) return;
        const wo = whiteoutOf(name);
        if (wo) {
          if (wo.kind === "opaque") newOpaque.push(wo.dir);
          else newDeleted.push(wo.path);
          return;
        }
        if (seen.has(name)) return;
        if (deleted.has(name)) return;
        for (const a of ancestors(name)) {
          if (deleted.has(a) || opaque.has(a)) return;
          const t = seen.get(a);
          if (t !== undefined && t !== "directory") return;
        }
        if (opaque.has("")) return;
        seen.set(name, h.type ?? "file");
        keep[i]!.add(name);
      },
      `layer ${i}`,
    );
    for (const d of newDeleted) deleted.add(d);
    for (const d of newOpaque) opaque.add(d);
  }
  const pack = tarStream.pack();
  const written = pipeline(pack, out as Writable);
  written.catch(() => {});
  let entries = 0;
  for (let i = 0; i < count; i++) {
    if (keep[i]!.size === 0) continue;
    await eachEntry(
      decompressLayer(await openLayer(i)),
      async (h, body) => {
        const name = cleanEntryName(h.name);
        if (!keep[i]!.has(name)) return;
        keep[i]!.delete(name); // a name repeated within one layer: the first wins
        const header: Headers = { ...h, name: h.type === "directory" ? `${name}/` : name };
        if (h.type === "link" && h.linkname) header.linkname = cleanEntryName(h.linkname);
        entries++;
        if (h.type === "file" || h.type === "contiguous-file") {
          const dest = pack.entry(header);
          await pipeline(body, dest as unknown as Writable);
        } else {
          header.size = 0;
          await new Promise<void>((resolve, reject) =>
            pack.entry(header, (err) => (err ? reject(err) : resolve())),
          );
        }
      },
      `layer ${i}`,
    );
  }
  pack.finalize();
  await written;
  return { entries };
}

export interface TarCheckOptions {
  /** Accept character/block devices (refused by default). */
  allowDevices?: boolean;
  /** Refuse any single entry bigger than this (default 64 GiB). */
  maxEntrySize?: number;
}

/**
 * Checks an untrusted tarball entry by entry (import, load): names stay inside the root, hard
 * links point inside, nothing is written through a symlink the tarball made, no devices unless
 * allowed. Throws PATH_ESCAPE / ARCHIVE_INVALID naming the entry. Returns a Transform that passes
 * the bytes through unchanged (hash or store them downstream).
 */
export function tarChecker(opts: TarCheckOptions = {}): Transform {
  const ex = tarStream.extract();
  const symlinks = new Set<string>();
  const max = opts.maxEntrySize ?? 64 * 2 ** 30;
  let failure: Error | undefined;
  let entries = 0;
  ex.on("entry", (h, body, next) => {
    body.on("error", () => {}); // the extractor reports the error itself
    entries++;
    try {
      const name = cleanEntryName(h.name);
      for (const a of ancestors(name))
        if (symlinks.has(a))
          throw new DockyardError(
            "PATH_ESCAPE",
            `tar entry ${JSON.stringify(h.name)} goes through the symlink ${a}`,
          );
      if ((h.size ?? 0) > max)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `tar entry ${JSON.stringify(h.name)} claims ${h.size} bytes (limit ${max})`,
        );
      if (h.type === "symlink") symlinks.add(name);
      else symlinks.delete(name);
      if (h.type === "link") {
        const target = h.linkname ?? "";
        try {
          cleanEntryName(target);
        } catch {
          throw new DockyardError(
            "PATH_ESCAPE",
            `tar entry ${JSON.stringify(h.name)} is a hard link to ${JSON.stringify(target)}, outside the archive`,
          );
        }
      }
      if ((h.type === "character-device" || h.type === "block-device") && !opts.allowDevices)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `tar entry ${JSON.stringify(h.name)} is a device file; refused (allow with --allow-devices)`,
        );
    } catch (err) {
      failure = err as Error;
      ex.destroy(err as Error);
      return;
    }
    (body as unknown as Readable).on("end", next).resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on("finish", resolve);
    ex.on("close", () => (failure ? reject(failure) : resolve()));
    ex.on("error", (e) =>
      reject(
        failure ??
          (e instanceof DockyardError
            ? e
            : new DockyardError("ARCHIVE_INVALID", `malformed tarball: ${e.message}`)),
      ),
    );
  });
  done.catch(() => {});
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (failure) return cb(failure);
      if (!(ex as unknown as Writable).write(chunk)) {
        (ex as unknown as Writable).once("drain", () => cb(failure ?? null, chunk));
        return;
      }
      cb(null, chunk);
    },
    flush(cb) {
      (ex as unknown as Writable).end();
      done.then(
        () => (entries === 0 ? cb(new DockyardError("ARCHIVE_INVALID", "the tarball has no entries")) : cb()),
        (err) => cb(err as Error),
      );
    },
  });
}

export interface ExtractOptions extends TarCheckOptions {
  /** chown entries to their uid/gid (default: when running as root). */
  preserveOwners?: boolean;
  /** Apply whiteouts (.wh. files, opaque dirs) against what is already in `root` (default true). */
  whiteouts?: boolean;
}

const execFileP = promisify(execFile);

/**
 * Resolves `rel` (clean, relative) under `root` following symlinks *inside* root only: a symlink
 * on the way that points outside (absolute, or climbing past root) is refused. The last
 * component is not followed (it is what gets replaced).
 */
async function securePath(root: string, rel: string, entry: string): Promise<string> {
  const parts = rel.split("/").filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 1) {
    const p = parts.shift()!;
    const here = join(root, ...resolved, p);
    const st = await lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 40)
        throw new DockyardError("PATH_ESCAPE", `tar entry ${JSON.stringify(entry)}: too many symlinks`);
      const target = await readlink(here);
      if (target.startsWith("/"))
        throw new DockyardError(
          "PATH_ESCAPE",
          `tar entry ${JSON.stringify(entry)} goes through the symlink ${[...resolved, p].join("/")} → ${target}, outside the root`,
        );
      const next = [...resolved];
      for (const t of target.split("/")) {
        if (t === "" || t === ".") continue;
        if (t === "..") {
          if (next.length === 0)
            throw new DockyardError(
              "PATH_ESCAPE",
              `tar entry ${JSON.stringify(entry)} goes through the symlink ${[...resolved, p].join("/")} → ${target}, outside the root`,
            );
          next.pop();
        } else next.push(t);
      }
      resolved.splice(0, resolved.length);
      parts.unshift(...next);
      continue;
    }
    if (st && !st.isDirectory())
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `tar entry ${JSON.stringify(entry)}: ${[...resolved, p].join("/")} is not a directory`,
      );
    if (!st) await mkdir(here, { mode: 0o755 });
    resolved.push(p);
  }
  return join(root, ...resolved, ...parts);
}

/**
 * Extracts a layer tar into `root` safely (nothing is written outside root: `..`, absolute
 * names, symlink and hard-link escapes are refused with PATH_ESCAPE naming the entry), applying
 * whiteouts against what lower layers put there. Device files need `allowDevices`.
 */
export async function extractLayer(
  tar: Readable,
  root: string,
  opts: ExtractOptions = {},
): Promise<{ entries: number }> {
  await mkdir(root, { recursive: true });
  const owners = opts.preserveOwners ?? process.getuid?.() === 0;
  const applyWhiteouts = opts.whiteouts !== false;
  const max = opts.maxEntrySize ?? 64 * 2 ** 30;
  const writtenHere = new Set<string>();
  const dirTimes: [string, Date][] = [];
  let entries = 0;
  await eachEntry(
    tar,
    async (h, body) => {
      const name = cleanEntryName(h.name);
      if (!name) return;
      if ((h.size ?? 0) > max)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `tar entry ${JSON.stringify(h.name)} claims ${h.size} bytes (limit ${max})`,
        );
      entries++;
      const wo = applyWhiteouts ? whiteoutOf(name) : undefined;
      if (wo) {
        if (wo.kind === "delete") {
          const p = await securePath(root, wo.path, h.name);
          await rm(p, { recursive: true, force: true });
        } else {
          const dir = wo.dir ? await securePath(root, `${wo.dir}/x`, h.name).then(dirname) : root;
          for (const child of await readdir(dir).catch(() => [] as string[])) {
            const rel = wo.dir ? `${wo.dir}/${child}` : child;
            if (![...writtenHere].some((w) => w === rel || w.startsWith(`${rel}/`)))
              await rm(join(dir, child), { recursive: true, force: true });
          }
        }
        return;
      }
      const dest = await securePath(root, name, h.name);
      writtenHere.add(name);
      const existing = await lstat(dest).catch(() => undefined);
      if (existing && !(existing.isDirectory() && h.type === "directory"))
        await rm(dest, { recursive: true, force: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case "directory":
          if (!existing?.isDirectory()) await mkdir(dest, { mode: 0o755 });
          await chmod(dest, mode);
          if (h.mtime) dirTimes.push([dest, h.mtime]);
          break;
        case "file":
        case "contiguous-file":
        case undefined:
        case null: {
          const fh = await open(
            dest,
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o600,
          );
          await pipeline(body, fh.createWriteStream());
          await chmod(dest, mode);
          break;
        }
        case "symlink":
          await symlink(h.linkname ?? "", dest);
          break;
        case "link": {
          let target: string;
          try {
            target = cleanEntryName(h.linkname ?? "");
          } catch {
            throw new DockyardError(
              "PATH_ESCAPE",
              `tar entry ${JSON.stringify(h.name)} is a hard link to ${JSON.stringify(h.linkname)}, outside the root`,
            );
          }
          const src = await securePath(root, target, h.name);
          const st = await lstat(src).catch(() => undefined);
          if (!st)
            throw new DockyardError(
              "ARCHIVE_INVALID",
              `tar entry ${JSON.stringify(h.name)} links to missing ${target}`,
            );
          await link(src, dest);
          break;
        }
        case "character-device":
        case "block-device":
          if (!opts.allowDevices)
            throw new DockyardError(
              "ARCHIVE_INVALID",
              `tar entry ${JSON.stringify(h.name)} is a device file; refused (allow with --allow-devices)`,
            );
          await execFileP("mknod", [
            "-m",
            mode.toString(8),
            dest,
            h.type === "block-device" ? "b" : "c",
            String(h.devmajor ?? 0),
            String(h.devminor ?? 0),
          ]);
          break;
        case "fifo":
          await execFileP("mkfifo", ["-m", mode.toString(8), dest]);
          break;
        default:
          return;
      }
      if (owners && (h.uid !== undefined || h.gid !== undefined)) {
        const { lchown } = await import("node:fs/promises");
        await lchown(dest, h.uid ?? 0, h.gid ?? 0).catch(() => chown(dest, h.uid ?? 0, h.gid ?? 0));
        if (h.type !== "symlink" && h.type !== "directory") await chmod(dest, mode); // chown clears setuid
      }
      if (h.mtime && h.type !== "directory") {
        if (h.type === "symlink") await lutimes(dest, h.mtime, h.mtime).catch(() => {});
        else await utimes(dest, h.mtime, h.mtime).catch(() => {});
      }
    },
    "layer",
  );
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => {});
  return { entries };
}
