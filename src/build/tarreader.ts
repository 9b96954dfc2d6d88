// A small streaming tar reader for unpacking layers: ustar, GNU (long names, base-256 numbers) and
// PAX (path, linkpath, size, uid, gid, mtime and `SCHILY.xattr.*` records). PAX values are kept
// as raw bytes: xattr values such as security.capability are binary, and a UTF-8 decode (as
// general-purpose tar parsers do) would corrupt them.
import { DockyardError } from "../image/errors.js";
import {
  parsePaxRecords,
  tarChecksumOk,
  tarHeaderName,
  tarNumber,
  tarString,
} from "../image/layers/tar-header.js";

export type TarType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "contiguous-file"
  | "other";

export interface TarHeader {
  name: string;
  type: TarType;
  /** The raw typeflag, for "other". */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from `SCHILY.xattr.NAME` PAX records, in archive order. */
  xattrs: [string, Buffer][];
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; what the caller does not read is skipped before the next entry. */
  body: AsyncIterable<Buffer>;
}

const TYPES: Record<string, TarType> = {
  "0": "file",
  "\0": "file",
  "": "file",
  "1": "link",
  "2": "symlink",
  "3": "character-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
  "7": "contiguous-file",
};

const EMPTY = Buffer.alloc(0);

function bad(why: string): never {
  throw new DockyardError("ARCHIVE_INVALID", `invalid tar archive: ${why}`);
}

/** Pulls exact byte counts out of an async iterable of chunks. */
class Bytes {
  private buf: Buffer = EMPTY;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer | string>) {}

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const c = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    return true;
  }

  /** Exactly `n` bytes, or fewer at the end of the input. */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.more()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Up to `n` bytes as they arrive (at least one unless the input ended). */
  async some(n: number): Promise<Buffer> {
    if (!this.buf.length) await this.more();
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}

function num(b: Buffer, off: number, len: number): number {
  const v = tarNumber(b, off, len);
  if (Number.isNaN(v))
    bad(`bad numeric field ${JSON.stringify(b.subarray(off, off + len).toString("latin1"))}`);
  return v;
}

/** PAX records with raw byte values; a malformed record fails the read. */
function parsePax(body: Buffer): Map<string, Buffer> {
  return parsePaxRecords(body) ?? bad("malformed PAX record");
}

async function readAll(bytes: Bytes, size: number): Promise<Buffer> {
  if (size > 16 << 20) bad(`metadata entry of ${size} bytes`);
  const b = await bytes.take(size);
  if (b.length < size) bad("unexpected end of archive");
  await bytes.take((512 - (size % 512)) % 512);
  return b;
}

/** Reads `input` as a tar stream, entry by entry. */
export async function* readTar(input: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const it = input[Symbol.asyncIterator]();
  try {
    yield* entries(new Bytes(it));
  } finally {
    await it.return?.(); // stop (and destroy) the input when the reader stops early
  }
}

async function* entries(bytes: Bytes): AsyncGenerator<TarEntry> {
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await bytes.take(512);
    if (h.length === 0) return; // no end-of-archive blocks: accepted, as GNU tar does
    if (h.length < 512) bad("truncated header");
    if (h.every((x) => x === 0)) return; // end-of-archive
    if (!tarChecksumOk(h)) bad("header checksum mismatch");
    const typeflag = String.fromCharCode(h[156]!);
    let size = num(h, 124, 12);
    if (typeflag === "x" || typeflag === "g") {
      const recs = parsePax(await readAll(bytes, size));
      if (typeflag === "g") global = new Map([...global, ...recs]);
      else pax = recs;
      continue;
    }
    if (typeflag === "L" || typeflag === "K") {
      const v = tarString(await readAll(bytes, size), 0, size);
      if (typeflag === "L") longName = v;
      else longLink = v;
      continue;
    }
    const recs = new Map([...global, ...(pax ?? [])]);
    pax = undefined;
    let name = longName ?? tarHeaderName(h);
    let linkname = longLink ?? tarString(h, 157, 100);
    longName = longLink = undefined;
    const str = (k: string) => recs.get(k)?.toString("utf8");
    const int = (k: string, d: number) => {
      const v = str(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) bad(`bad PAX ${k}=${JSON.stringify(v)}`);
      return n;
    };
    name = str("path") ?? name;
    linkname = str("linkpath") ?? linkname;
    size = int("size", size);
    const xattrs: [string, Buffer][] = [];
    for (const [k, v] of recs) if (k.startsWith("SCHILY.xattr.")) xattrs.push([k.slice(13), v]);
    const type = TYPES[typeflag] ?? "other";
    const header: TarHeader = {
      name,
      type,
      typeflag,
      mode: num(h, 100, 8),
      uid: int("uid", num(h, 108, 8)),
      gid: int("gid", num(h, 116, 8)),
      size,
      mtime: new Date(Math.floor(int("mtime", num(h, 136, 12))) * 1000),
      linkname,
      devmajor: num(h, 329, 8),
      devminor: num(h, 337, 8),
      xattrs,
    };
    // only regular files (and unknown types) carry data; a hardlink's or dir's size is ignored
    const dataSize = type === "file" || type === "contiguous-file" || type === "other" ? size : 0;
    let left = dataSize;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (left > 0) {
          const c = await bytes.some(Math.min(left, 1 << 20));
          if (c.length === 0) bad(`unexpected end of archive in ${JSON.stringify(name)}`);
          left -= c.length;
          yield c;
        }
      },
    };
    yield { header, body };
    while (left > 0) {
      const c = await bytes.some(Math.min(left, 1 << 20));
      if (c.length === 0) bad(`unexpected end of archive in ${JSON.stringify(name)}`);
      left -= c.length;
    }
    await bytes.take((512 - (dataSize % 512)) % 512);
  }
}
