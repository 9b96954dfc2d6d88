// A small, fast tar writer (ustar + PAX records for long names, large ids and sizes) that batches
// output into large chunks: layer diffs of thousands of small files are bound by per-entry
// overhead, not by bytes.
import { Digester } from "../image/digest.js";

export interface TarEntry {
  name: string;
  type: "file" | "link" | "symlink" | "character-device" | "block-device" | "directory" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: number; // seconds
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX `SCHILY.xattr.NAME` records (values are raw bytes). */
  xattrs?: [string, Buffer][];
}

const TYPEFLAG: Record<TarEntry["type"], string> = {
  file: "0",
  link: "1",
  symlink: "2",
  "character-device": "3",
  "block-device": "4",
  directory: "5",
  fifo: "6",
};

const CHUNK = 1 << 20;

function octal(buf: Buffer, off: number, width: number, value: number): void {
  const s = Math.max(0, Math.floor(value))
    .toString(8)
    .padStart(width - 1, "0");
  buf.write(s + "\0", off, width, "ascii");
}

/** One PAX record, `LEN KEY=VALUE\n`, LEN counting its own digits; the value may be binary. */
export function paxRecord(key: string, value: string | Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), Buffer.from(value), Buffer.from("\n")]);
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len), "ascii"), body]);
}

export class TarWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  /** Digest of the uncompressed stream (the layer's diffID). */
  readonly digester = new Digester();

  /** `out`: a sink whose writeChunk resolves when it can take more (SegmentedGzip). */
  constructor(private readonly out: { writeChunk(chunk: Buffer): Promise<void> }) {}

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const chunk = Buffer.from(this.buf.subarray(0, this.used));
    this.used = 0;
    this.digester.update(chunk);
    await this.out.writeChunk(chunk);
  }

  private async push(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(CHUNK - this.used, data.length - off);
      data.copy(this.buf, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === CHUNK) await this.flush();
    }
  }

  private header(e: TarEntry, typeflag: string, name: string, linkname: string, size: number): Buffer {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, "utf8");
    octal(h, 100, 8, e.mode & 0o7777);
    octal(h, 108, 8, e.uid);
    octal(h, 116, 8, e.gid);
    octal(h, 124, 12, size);
    octal(h, 136, 12, e.mtime);
    h.write("        ", 148, 8, "ascii");
    h.write(typeflag, 156, 1, "ascii");
    h.write(linkname, 157, 100, "utf8");
    h.write("ustar\0", 257, 6, "ascii");
    h.write("00", 263, 2, "ascii");
    octal(h, 329, 8, e.devmajor ?? 0);
    octal(h, 337, 8, e.devminor ?? 0);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i]!;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
    return h;
  }

  /** Writes an entry header (and PAX header when needed); file data follows with `data()`. */
  async entry(e: TarEntry): Promise<void> {
    const size = e.type === "file" ? (e.size ?? 0) : 0;
    const linkname = e.linkname ?? "";
    const pax: Buffer[] = [];
    if (Buffer.byteLength(e.name) > 100) pax.push(paxRecord("path", e.name));
    if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord("linkpath", linkname));
    if (e.uid > 0o7777777) pax.push(paxRecord("uid", String(e.uid)));
    if (e.gid > 0o7777777) pax.push(paxRecord("gid", String(e.gid)));
    if (size > 0o77777777777) pax.push(paxRecord("size", String(size)));
    for (const [k, v] of e.xattrs ?? []) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (pax.length) {
      const body = Buffer.concat(pax);
      const short = `PaxHeaders/${e.name.split("/").filter(Boolean).pop() ?? "x"}`.slice(0, 99);
      await this.push(this.header({ ...e, mode: 0o644 }, "x", short, "", body.length));
      await this.push(body);
      await this.pad(body.length);
    }
    const ln = Buffer.byteLength(linkname) > 100 ? "" : linkname;
    await this.push(this.header(e, TYPEFLAG[e.type], e.name, ln, size)); // a long name is cut; PAX has it
  }

  async data(chunk: Buffer): Promise<void> {
    await this.push(chunk);
  }

  /** Hands everything buffered so far to `out` (before its settings change mid-stream). */
  async flushBuffered(): Promise<void> {
    await this.flush();
  }

  async pad(size: number): Promise<void> {
    const r = size % 512;
    if (r) await this.push(Buffer.alloc(512 - r));
  }

  /** Writes the end-of-archive blocks and flushes; does not end `out`. */
  async finish(): Promise<void> {
    await this.push(Buffer.alloc(1024));
    await this.flush();
  }
}
