import { join } from "node:path";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { parseDigest } from "../digest.js";
import { DockyardError } from "../errors.js";
import { isIndexMediaType } from "../media-types.js";
import { isIndex, parseManifest, type Descriptor, type ImageConfig } from "../manifest.js";
import { familiarReference, formatReference, parseReference } from "../reference.js";
import { OciLayout, REF_NAME, withLock } from "./oci-layout.js";
import type { BlobOrigin, WriteManifestOptions } from "./types.js";
import { atomicWriteFile } from "../../util/fs.js";
import { limiter } from "../../util/limit.js";
import { dockyardHome } from "./home.js";

/** At most this many origins are kept per blob (most recent first). */
const MAX_ORIGINS = 16;

interface OriginRecord {
  registry: string;
  repository: string;
  /** When it was last seen there (ms since the epoch). */
  at: number;
}

export { dockyardHome };

export const CREATED_ANNOTATION = "org.opencontainers.image.created";
/** On the index entry of an image the builder made here (so its tag is no hint of where it is). */
export const BUILT_ANNOTATION = "org.dockyard.image.built";

/** One row of `dockyard images`. */
export interface StoredImage {
  /** Full reference (`docker.io/library/busybox:latest`), undefined for untagged. */
  reference?: string;
  descriptor: Descriptor;
  /** Image ID as docker shows it: the config digest (the index digest for multi-platform images). */
  id: string;
  /** Sum of config + layer sizes (compressed, as stored). */
  size: number;
  created?: string;
  platforms: string[];
}

/**
 * The local image store: content-addressed blobs plus an index of tagged images, kept as an OCI
 * layout under `$DOCKYARD_HOME/store` (so skopeo/umoci can read it too). Refs are normalized full
 * references (`docker.io/library/alpine:3`); writes are atomic and fsynced; the index is locked.
 * The builder writes its output here; push/pull/save/load read and write it.
 */
export class LocalStore extends OciLayout {
  override readonly description: string;
  constructor(readonly home: string = dockyardHome()) {
    super(join(home, "store"), { fsync: true });
    this.description = `store (${this.dir})`;
  }

