// One gzip member whose deflate stream is made of segments at different levels: data that will not
// compress (images, archives, fonts) is stored, the rest deflated, without the cost of trying.
// zlib's deflateParams cannot be relied on through Node here (params() left the level as it
// was: a 3 MB noise file took 60 ms "at level 0" against 6 ms from a level-0 stream), so each
// level change starts a new raw deflate stream: the previous one ends with a sync flush (byte
// aligned, no final block) and the next one continues the same deflate stream. Same input and
// same level changes give the same bytes (the blob stays reproducible).
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { constants, crc32, createDeflateRaw, type DeflateRaw } from "node:zlib";

/** gzip header: deflate, no name, mtime 0, no extra flags, OS unix (as a reproducible build wants). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

export class SegmentedGzip {
  /** The gzip bytes. */
  readonly output: Readable;
  private readonly out = new PassThrough();
  private raw: DeflateRaw;
  private crc = 0;
  private size = 0;
  private failed?: Error;
  private ended = false;

  constructor(
    private level: number,
    private readonly chunkSize = 256 * 1024,
  ) {
    this.output = this.out;
    this.out.write(HEADER);
    this.out.on("drain", () => this.raw.resume());
    // the reader gone (a failed write of the blob: disk full): the writer must not wait on drain
    this.out.on("close", () => {
      if (!this.ended) this.destroy(new Error("the compressed layer's output closed early"));
    });
    this.raw = this.segment(level);
  }

  private segment(level: number): DeflateRaw {
    const d = createDeflateRaw({ level, chunkSize: this.chunkSize });
    d.on("data", (c: Buffer) => {
      if (!this.out.write(c)) d.pause();
    });
    d.on("error", (err) => this.destroy(err));
    return d;
  }

  /** Writes `chunk` (resolves when the segment can take more). */
  async writeChunk(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.crc = crc32(chunk, this.crc);
    this.size = (this.size + chunk.length) >>> 0;
    if (!this.raw.write(chunk)) await once(this.raw, "drain");
  }

  /** Deflates what follows at `level` (0: stored). */
  async setLevel(level: number): Promise<void> {
    if (level === this.level) return;
    const prev = this.raw;
    // a sync flush ends the segment on a byte boundary, every byte so far written out
    await new Promise<void>((resolve) => prev.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    if (this.failed) throw this.failed;
    // output still in its buffer comes out now (read() emits it as "data", into `out`)
    while (prev.read() !== null);
    prev.removeAllListeners("data");
    prev.on("error", () => {});
    prev.destroy();
    this.level = level;
    this.raw = this.segment(level);
  }

  /** Ends the deflate stream (its final block), then the gzip trailer (CRC-32, size mod 2^32). */
  async end(): Promise<void> {
    if (this.failed) throw this.failed;
    const ended = once(this.raw, "end");
    this.raw.end();
    await ended;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size, 4);
    this.ended = true;
    this.out.end(trailer);
  }

  destroy(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.raw.destroy(err); // a writer waiting on its drain gets the error
    this.out.destroy(err);
  }
}
