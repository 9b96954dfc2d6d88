// oci-archive:FILE and docker-archive:FILE — reading (random access over an indexed tar; gzip and
// stdin spooled to a temp file first) and writing (one streaming tar, atomically renamed).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import tarStream from "tar-stream";
import { DockyardError } from "../errors.js";
import { digestOf, Digester, parseDigest, VerifyingStream, type Digest } from "../digest.js";
import { MediaType } from "../media-types.js";
import {
  isIndex,
  parseManifest,
  serializeManifest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "../manifest.js";
import { familiarReference, formatReference, parseReference } from "../reference.js";
import { indexTar, type TarIndexEntry } from "../layers/tar-index.js";
import { tempPathFor } from "../../util/fs.js";
import { CONTAINERD_NAME, REF_NAME } from "./oci-layout.js";
import type { ImageSource, ImageTarget, WriteManifestOptions } from "./types.js";
import type { OpenedSource, OpenedTarget, OpenOptions, TransportSpec } from "./index.js";

/** `application/vnd.docker.image.rootfs.diff.tar`: what skopeo calls an uncompressed Docker layer. */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
const MAX_JSON = 16 << 20;

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor>;
}

/** Copies a (possibly gzipped) stream to a temp tar file; returns its path and a cleanup. */
export async function spoolToFile(
  input: NodeJS.ReadableStream,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(process.env.DOCKYARD_TMPDIR || tmpdir(), "dockyard-archive-"));
  const path = join(dir, "archive.tar");
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const src = Readable.from(input as AsyncIterable<Buffer>);
    // Peek at the first bytes to spot gzip.
    const it = src[Symbol.asyncIterator]();
    const first = await it.next();
    const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer);
    const rest = Readable.from(
      (async function* () {
        yield head;
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          yield r.value as Buffer;
        }
      })(),
    );
    if (head[0] === 0x1f && head[1] === 0x8b) await pipeline(rest, createGunzip(), createWriteStream(path));
    else await pipeline(rest, createWriteStream(path));
    return { path, cleanup };
  } catch (err) {
    await cleanup();
    if (err instanceof DockyardError) throw err;
    throw new DockyardError("ARCHIVE_INVALID", `cannot read the archive: ${(err as Error).message}`);
  }
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * An indexed tar archive read at random: `docker save` output (classic `manifest.json` +
 * `<id>/layer.tar`, and the Docker 25+ variant embedding an OCI layout) or an OCI layout tar.
 */
export class ArchiveSource implements ImageSource {
  readonly description: string;
  private entries!: Map<string, TarIndexEntry>;
  /** Synthesized or embedded manifests by digest. */
  private readonly manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  /** Where each blob lives in the tar. */
  private readonly blobs = new Map<string, TarIndexEntry>();
  private dockerEntries: DockerManifestEntry[] = [];
  private ociIndex?: ImageIndex;

  private constructor(
    readonly kind: "oci-archive" | "docker-archive",
    readonly file: string,
    label: string,
    private readonly cleanup?: () => Promise<void>,
  ) {
    this.description = `${kind}:${label}`;
  }

  static async open(
    kind: "oci-archive" | "docker-archive",
    file: string | undefined,
    input?: NodeJS.ReadableStream,
  ): Promise<ArchiveSource> {
    let path = file;
    let cleanup: (() => Promise<void>) | undefined;
    if (input || !file || file === "-") {
      const s = await spoolToFile(input ?? process.stdin);
      path = s.path;
      cleanup = s.cleanup;
    } else {
      const st = await stat(file).catch(() => undefined);
      if (!st) throw new DockyardError("NOT_FOUND", `no archive at ${file}`);
      if (await isGzipFile(file)) {
        const s = await spoolToFile(createReadStream(file));
        path = s.path;
        cleanup = s.cleanup;
      }
    }
    const src = new ArchiveSource(kind, path!, file && file !== "-" ? file : "(stdin)", cleanup);
    try {
      await src.load();
    } catch (err) {
      await src.close();
      throw err;
    }
    return src;
  }