  /** Where blob origins are recorded: one small JSON file per blob, beside the store. */
  originPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.home, "blob-origins", algorithm, `${hex}.json`);
  }

  private async readOrigins(digest: string): Promise<OriginRecord[]> {
    try {
      const doc = JSON.parse(await readFile(this.originPath(digest), "utf8")) as { origins?: unknown };
      if (!Array.isArray(doc.origins)) return [];
      return doc.origins.filter(
        (o): o is OriginRecord =>
          typeof o === "object" &&
          o !== null &&
          typeof (o as OriginRecord).registry === "string" &&
          typeof (o as OriginRecord).repository === "string",
      );
    } catch {
      return []; // none recorded (or a torn/foreign file: it is only a hint)
    }
  }

  private async writeOrigins(digest: string, origins: OriginRecord[]): Promise<void> {
    const path = this.originPath(digest);
    if (origins.length === 0) {
      await rm(path, { force: true });
      return;
    }
    // A hint, not data: atomic (readers never see half a file) but not fsynced.
    await atomicWriteFile(path, JSON.stringify({ origins }), { fsync: false });
  }

  /**
   * Registry repositories that hold the blob, most likely first: those it was recorded in (pulled
   * from, pushed to), most recent first; then repositories of `registry` that a tagged image in
   * the store holding the blob is named after (images pulled before origins were recorded), the
   * smallest image first (a base layer's own image before the images built on it). An image built
   * here is no hint: `build -t host/app:1` names where it may go, not where its blobs are.
   */
  async blobOrigins(desc: Descriptor, registry: string): Promise<BlobOrigin[]> {
    const recorded = (await this.readOrigins(desc.digest))
      .filter((o) => o.registry === registry)
      .map((o) => ({ registry: o.registry, repository: o.repository }));
    const byTag = (await this.taggedOrigins(registry)).get(desc.digest) ?? [];
    const out = [...recorded];
    for (const o of byTag) if (!out.some((r) => r.repository === o.repository)) out.push(o);
    return out;
  }

  private readonly tagged = new Map<string, Promise<Map<string, BlobOrigin[]>>>();

  /** digest → repositories of `registry` whose tagged image in the store holds it (smallest first). */
  private taggedOrigins(registry: string): Promise<Map<string, BlobOrigin[]>> {
    let p = this.tagged.get(registry);
    if (!p) {
      p = this.scanTagged(registry).catch(() => new Map<string, BlobOrigin[]>());
      this.tagged.set(registry, p);
    }
    return p;
  }

  private async scanTagged(registry: string): Promise<Map<string, BlobOrigin[]>> {
    const images: { repository: string; blobs: string[] }[] = [];
    // a bounded number of reads at once: a store with thousands of tags must not run out of fds
    const limit = limiter(16);
    const readJSON = async (digest: string) =>
      JSON.parse(await limit(() => readFile(this.blobPath(digest), "utf8"))) as {
        manifests?: Descriptor[];
        config?: Descriptor;
        layers?: Descriptor[];
      };
    const scans: Promise<void>[] = [];
    for (const d of (await this.readIndex()).manifests) {
      const name = d.annotations?.[REF_NAME];
      if (!name || d.annotations?.[BUILT_ANNOTATION]) continue;
      let repository: string;
      try {
        const r = parseReference(name);
        if (r.registry !== registry) continue;
        repository = r.repository;
      } catch {
        continue;
      }
      // The manifests are only read for hints here: unverified, and any that fail are skipped.
      const blobs: string[] = [];
      const walk = async (digest: string, depth: number): Promise<void> => {
        const m = await readJSON(digest).catch(() => undefined);
        if (!m) return;
        if (Array.isArray(m.manifests) && depth < 2)
          await Promise.all(m.manifests.map((c) => walk(c.digest, depth + 1)));
        if (m.config?.digest) blobs.push(m.config.digest);
        for (const l of m.layers ?? []) if (l?.digest) blobs.push(l.digest);
      };
      scans.push(walk(d.digest, 0).then(() => void images.push({ repository, blobs })));
    }
    await Promise.all(scans);
    // plain code-point order: the first localeCompare loads ICU's collator, ~8 ms of a push
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    images.sort((a, b) => a.blobs.length - b.blobs.length || byName(a.repository, b.repository));
    const out = new Map<string, BlobOrigin[]>();
    for (const img of images)
      for (const b of img.blobs) {
        const list = out.get(b) ?? [];
        if (!list.some((o) => o.repository === img.repository))
          list.push({ registry, repository: img.repository });
        out.set(b, list);
      }
    return out;
  }

  /** Records that the blobs are in `origin` now (pulled from there, or pushed there). */
  async recordBlobOrigins(digests: string[], origin: BlobOrigin): Promise<void> {
    await Promise.all(
      digests.map((digest) =>
        this.updateOrigins(digest, (old) => {
          const first = old[0];
          // Already the most recent record: nothing to write (a re-push, a second pull).
          if (first && first.registry === origin.registry && first.repository === origin.repository)
            return undefined;
          const rest = old.filter(
            (o) => o.registry !== origin.registry || o.repository !== origin.repository,
          );
          const entry = { registry: origin.registry, repository: origin.repository, at: Date.now() };
          return [entry, ...rest].slice(0, MAX_ORIGINS);
        }),
      ),
    );
  }

  /** Forgets that a blob is in `origin` (the registry would not mount it from there). */
  async forgetBlobOrigin(digest: string, origin: BlobOrigin): Promise<void> {
    await this.updateOrigins(digest, (old) => {
      const next = old.filter((o) => o.registry !== origin.registry || o.repository !== origin.repository);
      return next.length !== old.length ? next : undefined;
    });
  }

  private readonly originUpdates = new Map<string, Promise<void>>();

  /** Read-modify-write of one blob's record, one at a time per blob in this process. */
  private updateOrigins(
    digest: string,
    fn: (old: OriginRecord[]) => OriginRecord[] | undefined,
  ): Promise<void> {
    const prev = this.originUpdates.get(digest) ?? Promise.resolve();
    const next = prev.then(async () => {
      const updated = fn(await this.readOrigins(digest));
      if (updated) await this.writeOrigins(digest, updated);
    });
    const settled = next.catch(() => {});
    this.originUpdates.set(digest, settled);
    void settled.then(() => {
      if (this.originUpdates.get(digest) === settled) this.originUpdates.delete(digest);
    });
    return next;
  }

  /** Normalizes `busybox` → `docker.io/library/busybox:latest`; digests (`@sha256:…`) stay as they are. */
  static normalize(ref: string): string {
    return formatReference(parseReference(ref));
  }

  protected override matches(d: Descriptor, ref: string): boolean {
    return d.annotations?.[REF_NAME] === ref;
  }

  override async readIndex() {
    try {
      return await super.readIndex();
    } catch (err) {
      // no store yet (OciLayout looks for oci-layout only when index.json is missing)
      if (err instanceof DockyardError && err.code === "NOT_FOUND")
        return { schemaVersion: 2 as const, manifests: [] };
      throw err;
    }
  }

  override async resolve(ref?: string): Promise<Descriptor> {
    if (!ref) throw new DockyardError("USAGE", "name an image in the local store (REPOSITORY[:TAG] or ID)");
    // An image ID or digest (or a unique prefix of one, 12+ hex digits), as docker accepts.
    const hex = ref.replace(/^sha256:/, "");
    if (/^[a-f0-9]{12,64}$/.test(hex)) {
      const hits = (await this.list()).filter(
        (i) => i.id.slice(7).startsWith(hex) || i.descriptor.digest.slice(7).startsWith(hex),
      );
      const digests = new Set(hits.map((h) => h.descriptor.digest));
      if (digests.size === 1) return hits[0]!.descriptor;
      if (digests.size > 1) throw new DockyardError("USAGE", `image ID prefix ${hex} is ambiguous`);
    }
    let name: string;
    try {
      name = LocalStore.normalize(ref);
    } catch (err) {
      throw new DockyardError("REFERENCE_INVALID", (err as Error).message);
    }
    const parsed = parseReference(ref);
    if (parsed.digest) {
      const byDigest = (await this.list()).find((i) => i.descriptor.digest === parsed.digest);
      if (byDigest) return byDigest.descriptor;
      return super.resolve(parsed.digest);
    }
    try {
      return await super.resolve(name);
    } catch (err) {
      throw new DockyardError(
        "NOT_FOUND",
        `no image ${familiarReference(parsed)} in the local store (${name}); pull or build it first`,
        err,
      );
    }
  }

  override async writeManifest(
    ref: string | undefined,
    bytes: Uint8Array,
    mediaType: string,
    opts: WriteManifestOptions = {},
  ): Promise<Descriptor> {
    const name = ref ? LocalStore.normalize(ref) : undefined;
    return super.writeManifest(name, bytes, mediaType, opts);
  }

  /** Records `desc` under a tag, with the time for `dockyard images`. */
  override async addToIndex(
    desc: Descriptor,
    ref: string | undefined,
    bytes?: Uint8Array,
    extra?: Record<string, string>,
  ): Promise<void> {
    await super.addToIndex(desc, ref, bytes, { [CREATED_ANNOTATION]: new Date().toISOString(), ...extra });
  }

  /** `dockyard tag SRC DST`. */
  async tag(source: string, target: string): Promise<Descriptor> {
    const desc = await this.resolve(source);
    const bytes = await this.fetchManifest(desc);
    // a built image stays marked as built under its new name
    const entry = (await this.readIndex()).manifests.find(
      (d) => d.digest === desc.digest && this.matches(d, LocalStore.normalize(source)),
    );
    const built = entry?.annotations?.[BUILT_ANNOTATION] ? { [BUILT_ANNOTATION]: "true" } : undefined;
    await this.addToIndex(desc, LocalStore.normalize(target), bytes, built);
    return desc;
  }

  /** Every tagged image, newest last. */
  async list(): Promise<StoredImage[]> {
    const index = await this.readIndex();
    const out: StoredImage[] = [];
    for (const d of index.manifests) {
      out.push(await this.describe(d));
    }
    return out;
  }

  async describe(d: Descriptor): Promise<StoredImage> {
    const row: StoredImage = {
      descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
      id: d.digest,
      size: 0,
      platforms: [],
    };
    const ref = d.annotations?.[REF_NAME];
    if (ref) row.reference = ref;
    try {
      const { manifest } = parseManifest(await this.fetchManifest(d), d.mediaType);
      if (isIndex(manifest)) {
        row.platforms = manifest.manifests
          .map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : ""))
          .filter((p) => p && p !== "unknown/unknown");
      } else {
        row.id = manifest.config.digest;
        row.size = manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0);
        if (manifest.config.size < 4 << 20) {
          const cfg = JSON.parse(
            await readFile(this.blobPath(manifest.config.digest), "utf8"),
          ) as ImageConfig;
          if (cfg.created) row.created = cfg.created;
          if (cfg.os) row.platforms = [`${cfg.os}/${cfg.architecture}`];
        }
      }
    } catch {
      // A missing blob shows as an image of unknown size rather than breaking the listing.
    }
    return row;
  }

  /**
   * Removes tags (`dockyard rmi`). A name removes that tag; an ID/digest removes every tag of it
   * (like `docker rmi -f`). Unreferenced blobs are then collected. Returns the removed refs.
   */
  async remove(ref: string): Promise<string[]> {
    const desc = await this.resolve(ref);
    const byName = !/^(sha256:)?[a-f0-9]{12,64}$/.test(ref) && !parseReference(ref).digest;
    const name = byName ? LocalStore.normalize(ref) : undefined;
    const removed: string[] = [];
    await this.updateIndex((index) => {
      index.manifests = index.manifests.filter((d) => {
        const n = d.annotations?.[REF_NAME];
        const hit = name ? n === name : d.digest === desc.digest;
        if (hit) removed.push(n ?? d.digest);
        return !hit;
      });
    });
    await this.gc();
    return removed;
  }

  /** Deletes blobs no tagged image reaches. */
  async gc(minAgeMs = 10 * 60_000): Promise<{ removed: number; bytes: number }> {
    return this.withIndexLock(async () => {
      const live = new Set<string>();
      const index = await this.readIndex();
      const walk = async (d: Descriptor): Promise<void> => {
        if (live.has(d.digest)) return;
        live.add(d.digest);
        if (!isIndexMediaType(d.mediaType) && !d.mediaType.includes("manifest")) return;
        try {
          const { manifest } = parseManifest(await this.fetchManifest(d), d.mediaType);
          if (isIndex(manifest)) for (const c of manifest.manifests) await walk(c);
          else for (const c of [manifest.config, ...manifest.layers]) live.add(c.digest);
        } catch {
          // missing manifest: nothing more is reachable through it
        }
      };
      for (const d of index.manifests) await walk(d);
      let removed = 0;
      let bytes = 0;
      const dir = join(this.dir, "blobs", "sha256");
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.startsWith(".")) continue;
        if (live.has(`sha256:${name}`)) continue;
        const p = join(dir, name);
        const st = await stat(p).catch(() => undefined);
        // Leave blobs younger than 10 minutes: a build or pull may be about to reference them.
        if (!st || Date.now() - st.mtimeMs < minAgeMs) continue;
        await rm(p, { force: true });
        await rm(this.originPath(`sha256:${name}`), { force: true });
        removed++;
        bytes += st.size;
      }
      return { removed, bytes };
    });
  }

  private async withIndexLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.init();
    return withLock(this.indexPath, fn);
  }
}
