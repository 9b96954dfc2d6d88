import { createReadStream } from "node:fs";
import { mkdir, readFile, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { DockyardError } from "../errors.js";
import { digestOf, parseDigest, VerifyingStream, type Digest } from "../digest.js";
import { MediaType } from "../media-types.js";
import { parseManifest, type Descriptor, type ImageIndex } from "../manifest.js";
import { atomicWriteFile, atomicWriteStream } from "../../util/fs.js";
import type { ImageSource, ImageTarget, WriteManifestOptions } from "./types.js";

export const REF_NAME = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME = "io.containerd.image.name";
const LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: "1.0.0" });

/** Runs `fn` holding a directory lock beside `path` (cross-process, stale after 60 s). */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 60_000) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new DockyardError("INTERNAL", `timed out waiting for lock ${lock}`);
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
  const keep = setInterval(() => {
    const now = new Date();
    utimes(lock, now, now).catch(() => {});
  }, 10_000);
  keep.unref();
  try {
    return await fn();
  } finally {
    clearInterval(keep);
    await rm(lock, { recursive: true, force: true });
  }
}

export interface OciLayoutOptions {
  /** fsync blobs and index.json before they become visible (default false; the store sets true). */
  fsync?: boolean;
}

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), readable by
 * skopeo/umoci/containerd and reading theirs. Images are named by `org.opencontainers.image.ref.name`.
 */
