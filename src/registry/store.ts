import { createHash, randomUUID, type Hash } from "node:crypto";
import type { Readable } from "node:stream";
import { DockyardError } from "../image/errors.js";
import { digestOf, parseDigest, type Digest, type DigestAlgorithm } from "../image/digest.js";
import { parseManifest, isIndex, type Descriptor } from "../image/manifest.js";
import { MediaType, isImageManifestMediaType } from "../image/media-types.js";
import { isPathNotFound, type StorageDriver } from "./storage/driver.js";
import { ByteLru, KeyedLock, sortedInsert, sortedRemove } from "./util.js";

/*
 * The repository-metadata layer over a StorageDriver. Layout (all paths relative to the root):
 *
 *   blobs/<alg>/<hex[0:2]>/<hex>/data              content, shared by every repository
 *   repositories/<name>/_layers/<alg>/<hex>         link: the blob is readable in <name>
 *   repositories/<name>/_manifests/<alg>/<hex>      link + metadata (JSON) of a manifest revision
 *   repositories/<name>/_tags/<tag>                 the tag's current manifest digest
 *   repositories/<name>/_uploads/<uuid>/data        upload session bytes
 *   repositories/<name>/_uploads/<uuid>/offset      acknowledged length (after each chunk)
 *   extensions/<ext>/…                              files owned by registry extensions
 *
 * Every file becomes visible by rename only, so a kill -9 leaves the old or the new state. On
 * open the whole metadata tree is loaded into memory; reads of tags, manifests metadata and the
 * catalog never touch the disk, writes go to disk first and then to memory.
 */

export interface ManifestMeta {
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
}

interface RepoIndex {
  name: string;
  layers: Set<string>;
  manifests: Map<string, ManifestMeta>;
  tags: Map<string, Digest>;
  sortedTags: string[] | undefined;
  /** Cached JSON body of the full tags/list (dropped whenever the tag set changes). */
  tagsBody: string | undefined;
  referrers: Map<string, Set<string>>;
}

interface UploadState {
  repo: string;
  id: string;
  /** Hash of the acknowledged bytes [0, hashed) when `hashed === offset`. */
  hash: Hash | undefined;
  hashed: number;
  offset: number;
  busy: boolean;
  startedAt: number;
}

export interface StoreOptions {
  /** fsync blob data and metadata before they become visible (default true, like distribution). */
  fsync?: boolean;
  /** Bytes of manifest bodies cached in memory (default 32 MiB). */
  manifestCacheBytes?: number;
}

export interface GcJournalEntry {
  kind: "manifest" | "layer";
  repo: string;
  digest: string;
}

export interface UploadStatus {
  id: string;
  offset: number;
  startedAt: number;
}

const MAX_MANIFEST_CACHE_ITEM = 1024 * 1024;