  private async readEntry(name: string, max = MAX_JSON): Promise<Buffer> {
    const e = this.entries.get(name);
    if (!e || e.type !== "file")
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: no file ${JSON.stringify(name)} in the archive`,
      );
    if (e.size > max)
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: ${name} is ${e.size} bytes, too large`,
      );
    const fh = await open(this.file, "r");
    try {
      const buf = Buffer.alloc(e.size);
      await fh.read(buf, 0, e.size, e.offset);
      return buf;
    } finally {
      await fh.close();
    }
  }

  private async readJson<T>(name: string): Promise<T> {
    const raw = await this.readEntry(name);
    try {
      return JSON.parse(raw.toString("utf8")) as T;
    } catch (err) {
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: ${name} is not valid JSON: ${(err as Error).message}`,
      );
    }
  }

  private async load(): Promise<void> {
    this.entries = await indexTar(this.file);
    for (const e of this.entries.values()) {
      const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(e.name);
      if (m && e.type === "file") this.blobs.set(`${m[1]}:${m[2]}`, e);
    }
    if (this.entries.has("index.json")) {
      const raw = await this.readEntry("index.json");
      try {
        this.ociIndex = parseManifest(raw, MediaType.ociIndex).manifest as ImageIndex;
      } catch (err) {
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${this.description}: index.json: ${(err as Error).message}`,
        );
      }
    }
    if (this.kind === "docker-archive") {
      if (!this.entries.has("manifest.json"))
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${this.description} has no manifest.json: not a docker save archive${this.ociIndex ? " (it looks like an OCI archive: use oci-archive:)" : ""}`,
        );
      const doc = await this.readJson<unknown>("manifest.json");
      if (!Array.isArray(doc) || doc.length === 0)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${this.description}: manifest.json must be a non-empty array`,
        );
      doc.forEach((d, i) => {
        const e = d as DockerManifestEntry;
        if (
          typeof e?.Config !== "string" ||
          !Array.isArray(e.Layers) ||
          e.Layers.some((l) => typeof l !== "string")
        )
          throw new DockyardError(
            "ARCHIVE_INVALID",
            `${this.description}: manifest.json[${i}] needs Config and Layers`,
          );
        cleanName(e.Config, this.description);
        e.Layers.forEach((l) => cleanName(l, this.description));
      });
      this.dockerEntries = doc as DockerManifestEntry[];
    } else if (!this.ociIndex) {
      throw new DockyardError("ARCHIVE_INVALID", `${this.description} has no index.json: not an OCI archive`);
    }
  }

  private blobEntry(digest: string): TarIndexEntry | undefined {
    return this.blobs.get(digest);
  }

  private async ociResolve(ref: string | undefined): Promise<Descriptor> {
    const index = this.ociIndex!;
    const names = (d: Descriptor) =>
      [d.annotations?.[REF_NAME], d.annotations?.[CONTAINERD_NAME]].filter(Boolean);
    if (!ref) {
      if (index.manifests.length === 1) return index.manifests[0]!;
      throw new DockyardError(
        "USAGE",
        `${this.description} holds ${index.manifests.length} images; name one: ${index.manifests.map((d) => names(d)[0] ?? d.digest).join(", ")}`,
      );
    }
    const full = isFullRef(ref) ? safeNormalize(ref) : undefined;
    const found =
      index.manifests.find((d) => names(d).includes(ref)) ??
      (full ? index.manifests.find((d) => d.annotations?.[CONTAINERD_NAME] === full) : undefined) ??
      index.manifests.find((d) => d.digest === ref);
    if (!found) throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no image ${ref}`);
    return found;
  }

  private pickDockerEntry(ref: string | undefined): DockerManifestEntry {
    const list = this.dockerEntries;
    if (!ref) {
      if (list.length === 1) return list[0]!;
      throw new DockyardError(
        "USAGE",
        `${this.description} holds ${list.length} images; name one (${this.description}:REF): ${list
          .map((e) => e.RepoTags?.[0] ?? e.Config)
          .join(", ")}`,
      );
    }
    const at = /^@(\d+)$/.exec(ref);
    if (at) {
      const e = list[Number(at[1])];
      if (!e) throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no image number ${at[1]}`);
      return e;
    }
    let want: string;
    try {
      want = formatReference(parseReference(ref));
    } catch {
      want = ref;
    }
    const found = list.find((e) =>
      (e.RepoTags ?? []).some((t) => {
        try {
          return formatReference(parseReference(t)) === want;
        } catch {
          return t === ref;
        }
      }),
    );
    if (!found) throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no image tagged ${ref}`);
    return found;
  }

  /** Digest of an archive member: from a `blobs/sha256/…` name, or by hashing it. */
  private async memberDigest(name: string, hint?: Digest): Promise<{ digest: Digest; size: number }> {
    const e = this.entries.get(cleanName(name, this.description));
    if (!e || e.type !== "file")
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: manifest.json names ${name}, which is not in the archive`,
      );
    const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(e.name);
    if (m) return { digest: `${m[1]}:${m[2]}` as Digest, size: e.size };
    if (hint) {
      this.blobs.set(hint, e);
      return { digest: hint, size: e.size };
    }
    const d = new Digester();
    for await (const c of createReadStream(this.file, { start: e.offset, end: e.offset + e.size - 1 }))
      d.update(c as Buffer);
    const digest = d.digest();
    this.blobs.set(digest, e);
    return { digest, size: e.size };
  }

  private async isGzipMember(name: string): Promise<boolean> {
    const e = this.entries.get(cleanName(name, this.description))!;
    if (e.size < 2) return false;
    const fh = await open(this.file, "r");
    try {
      const b = Buffer.alloc(2);
      await fh.read(b, 0, 2, e.offset);
      return b[0] === 0x1f && b[1] === 0x8b;
    } finally {
      await fh.close();
    }
  }

  /** The embedded OCI manifest matching a manifest.json entry (Docker 25+), if any. */
  private async embeddedFor(entry: DockerManifestEntry, cfgDigest: Digest): Promise<Descriptor | undefined> {
    if (!this.ociIndex) return undefined;
    const visit = async (d: Descriptor): Promise<Descriptor | undefined> => {
      const e = this.blobEntry(d.digest);
      if (!e || e.size > MAX_JSON) return undefined;
      const bytes = await this.readEntry(e.name);
      if (digestOf(bytes, parseDigest(d.digest).algorithm) !== d.digest) return undefined;
      let parsed;
      try {
        parsed = parseManifest(bytes, d.mediaType);
      } catch {
        return undefined;
      }
      if (isIndex(parsed.manifest)) {
        for (const c of parsed.manifest.manifests) {
          const hit = await visit(c);
          if (hit) return hit;
        }
        return undefined;
      }
      if (
        parsed.manifest.config.digest !== cfgDigest ||
        parsed.manifest.layers.length !== entry.Layers.length
      )
        return undefined;
      this.manifests.set(d.digest, { bytes, mediaType: parsed.mediaType });
      return { mediaType: parsed.mediaType, digest: d.digest, size: bytes.length };
    };
    for (const d of this.ociIndex.manifests) {
      const hit = await visit(d);
      if (hit) return hit;
    }
    return undefined;
  }

  async resolve(ref?: string): Promise<Descriptor> {
    if (this.kind === "oci-archive") return this.ociResolve(ref);
    const entry = this.pickDockerEntry(ref);
    const cfgBytes = await this.readEntry(cleanName(entry.Config, this.description));
    const cfgDigest = digestOf(cfgBytes);
    this.blobs.set(cfgDigest, this.entries.get(cleanName(entry.Config, this.description))!);
    const embedded = await this.embeddedFor(entry, cfgDigest);
    if (embedded) return embedded;
    // Classic archive: synthesize a Docker schema2 manifest, as skopeo does.
    let cfg: ImageConfig;
    try {
      cfg = JSON.parse(cfgBytes.toString("utf8")) as ImageConfig;
    } catch (err) {
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: ${entry.Config} is not JSON: ${(err as Error).message}`,
      );
    }
    const diffIds = cfg.rootfs?.diff_ids ?? [];
    if (diffIds.length !== entry.Layers.length)
      throw new DockyardError(
        "ARCHIVE_INVALID",
        `${this.description}: ${entry.Config} lists ${diffIds.length} layers, manifest.json ${entry.Layers.length}`,
      );
    const layers: Descriptor[] = [];
    for (let i = 0; i < entry.Layers.length; i++) {
      const name = entry.Layers[i]!;
      const gz = await this.isGzipMember(name);
      // An uncompressed layer's digest is its diff_id (verified when it is written anywhere).
      const { digest, size } = await this.memberDigest(name, gz ? undefined : diffIds[i]);
      const src = entry.LayerSources?.[digest];
      layers.push({
        mediaType: src?.mediaType ?? (gz ? MediaType.dockerLayerGzip : DOCKER_LAYER_TAR),
        digest,
        size,
      });
    }
    const m: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: cfgDigest, size: cfgBytes.length },
      layers,
    };
    const bytes = serializeManifest(m);
    const digest = digestOf(bytes);
    this.manifests.set(digest, { bytes, mediaType: MediaType.dockerManifest });
    return { mediaType: MediaType.dockerManifest, digest, size: bytes.length };
  }

  /** Tags recorded for the image `ref` names (docker-archive RepoTags). */
  repoTags(ref?: string): string[] {
    if (this.kind !== "docker-archive") return [];
    return this.pickDockerEntry(ref).RepoTags ?? [];
  }

  /** All images in the archive, as refs to pass to resolve (`@0`, `@1`… for docker archives). */
  images(): { ref: string; tags: string[] }[] {
    if (this.kind === "docker-archive")
      return this.dockerEntries.map((e, i) => ({ ref: `@${i}`, tags: e.RepoTags ?? [] }));
    return this.ociIndex!.manifests.map((d) => {
      const a = d.annotations ?? {};
      const name = a[CONTAINERD_NAME] ?? (a[REF_NAME] && isFullRef(a[REF_NAME]) ? a[REF_NAME] : undefined);
      return { ref: a[CONTAINERD_NAME] ?? a[REF_NAME] ?? d.digest, tags: name ? [name] : [] };
    });
  }

  async fetchManifest(desc: Descriptor): Promise<Uint8Array> {
    const known = this.manifests.get(desc.digest);
    if (known) return known.bytes;
    const e = this.blobEntry(desc.digest);
    if (!e) throw new DockyardError("MANIFEST_UNKNOWN", `${this.description} has no manifest ${desc.digest}`);
    const bytes = await this.readEntry(e.name);
    if (digestOf(bytes, parseDigest(desc.digest).algorithm) !== desc.digest)
      throw new DockyardError("DIGEST_INVALID", `${this.description}: ${e.name} does not match its digest`);
    return bytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const e = this.blobEntry(desc.digest);
    if (!e) throw new DockyardError("BLOB_UNKNOWN", `${this.description} has no blob ${desc.digest}`);
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.file, {
      start: e.offset,
      end: e.offset + e.size - 1,
      highWaterMark: 1 << 20,
    });
  }

  async close(): Promise<void> {
    await this.cleanup?.();
  }
}

/** `busybox:1`, `host/app` — a reference rather than a plain OCI ref name like `v1`. */
function isFullRef(t: string): boolean {
  if (!t.includes("/") && !t.includes(":")) return false;
  try {
    parseReference(t);
    return true;
  } catch {
    return false;
  }
}

function safeNormalize(t: string): string {
  return formatReference(parseReference(t));
}

function cleanName(name: string, where: string): string {
  const parts: string[] = [];
  for (const p of name.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..")
      throw new DockyardError(
        "PATH_ESCAPE",
        `${where}: manifest.json names ${JSON.stringify(name)}, outside the archive`,
      );
    parts.push(p);
  }
  if (name.startsWith("/"))
    throw new DockyardError(
      "PATH_ESCAPE",
      `${where}: manifest.json names the absolute path ${JSON.stringify(name)}`,
    );
  return parts.join("/");
}

interface WrittenImage {
  desc: Descriptor;
  manifest: ImageManifest | ImageIndex;
  tags: string[];
}

/**
 * Writes an archive as one tar stream: `blobs/sha256/<hex>` members as blobs arrive (copy
 * feeds them one at a time), then `index.json`, `oci-layout` and, for docker archives,
 * `manifest.json` + `repositories` (what Docker 25 writes; Docker 20.10's `docker load` reads
 * it). The file appears only on commit (temp name + rename).
 */
export class ArchiveTarget implements ImageTarget {
  readonly description: string;
  readonly sequential = true;
  readonly acceptsIndex: boolean;
  private readonly pack = tarStream.pack();
  private readonly written = new Set<string>();
  private readonly images: WrittenImage[] = [];
  private readonly done: Promise<void>;
  private readonly tmp?: string;
  private started = false;
  private failed = false;

  constructor(
    readonly kind: "oci-archive" | "docker-archive",
    private readonly file: string | undefined,
    private readonly opts: { gzip?: boolean; stream?: NodeJS.WritableStream; tags?: string[] } = {},
  ) {
    this.description = `${kind}:${file ?? "(stream)"}`;
    this.acceptsIndex = kind === "oci-archive";
    const out: NodeJS.WritableStream =
      opts.stream ?? createWriteStream((this.tmp = tempPathFor(file!)), { mode: 0o644 });
    const stages: unknown[] = [this.pack];
    if (opts.gzip) stages.push(createGzip({ level: 6 }));
    stages.push(out);
    this.done = pipeline(stages as unknown as [Readable, Writable]);
    this.done.catch(() => {});
  }

  private addEntry(name: string, body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  private async begin(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const d of ["blobs/", "blobs/sha256/"])
      await new Promise<void>((resolve, reject) =>
        this.pack.entry({ name: d, type: "directory", mode: 0o755, mtime: new Date(0) }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.written.has(desc.digest);
  }

  async writeBlob(desc: Descriptor, data: Readable): Promise<void> {
    if (this.written.has(desc.digest)) {
      data.resume();
      return;
    }
    await this.begin();
    const { algorithm, hex } = parseDigest(desc.digest);
    const entry = this.pack.entry({
      name: `blobs/${algorithm}/${hex}`,
      size: desc.size,
      mode: 0o644,
      mtime: new Date(0),
    });
    try {
      await pipeline(data, new VerifyingStream(desc.digest, desc.size), entry as unknown as Writable);
    } catch (err) {
      this.failed = true; // the tar stream is now unusable: the whole write must be aborted
      throw err;
    }
    this.written.add(desc.digest);
  }

  async writeManifest(
    ref: string | undefined,
    bytes: Uint8Array,
    mediaType: string,
    opts: WriteManifestOptions = {},
  ): Promise<Descriptor> {
    const { manifest } = parseManifest(bytes, mediaType);
    const digest = digestOf(bytes);
    const desc: Descriptor = { mediaType, digest, size: bytes.length };
    if (!this.written.has(digest)) {
      await this.begin();
      await this.addEntry(`blobs/sha256/${digest.slice(7)}`, Buffer.from(bytes));
      this.written.add(digest);
    }
    if (opts.top || ref !== undefined) {
      const tags = ref !== undefined ? [ref] : (this.opts.tags ?? []);
      this.images.push({ desc, manifest, tags });
    }
    return desc;
  }

  async commit(): Promise<void> {
    if (this.failed)
      throw new DockyardError("INTERNAL", `${this.description}: a blob failed; nothing was written`);
    await this.begin();
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    for (const img of this.images) {
      const names = img.tags.length ? img.tags : [undefined];
      for (const t of names) {
        const d: Descriptor = { mediaType: img.desc.mediaType, digest: img.desc.digest, size: img.desc.size };
        if (t !== undefined) {
          // A full reference gets containerd's name annotation (what Docker 25 writes) and its
          // tag as ref.name; a plain OCI ref name (`v1`) is kept as given (skopeo's habit).
          if (this.kind === "docker-archive" || isFullRef(t)) {
            const r = parseReference(t);
            d.annotations = { [CONTAINERD_NAME]: formatReference(r), [REF_NAME]: r.tag ?? "latest" };
          } else d.annotations = { [REF_NAME]: t };
        }
        index.manifests.push(d);
      }
    }
    await this.addEntry("index.json", Buffer.from(JSON.stringify(index)));
    await this.addEntry("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    if (this.kind === "docker-archive") {
      const entries: DockerManifestEntry[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const img of this.images) {
        if (isIndex(img.manifest))
          throw new DockyardError(
            "UNSUPPORTED",
            "docker archives hold single-platform images; pick one with --platform",
          );
        const repoTags = img.tags.map((t) => familiarReference(parseReference(t)));
        entries.push({
          Config: `blobs/sha256/${img.manifest.config.digest.slice(7)}`,
          RepoTags: repoTags.length ? repoTags : null,
          Layers: img.manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
        });
        for (const t of img.tags) {
          const r = parseReference(t);
          const name = familiarReference({ registry: r.registry, repository: r.repository });
          (repositories[name] ??= {})[r.tag ?? "latest"] = img.desc.digest.slice(7);
        }
      }
      await this.addEntry("manifest.json", Buffer.from(JSON.stringify(entries)));
      if (Object.keys(repositories).length)
        await this.addEntry("repositories", Buffer.from(JSON.stringify(repositories)));
    }
    this.pack.finalize();
    await this.done;
    if (this.tmp) {
      const fh = await open(this.tmp, "r+");
      await fh.sync();
      await fh.close();
      await rename(this.tmp, this.file!);
    }
  }

  async abort(): Promise<void> {
    this.pack.destroy(new Error("aborted"));
    await this.done.catch(() => {});
    if (this.tmp) await rm(this.tmp, { force: true });
  }
}

export async function openArchiveSource(spec: TransportSpec, opts: OpenOptions): Promise<OpenedSource> {
  const kind = spec.kind as "oci-archive" | "docker-archive";
  const source = await ArchiveSource.open(kind, spec.path, opts.input);
  return { source, ref: spec.ref };
}

export async function openArchiveTarget(spec: TransportSpec, opts: OpenOptions): Promise<OpenedTarget> {
  const kind = spec.kind as "oci-archive" | "docker-archive";
  const toStream = opts.stream !== undefined || spec.path === "-";
  if (!toStream) {
    const st = await stat(dirname(spec.path!)).catch(() => undefined);
    if (!st?.isDirectory())
      throw new DockyardError("NOT_FOUND", `cannot write ${spec.path}: no directory ${dirname(spec.path!)}`);
  }
  const ref = kind === "docker-archive" && spec.ref ? formatReference(parseReference(spec.ref)) : spec.ref;
  const target = new ArchiveTarget(kind, toStream ? undefined : spec.path, {
    gzip: opts.gzip,
    stream: toStream ? (opts.stream ?? process.stdout) : undefined,
    tags: opts.tags,
  });
  return { target, ref };
}