export class OciLayout implements ImageSource, ImageTarget {
  readonly description: string;
  readonly acceptsIndex = true;
  protected readonly fsync: boolean;
  constructor(
    readonly dir: string,
    opts: OciLayoutOptions = {},
  ) {
    this.description = `oci:${dir}`;
    this.fsync = opts.fsync ?? false;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, "blobs", algorithm, hex);
  }

  protected get indexPath(): string {
    return join(this.dir, "index.json");
  }

  async exists(): Promise<boolean> {
    return stat(join(this.dir, "oci-layout")).then(
      () => true,
      () => false,
    );
  }

  /** Creates the layout files when missing. */
  async init(): Promise<void> {
    await mkdir(join(this.dir, "blobs", "sha256"), { recursive: true });
    const layout = join(this.dir, "oci-layout");
    if (!(await this.exists())) await atomicWriteFile(layout, LAYOUT_FILE, { fsync: this.fsync });
    const idx = await stat(this.indexPath).catch(() => undefined);
    if (!idx) await this.writeIndexFile({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
  }

  async readIndex(): Promise<ImageIndex> {
    let raw: Buffer;
    try {
      raw = await readFile(this.indexPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        if (!(await this.exists()))
          throw new DockyardError("NOT_FOUND", `${this.dir} is not an OCI layout (no oci-layout file)`);
        return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
      }
      throw err;
    }
    try {
      return parseManifest(raw, MediaType.ociIndex).manifest as ImageIndex;
    } catch (err) {
      throw new DockyardError("MANIFEST_INVALID", `${this.indexPath}: ${(err as Error).message}`);
    }
  }

  protected async writeIndexFile(index: ImageIndex): Promise<void> {
    await atomicWriteFile(this.indexPath, JSON.stringify(index), { fsync: this.fsync });
  }

  /** Read-modify-write of index.json under the layout lock. */
  protected async updateIndex(fn: (index: ImageIndex) => ImageIndex | void): Promise<ImageIndex> {
    await this.init();
    return withLock(this.indexPath, async () => {
      const index = await this.readIndex();
      const next = fn(index) ?? index;
      await this.writeIndexFile(next);
      return next;
    });
  }

  /** Names the layout gives an entry (`ref.name`, containerd's image name). */
  static refNames(d: Descriptor): string[] {
    const a = d.annotations ?? {};
    return [a[REF_NAME], a[CONTAINERD_NAME]].filter((x): x is string => typeof x === "string");
  }

  protected matches(d: Descriptor, ref: string): boolean {
    return OciLayout.refNames(d).includes(ref);
  }

  async resolve(ref?: string): Promise<Descriptor> {
    const index = await this.readIndex();
    if (ref === undefined || ref === "") {
      if (index.manifests.length === 1) return strip(index.manifests[0]!);
      if (index.manifests.length === 0)
        throw new DockyardError("MANIFEST_UNKNOWN", `${this.dir} holds no images`);
      const names = index.manifests.map((d) => OciLayout.refNames(d)[0] ?? d.digest);
      throw new DockyardError(
        "USAGE",
        `${this.dir} holds ${index.manifests.length} images; name one (${this.description}:REF): ${names.join(", ")}`,
      );
    }
    const at = ref.startsWith("@") ? ref.slice(1) : ref;
    if (/^sha(256|512):/.test(at)) {
      const found = index.manifests.find((d) => d.digest === at);
      if (found) return strip(found);
      const bytes = await readFile(this.blobPath(at)).catch(() => undefined);
      if (bytes && digestOf(bytes, parseDigest(at).algorithm) === at) {
        const { mediaType } = parseManifest(bytes);
        return { mediaType, digest: at as Digest, size: bytes.length };
      }
      throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no manifest ${at}`);
    }
    const found = index.manifests.filter((d) => this.matches(d, ref));
    if (found.length === 0)
      throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no image ${ref}`);
    return strip(found[found.length - 1]!);
  }

  async fetchManifest(desc: Descriptor): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(desc.digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no manifest ${desc.digest}`);
      throw err;
    }
    if (digestOf(bytes, parseDigest(desc.digest).algorithm) !== desc.digest)
      throw new DockyardError("DIGEST_INVALID", `${this.blobPath(desc.digest)} does not match its digest`);
    return bytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DockyardError("BLOB_UNKNOWN", `${this.description} has no blob ${desc.digest}`);
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const st = await stat(this.blobPath(desc.digest)).catch(() => undefined);
    return st !== undefined && st.isFile() && st.size === desc.size;
  }

  async writeBlob(desc: Descriptor, data: Readable): Promise<void> {
    await this.init();
    const path = this.blobPath(desc.digest);
    await mkdir(join(path, ".."), { recursive: true });
    await writeVerified(path, data, desc, this.fsync);
  }

  /** Stores manifest bytes as a blob (no index entry). */
  async putManifestBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    await this.init();
    const digest = digestOf(bytes);
    const path = this.blobPath(digest);
    const have = await stat(path).catch(() => undefined);
    if (!have || have.size !== bytes.length) await atomicWriteFile(path, bytes, { fsync: this.fsync });
    return { mediaType, digest, size: bytes.length };
  }

  async writeManifest(
    ref: string | undefined,
    bytes: Uint8Array,
    mediaType: string,
    opts: WriteManifestOptions = {},
  ): Promise<Descriptor> {
    parseManifest(bytes, mediaType);
    const desc = await this.putManifestBlob(bytes, mediaType);
    if (ref !== undefined || opts.top) await this.addToIndex(desc, ref, bytes, opts.annotations);
    return desc;
  }

  /** Lists `desc` in index.json, named `ref` (replacing whatever held that name). */
  async addToIndex(
    desc: Descriptor,
    ref: string | undefined,
    bytes?: Uint8Array,
    extra?: Record<string, string>,
  ): Promise<void> {
    const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    const platform = bytes ? await this.platformOf(bytes).catch(() => undefined) : undefined;
    if (platform) entry.platform = platform;
    if (ref !== undefined || extra)
      entry.annotations = { ...(ref !== undefined ? { [REF_NAME]: ref } : {}), ...extra };
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((d) =>
        ref !== undefined ? !this.matches(d, ref) : !(d.digest === desc.digest && !d.annotations?.[REF_NAME]),
      );
      index.manifests.push(entry);
    });
  }

  /** The platform recorded for an image manifest's index entry (from its config), as skopeo does. */
  protected async platformOf(bytes: Uint8Array): Promise<Descriptor["platform"]> {
    const { manifest } = parseManifest(bytes);
    if (!("config" in manifest)) return undefined;
    const cfgPath = this.blobPath(manifest.config.digest);
    if (manifest.config.size > 4 << 20) return undefined;
    const cfg = JSON.parse(await readFile(cfgPath, "utf8")) as Record<string, unknown>;
    if (typeof cfg.os !== "string" || typeof cfg.architecture !== "string") return undefined;
    const p: NonNullable<Descriptor["platform"]> = { architecture: cfg.architecture, os: cfg.os };
    if (typeof cfg.variant === "string") p.variant = cfg.variant;
    return p;
  }
}

function strip(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.annotations) out.annotations = d.annotations;
  if (d.platform) out.platform = d.platform;
  return out;
}

/**
 * Streams `data` to `path` through a digest/size check: temp file, (fsync), rename. On any
 * error (bad digest, short read) the temp file is removed and `path` is untouched.
 */
export async function writeVerified(
  path: string,
  data: Readable,
  desc: Descriptor,
  fsync = false,
): Promise<void> {
  await atomicWriteStream(path, data, { fsync, through: [new VerifyingStream(desc.digest, desc.size)] });
}