export function blobPath(d: string): string {
  const { algorithm, hex } = parseDigest(d);
  return `blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
}

function repoPath(name: string): string {
  return `repositories/${name}`;
}

function digestPathPart(d: string): string {
  const i = d.indexOf(":");
  return `${d.slice(0, i)}/${d.slice(i + 1)}`;
}

function hashAlgorithmOf(d: string): DigestAlgorithm {
  return parseDigest(d).algorithm;
}

function isDigestWith(alg: string, hex: string): Digest | undefined {
  const d = `${alg}:${hex}`;
  try {
    parseDigest(d);
    return d as Digest;
  } catch {
    return undefined;
  }
}

export class RegistryStore {
  readonly driver: StorageDriver;
  private readonly fsync: boolean;
  private readonly repos = new Map<string, RepoIndex>();
  private sortedRepos: string[] | undefined;
  /** Bumped whenever the set of repositories changes (cache key for the catalog). */
  repoVersion = 0;
  private readonly cache: ByteLru;
  private readonly uploads = new Map<string, UploadState>();
  private readonly locks = new KeyedLock();
  /** Listeners that want to know about writes (gc generation tracking, extensions). */
  private lastWrite = Date.now();

  private constructor(driver: StorageDriver, opts: StoreOptions) {
    this.driver = driver;
    this.fsync = opts.fsync !== false;
    this.cache = new ByteLru(opts.manifestCacheBytes ?? 32 * 1024 * 1024, MAX_MANIFEST_CACHE_ITEM);
  }

  /** Opens a store and loads its metadata index. */
  static async open(driver: StorageDriver, opts: StoreOptions = {}): Promise<RegistryStore> {
    const s = new RegistryStore(driver, opts);
    await s.load();
    return s;
  }

  get lastWriteAt(): number {
    return this.lastWrite;
  }

  // ---------------------------------------------------------------- index loading

  private async load(): Promise<void> {
    await this.scanDir([]);
  }

  private async scanDir(parts: string[]): Promise<void> {
    const base = parts.length ? `${repoPath(parts.join("/"))}` : "repositories";
    const children = await this.driver.list(base);
    const internal = children.filter((c) => c.startsWith("_"));
    if (parts.length && internal.length) await this.loadRepo(parts.join("/"), internal);
    for (const c of children) if (!c.startsWith("_")) await this.scanDir([...parts, c]);
  }

  private async loadRepo(name: string, internal: string[]): Promise<void> {
    const base = repoPath(name);
    const r = this.newRepo(name);
    if (internal.includes("_layers")) {
      for (const alg of await this.driver.list(`${base}/_layers`))
        for (const hex of await this.driver.list(`${base}/_layers/${alg}`)) {
          const d = isDigestWith(alg, hex);
          if (d) r.layers.add(d);
        }
    }
    if (internal.includes("_manifests")) {
      for (const alg of await this.driver.list(`${base}/_manifests`))
        for (const hex of await this.driver.list(`${base}/_manifests/${alg}`)) {
          const d = isDigestWith(alg, hex);
          if (!d) continue;
          try {
            const meta = JSON.parse(
              (await this.driver.getContent(`${base}/_manifests/${alg}/${hex}`)).toString(),
            );
            this.addManifestMeta(r, { ...meta, digest: d });
          } catch {
            // A link we cannot read is treated as absent (writes are atomic, so this is foreign junk).
          }
        }
    }
    if (internal.includes("_tags")) {
      for (const tag of await this.driver.list(`${base}/_tags`)) {
        try {
          const d = (await this.driver.getContent(`${base}/_tags/${tag}`)).toString().trim();
          parseDigest(d);
          if (r.manifests.has(d)) r.tags.set(tag, d as Digest);
        } catch {
          // ignore unreadable tag files
        }
      }
    }
    if (r.layers.size || r.manifests.size || r.tags.size) {
      this.repos.set(name, r);
      this.sortedRepos = undefined;
    }
  }

  private newRepo(name: string): RepoIndex {
    return {
      name,
      layers: new Set(),
      manifests: new Map(),
      tags: new Map(),
      sortedTags: undefined,
      tagsBody: undefined,
      referrers: new Map(),
    };
  }

  private repoFor(name: string): RepoIndex {
    let r = this.repos.get(name);
    if (!r) {
      r = this.newRepo(name);
      this.repos.set(name, r);
      if (this.sortedRepos) sortedInsert(this.sortedRepos, name);
      this.repoVersion++;
    }
    return r;
  }

  private addManifestMeta(r: RepoIndex, meta: ManifestMeta): void {
    r.manifests.set(meta.digest, meta);
    if (meta.subject) {
      let set = r.referrers.get(meta.subject);
      if (!set) r.referrers.set(meta.subject, (set = new Set()));
      set.add(meta.digest);
    }
  }

  // ---------------------------------------------------------------- repositories

  hasRepository(name: string): boolean {
    return this.repos.has(name);
  }

  /** Repository names, sorted. */
  repositories(): readonly string[] {
    if (!this.sortedRepos) this.sortedRepos = [...this.repos.keys()].sort();
    return this.sortedRepos;
  }

  // ---------------------------------------------------------------- blobs

  isBlobLinked(repo: string, digest: string): boolean {
    return this.repos.get(repo)?.layers.has(digest) ?? false;
  }

  /** Size of a blob readable in `repo`, or undefined. */
  async statBlob(repo: string, digest: string): Promise<number | undefined> {
    if (!this.isBlobLinked(repo, digest)) return undefined;
    try {
      return (await this.driver.stat(blobPath(digest))).size;
    } catch (err) {
      if (isPathNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Size of a blob anywhere in the store (not access-checked), or undefined. */
  async statGlobalBlob(digest: string): Promise<number | undefined> {
    try {
      return (await this.driver.stat(blobPath(digest))).size;
    } catch (err) {
      if (isPathNotFound(err)) return undefined;
      throw err;
    }
  }

  async openBlob(digest: string, start?: number, end?: number): Promise<Readable> {
    return this.driver.reader(blobPath(digest), start, end);
  }

  /** Repositories (among `candidates`, default all) where `digest` is linked. */
  reposWithBlob(digest: string): string[] {
    const out: string[] = [];
    for (const r of this.repos.values()) if (r.layers.has(digest)) out.push(r.name);
    return out;
  }

  /**
   * Links an existing blob into `repo` (cross-repository mount, or after an upload). Touches the
   * blob first so a concurrent gc keeps it; false when the blob does not exist.
   */
  async linkBlob(repo: string, digest: Digest): Promise<boolean> {
    try {
      await this.driver.touch(blobPath(digest));
    } catch (err) {
      if (isPathNotFound(err)) return false;
      throw err;
    }
    const r = this.repos.get(repo);
    if (r?.layers.has(digest)) return true;
    await this.driver.putContent(`${repoPath(repo)}/_layers/${digestPathPart(digest)}`, digest, {
      sync: this.fsync,
    });
    this.repoFor(repo).layers.add(digest);
    this.lastWrite = Date.now();
    return true;
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    const r = this.repos.get(repo);
    if (!r?.layers.has(digest)) return false;
    await this.driver.delete(`${repoPath(repo)}/_layers/${digestPathPart(digest)}`);
    r.layers.delete(digest);
    return true;
  }

  // ---------------------------------------------------------------- uploads

  private uploadDir(repo: string, id: string): string {
    return `${repoPath(repo)}/_uploads/${id}`;
  }

  async startUpload(repo: string): Promise<UploadStatus> {
    const id = randomUUID();
    const startedAt = Date.now();
    await this.driver.putContent(`${this.uploadDir(repo, id)}/startedat`, new Date(startedAt).toISOString(), {
      sync: false,
    });
    this.uploads.set(id, {
      repo,
      id,
      hash: createHash("sha256"),
      hashed: 0,
      offset: 0,
      busy: false,
      startedAt,
    });
    return { id, offset: 0, startedAt };
  }

  /** Loads a session (also one left by an earlier process: it resumes from its acknowledged offset). */
  private async session(repo: string, id: string): Promise<UploadState> {
    if (!/^[a-f0-9-]{36}$/.test(id))
      throw new DockyardError("BLOB_UPLOAD_UNKNOWN", `upload ${JSON.stringify(id)} is not known`);
    const cur = this.uploads.get(id);
    if (cur) {
      if (cur.repo !== repo)
        throw new DockyardError("BLOB_UPLOAD_UNKNOWN", `upload ${id} is not known in ${repo}`);
      return cur;
    }
    const dir = this.uploadDir(repo, id);
    let startedAt: number;
    try {
      startedAt = Date.parse((await this.driver.getContent(`${dir}/startedat`)).toString());
    } catch (err) {
      if (isPathNotFound(err))
        throw new DockyardError("BLOB_UPLOAD_UNKNOWN", `upload ${id} is not known in ${repo}`);
      throw err;
    }
    let offset = 0;
    try {
      offset = Number((await this.driver.getContent(`${dir}/offset`)).toString());
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
    }
    // Bytes past the acknowledged offset belong to a chunk that never finished: drop them.
    try {
      const st = await this.driver.stat(`${dir}/data`);
      if (st.size !== offset) {
        if (st.size < offset) offset = st.size;
        else await this.driver.truncate(`${dir}/data`, offset);
      }
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
      offset = 0;
    }
    const s: UploadState = { repo, id, hash: undefined, hashed: 0, offset, busy: false, startedAt };
    this.uploads.set(id, s);
    return s;
  }

  async uploadStatus(repo: string, id: string): Promise<UploadStatus> {
    const s = await this.session(repo, id);
    return { id, offset: s.offset, startedAt: s.startedAt };
  }

  private async withSession<T>(repo: string, id: string, fn: (s: UploadState) => Promise<T>): Promise<T> {
    const s = await this.session(repo, id);
    if (s.busy)
      throw new DockyardError(
        "RANGE_INVALID",
        `upload ${id} is busy with another request; send chunks in order`,
        {
          offset: s.offset,
        },
      );
    s.busy = true;
    try {
      return await fn(s);
    } finally {
      s.busy = false;
    }
  }

  /**
   * Appends a chunk. `start` (from Content-Range) must equal the current offset; `length`, when
   * known, must equal what arrives. On any failure the session is rolled back to its old offset.
   */
  async appendUpload(
    repo: string,
    id: string,
    body: AsyncIterable<Buffer>,
    opts: { start?: number; length?: number } = {},
  ): Promise<UploadStatus> {
    return this.withSession(repo, id, async (s) => {
      if (opts.start !== undefined && opts.start !== s.offset)
        throw new DockyardError(
          "RANGE_INVALID",
          `chunk starts at ${opts.start} but the upload has ${s.offset} bytes; send the chunk starting at ${s.offset}`,
          { offset: s.offset },
        );
      await this.writeChunk(s, body, opts.length);
      await this.driver.putContent(`${this.uploadDir(repo, id)}/offset`, String(s.offset), { sync: false });
      return { id, offset: s.offset, startedAt: s.startedAt };
    });
  }

  private async ensureHash(s: UploadState): Promise<Hash> {
    if (s.hash && s.hashed === s.offset) return s.hash;
    const h = createHash("sha256");
    if (s.offset > 0) {
      const rs = await this.driver.reader(`${this.uploadDir(s.repo, s.id)}/data`, 0, s.offset - 1);
      for await (const c of rs) h.update(c as Buffer);
    }
    s.hash = h;
    s.hashed = s.offset;
    return h;
  }

  private async writeChunk(
    s: UploadState,
    body: AsyncIterable<Buffer>,
    length?: number,
    sync = false,
  ): Promise<void> {
    const hash = await this.ensureHash(s);
    const path = `${this.uploadDir(s.repo, s.id)}/data`;
    const before = s.offset;
    const w = await this.driver.writer(path, true);
    if (w.size !== before) {
      await w.close();
      await this.driver.truncate(path, before);
      return this.writeChunk(s, body, length, sync);
    }
    let n = 0;
    // Hash a copy so a failed chunk can be rolled back without re-reading the file.
    const h = hash.copy();
    try {
      for await (const chunk of body) {
        n += chunk.length;
        if (length !== undefined && n > length)
          throw new DockyardError("SIZE_INVALID", `chunk is longer than its declared ${length} bytes`);
        h.update(chunk);
        await w.write(chunk);
      }
      if (length !== undefined && n !== length)
        throw new DockyardError("SIZE_INVALID", `chunk has ${n} bytes, declared ${length}`);
      await w.commit(sync);
    } catch (err) {
      await w.close();
      await this.driver.truncate(path, before).catch(() => {});
      throw err;
    }
    s.hash = h;
    s.offset = before + n;
    s.hashed = s.offset;
  }

  /**
   * Completes an upload: appends the optional final chunk, verifies the digest, and makes the
   * blob visible (fsync + rename) and linked in the repository. On a digest mismatch the final
   * chunk is rolled back and nothing becomes visible.
   */
  async finishUpload(
    repo: string,
    id: string,
    digest: Digest,
    body?: AsyncIterable<Buffer>,
    opts: { start?: number; length?: number } = {},
  ): Promise<{ digest: Digest; size: number }> {
    const alg = hashAlgorithmOf(digest);
    return this.withSession(repo, id, async (s) => {
      const before = s.offset;
      const dataPath = `${this.uploadDir(repo, id)}/data`;
      let synced = false;
      if (body) {
        if (opts.start !== undefined && opts.start !== s.offset)
          throw new DockyardError(
            "RANGE_INVALID",
            `chunk starts at ${opts.start} but the upload has ${s.offset} bytes`,
            { offset: s.offset },
          );
        await this.writeChunk(s, body, opts.length, this.fsync);
        synced = this.fsync;
      }
      const rollback = async (): Promise<void> => {
        if (s.offset !== before) {
          await this.driver.truncate(dataPath, before).catch(() => {});
          s.offset = before;
          s.hash = undefined;
          s.hashed = 0;
        }
      };
      let actual: string;
      if (alg === "sha256") {
        actual = `sha256:${(await this.ensureHash(s)).copy().digest("hex")}`;
      } else {
        const h = createHash(alg);
        if (s.offset > 0)
          for await (const c of await this.driver.reader(dataPath, 0, s.offset - 1)) h.update(c as Buffer);
        actual = `${alg}:${h.digest("hex")}`;
      }
      if (actual !== digest) {
        await rollback();
        throw new DockyardError("DIGEST_INVALID", `uploaded content has digest ${actual}, not ${digest}`);
      }
      if (s.offset === 0) {
        // An empty blob: the data file may not exist yet.
        await this.driver.putContent(dataPath, "", { sync: false });
      }
      try {
        if (this.fsync && !synced) {
          const w = await this.driver.writer(dataPath, true);
          await w.commit(true);
        }
        // Fresh mtime first (a concurrent gc must see this content as young), then the link,
        // then the content becomes visible by rename: a reader never sees a link without data
        // for long, and gc never sees visible data that is not yet linked.
        await this.driver.touch(dataPath);
        const r = this.repos.get(repo);
        if (!r?.layers.has(digest))
          await this.driver.putContent(`${repoPath(repo)}/_layers/${digestPathPart(digest)}`, digest, {
            sync: this.fsync,
          });
        await this.driver.move(dataPath, blobPath(digest));
      } catch (err) {
        await rollback();
        throw err;
      }
      const size = s.offset;
      this.uploads.delete(id);
      this.repoFor(repo).layers.add(digest);
      this.lastWrite = Date.now();
      await this.driver.delete(this.uploadDir(repo, id));
      return { digest, size };
    });
  }

  async cancelUpload(repo: string, id: string): Promise<void> {
    await this.withSession(repo, id, async () => {
      this.uploads.delete(id);
      await this.driver.delete(this.uploadDir(repo, id));
    });
  }

  /** Upload sessions older than `maxAgeMs` (none active now) are removed; returns how many. */
  async purgeUploads(maxAgeMs: number, opts: { dryRun?: boolean } = {}): Promise<number> {
    let n = 0;
    const now = Date.now();
    const visit = async (parts: string[]): Promise<void> => {
      const base = parts.length ? repoPath(parts.join("/")) : "repositories";
      const children = await this.driver.list(base);
      if (parts.length && children.includes("_uploads")) {
        for (const id of await this.driver.list(`${base}/_uploads`)) {
          const live = this.uploads.get(id);
          if (live?.busy) continue;
          let started = live?.startedAt;
          if (started === undefined) {
            try {
              started = Date.parse(
                (await this.driver.getContent(`${base}/_uploads/${id}/startedat`)).toString(),
              );
            } catch {
              started = 0;
            }
          }
          if (!(now - started > maxAgeMs)) continue;
          n++;
          if (!opts.dryRun) {
            this.uploads.delete(id);
            await this.driver.delete(`${base}/_uploads/${id}`);
          }
        }
      }
      for (const c of children) if (!c.startsWith("_")) await visit([...parts, c]);
    };
    await visit([]);
    return n;
  }

  // ---------------------------------------------------------------- manifests

  /** Resolves a tag or digest in `repo` to its manifest metadata. */
  resolve(repo: string, reference: string): ManifestMeta | undefined {
    const r = this.repos.get(repo);
    if (!r) return undefined;
    if (reference.includes(":")) return r.manifests.get(reference);
    const d = r.tags.get(reference);
    return d ? r.manifests.get(d) : undefined;
  }

  /** Manifest bytes (from the bounded cache when possible). */
  async manifestBytes(digest: string): Promise<Buffer> {
    const hit = this.cache.get(digest);
    if (hit) return hit;
    let bytes: Buffer;
    try {
      bytes = await this.driver.getContent(blobPath(digest));
    } catch (err) {
      if (isPathNotFound(err))
        throw new DockyardError("MANIFEST_UNKNOWN", `manifest ${digest} is missing from storage`);
      throw err;
    }
    this.cache.set(digest, bytes);
    return bytes;
  }

  /**
   * Stores a manifest under a tag or digest reference after validating it: JSON structure, media
   * type agreement, digest (when the reference is one) and that every blob / child manifest it
   * references exists in the repository. `beforeTag` runs just before a tag moves (extensions).
   */
  async putManifest(
    repo: string,
    reference: string,
    bytes: Buffer,
    contentType: string | undefined,
    beforeTag?: (tag: string, digest: Digest, old: Digest | undefined) => Promise<void>,
  ): Promise<ManifestMeta> {
    const isDigestRef = reference.includes(":");
    let digest: Digest;
    if (isDigestRef) {
      const alg = hashAlgorithmOf(reference);
      digest = digestOf(bytes, alg);
      if (digest !== reference)
        throw new DockyardError("DIGEST_INVALID", `manifest body has digest ${digest}, not ${reference}`);
    } else {
      digest = digestOf(bytes);
    }
    const { manifest, mediaType } = parseManifest(bytes, contentType);
    const r0 = this.repos.get(repo);
    const missing: string[] = [];
    if (isIndex(manifest)) {
      for (const c of manifest.manifests) if (!r0?.manifests.has(c.digest)) missing.push(c.digest);
    } else {
      const blobs: Descriptor[] = [manifest.config, ...manifest.layers.filter((l) => !l.urls?.length)];
      for (const b of blobs) {
        if (!r0?.layers.has(b.digest)) {
          missing.push(b.digest);
          continue;
        }
        try {
          await this.driver.touch(blobPath(b.digest));
        } catch (err) {
          if (isPathNotFound(err)) missing.push(b.digest);
          else throw err;
        }
      }
    }
    if (missing.length)
      throw new DockyardError(
        "MANIFEST_BLOB_UNKNOWN",
        `manifest references ${missing.length} blob(s)/manifest(s) not in ${repo}, e.g. ${missing[0]}: push them first`,
        { digest: missing[0] },
      );
    const meta: ManifestMeta = { digest, mediaType, size: bytes.length };
    const m = manifest as { artifactType?: string; annotations?: Record<string, string> };
    if (manifest.subject) {
      meta.subject = manifest.subject.digest;
      meta.artifactType =
        m.artifactType ??
        (isImageManifestMediaType(mediaType) && !isIndex(manifest) ? manifest.config.mediaType : undefined);
      if (meta.artifactType === MediaType.ociEmpty && m.artifactType === undefined)
        meta.artifactType = MediaType.ociEmpty;
      if (m.annotations) meta.annotations = m.annotations;
    }
    const base = repoPath(repo);
    // Content first, then the revision link, then the tag: each visible only when complete.
    const bp = blobPath(digest);
    let exists = false;
    try {
      await this.driver.touch(bp);
      exists = true;
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
    }
    if (!exists) await this.driver.putContent(bp, bytes, { sync: this.fsync });
    this.cache.set(digest, bytes);
    const r = this.repoFor(repo);
    const linkPath = `${base}/_manifests/${digestPathPart(digest)}`;
    let linked = false;
    if (r.manifests.has(digest)) {
      // Touch the revision link so a concurrent gc sees it in use (and rewrite it if gc just took it).
      try {
        await this.driver.touch(linkPath);
        linked = true;
      } catch (err) {
        if (!isPathNotFound(err)) throw err;
      }
    }
    if (!linked) {
      const linkMeta: Omit<ManifestMeta, "digest"> & { digest?: string } = { ...meta };
      delete linkMeta.digest;
      await this.driver.putContent(linkPath, JSON.stringify(linkMeta), { sync: this.fsync });
      this.addManifestMeta(r, meta);
    }
    // Touch what the manifest references once more, now that its revision link is visible: a gc
    // whose snapshot missed the link sees these as young. If one vanished meanwhile (gc took it
    // just before), undo the revision and refuse, so no manifest ever points at missing content.
    const refs = isIndex(manifest)
      ? manifest.manifests.map((c) => `${base}/_manifests/${digestPathPart(c.digest)}`)
      : [manifest.config, ...manifest.layers.filter((l) => !l.urls?.length)].map((b) => blobPath(b.digest));
    refs.push(bp, linkPath);
    for (const p of refs) {
      try {
        await this.driver.touch(p);
      } catch (err) {
        if (!isPathNotFound(err)) throw err;
        if (!linked && ![...r.tags.values()].includes(digest)) {
          await this.driver.delete(linkPath);
          this.forgetManifest(r, meta);
        }
        throw new DockyardError(
          "MANIFEST_BLOB_UNKNOWN",
          `content referenced by the manifest was garbage-collected while it was pushed: push it again`,
        );
      }
    }
    if (!isDigestRef) {
      const tag = reference;
      await this.locks.run(`${repo}\n${tag}`, async () => {
        const old = r.tags.get(tag);
        if (beforeTag) await beforeTag(tag, digest, old);
        if (old !== digest) {
          await this.driver.putContent(`${base}/_tags/${tag}`, digest, { sync: this.fsync });
          if (!r.tags.has(tag)) {
            if (r.sortedTags) sortedInsert(r.sortedTags, tag);
            r.tagsBody = undefined;
          }
          r.tags.set(tag, digest);
        }
      });
    }
    this.lastWrite = Date.now();
    return meta;
  }

  /** Deletes a tag only. */
  async deleteTag(repo: string, tag: string): Promise<boolean> {
    const r = this.repos.get(repo);
    if (!r?.tags.has(tag)) return false;
    await this.locks.run(`${repo}\n${tag}`, async () => {
      await this.driver.delete(`${repoPath(repo)}/_tags/${tag}`);
      r.tags.delete(tag);
      if (r.sortedTags) sortedRemove(r.sortedTags, tag);
      r.tagsBody = undefined;
    });
    return true;
  }

  /** Deletes a manifest revision and every tag pointing at it. */
  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const r = this.repos.get(repo);
    const meta = r?.manifests.get(digest);
    if (!r || !meta) return false;
    for (const [tag, d] of [...r.tags]) if (d === digest) await this.deleteTag(repo, tag);
    await this.driver.delete(`${repoPath(repo)}/_manifests/${digestPathPart(digest)}`);
    this.forgetManifest(r, meta);
    return true;
  }

  private forgetManifest(r: RepoIndex, meta: ManifestMeta): void {
    r.manifests.delete(meta.digest);
    if (meta.subject) {
      const set = r.referrers.get(meta.subject);
      set?.delete(meta.digest);
      if (set && set.size === 0) r.referrers.delete(meta.subject);
    }
  }

  /** Sorted tags of a repository (undefined when the repository is unknown). */
  tags(repo: string): readonly string[] | undefined {
    const r = this.repos.get(repo);
    if (!r) return undefined;
    if (!r.sortedTags) r.sortedTags = [...r.tags.keys()].sort();
    return r.sortedTags;
  }

  /** The full `tags/list` JSON body, cached until the tag set changes. */
  tagsListBody(repo: string): string | undefined {
    const r = this.repos.get(repo);
    if (!r) return undefined;
    if (r.tagsBody === undefined)
      r.tagsBody = `{"name":${JSON.stringify(repo)},"tags":${JSON.stringify(this.tags(repo))}}`;
    return r.tagsBody;
  }

  tagDigest(repo: string, tag: string): Digest | undefined {
    return this.repos.get(repo)?.tags.get(tag);
  }

  /** Manifests in `repo` whose subject is `digest`, as descriptors for the referrers index. */
  referrers(repo: string, digest: string): Descriptor[] {
    const r = this.repos.get(repo);
    const set = r?.referrers.get(digest);
    if (!r || !set) return [];
    const out: Descriptor[] = [];
    for (const d of set) {
      const m = r.manifests.get(d);
      if (!m) continue;
      const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
      if (m.artifactType) desc.artifactType = m.artifactType;
      if (m.annotations) desc.annotations = m.annotations;
      out.push(desc);
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  /** Every manifest revision of a repository (gc, tests). */
  manifests(repo: string): ManifestMeta[] {
    return [...(this.repos.get(repo)?.manifests.values() ?? [])];
  }

  /** Every blob link of a repository (gc). */
  layers(repo: string): string[] {
    return [...(this.repos.get(repo)?.layers ?? [])];
  }

  /**
   * Applies what a gc run (possibly in another process) deleted: entries whose files are really
   * gone are dropped from the in-memory index. Returns how many entries were dropped.
   */
  async applyGcJournal(entries: GcJournalEntry[]): Promise<number> {
    let n = 0;
    for (const e of entries) {
      const r = this.repos.get(e.repo);
      if (!r) continue;
      if (e.kind === "manifest") {
        const meta = r.manifests.get(e.digest);
        if (!meta) continue;
        try {
          await this.driver.stat(`${repoPath(e.repo)}/_manifests/${digestPathPart(e.digest)}`);
          continue; // re-created since
        } catch (err) {
          if (!isPathNotFound(err)) throw err;
        }
        for (const [tag, d] of [...r.tags]) if (d === e.digest) r.tags.delete(tag);
        r.sortedTags = undefined;
        r.tagsBody = undefined;
        this.forgetManifest(r, meta);
        this.cache.delete(e.digest);
        n++;
      } else {
        if (!r.layers.has(e.digest)) continue;
        try {
          await this.driver.stat(`${repoPath(e.repo)}/_layers/${digestPathPart(e.digest)}`);
          continue;
        } catch (err) {
          if (!isPathNotFound(err)) throw err;
        }
        r.layers.delete(e.digest);
        n++;
      }
    }
    return n;
  }

  /** Storage paths of a repository's links (for gc). */
  static manifestLinkPath(repo: string, digest: string): string {
    return `${repoPath(repo)}/_manifests/${digestPathPart(digest)}`;
  }
  static layerLinkPath(repo: string, digest: string): string {
    return `${repoPath(repo)}/_layers/${digestPathPart(digest)}`;
  }

  /** Re-reads one repository from storage (after gc in another process removed files). */
  async reloadRepository(name: string): Promise<void> {
    const r = this.repos.get(name);
    if (r) {
      for (const m of r.manifests.values()) this.cache.delete(m.digest);
      this.repos.delete(name);
      this.sortedRepos = undefined;
      this.repoVersion++;
    }
    const internal = (await this.driver.list(repoPath(name))).filter((c) => c.startsWith("_"));
    if (internal.length) await this.loadRepo(name, internal);
  }
}
