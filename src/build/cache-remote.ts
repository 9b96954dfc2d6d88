// The external step cache (--cache-to / --cache-from): the step cache's records (step key → the
// layer the step made, or "no layer", and its time) exported as an OCI image manifest in a registry
// (or an OCI layout directory), so a fresh CI machine reuses layers built elsewhere.
//
// The format follows BuildKit's registry cache with `image-manifest=true`: an OCI image manifest
// whose config is an `application/vnd.buildkit.cacheconfig.v0` blob and whose layers are the cached
// layer blobs (annotated with their diff ID and creation time). An image manifest, not an index of
// blobs, because the reference registry (distribution) only accepts indexes of manifests. The
// cacheconfig keeps BuildKit's shape (`layers` with parent links, `records` with `digest`, result
// `layers`, `inputs`); the record digests are dockyard's step keys, so the cache is for dockyard
// builds (BuildKit would find no matching keys in it, nor we in its caches). Two dockyard fields:
// `emptyLayer`/`createdAt` on records of steps that changed no file.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { digestOf } from "../image/digest.js";
import { DockyardError } from "../image/errors.js";
import { isIndex, type Descriptor, type ImageManifest } from "../image/manifest.js";
import { MediaType } from "../image/media-types.js";
import { parseReference } from "../image/reference.js";
import { fetchCheckedManifest, readBlob } from "../image/copy.js";
import { limiter } from "../util/limit.js";
import {
  OciLayout,
  registryClient,
  type BlobOrigin,
  type ImageSource,
  type ImageTarget,
} from "../image/transports/index.js";
import type { BuildStore, LayerRecord, StepRecord } from "./cache.js";
import type { CacheSpec } from "./options.js";
import type { BuildReporter } from "./progress.js";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";
const UNCOMPRESSED = "containerd.io/uncompressed";
const CREATED_AT = "buildkit/createdat";

/** One step's cache record as the executor made or found it. */
export interface ExportedStep {
  key: string;
  /** The key of the step (or FROM) before it in its stage. */
  parent?: string;
  rec: StepRecord;
}

interface CacheLayerJSON {
  blob: string;
  parent: number;
  annotations?: { mediaType?: string; diffID?: string; size?: number; createdAt?: string };
}
interface CacheRecordJSON {
  digest: string;
  layers?: { layer: number; createdAt?: string }[];
  inputs?: { selector?: string; link: number }[][];
  /** dockyard: the step changed no file (history empty_layer). */
  emptyLayer?: boolean;
  createdAt?: string;
}
export interface CacheConfigJSON {
  layers?: CacheLayerJSON[];
  records?: CacheRecordJSON[];
}

/** The cacheconfig and the layers it lists (dedup by key and by blob). */
export function buildCacheConfig(steps: ExportedStep[]): { config: CacheConfigJSON; layers: LayerRecord[] } {
  const byKey = new Map<string, ExportedStep>();
  for (const s of steps) if (!byKey.has(s.key)) byKey.set(s.key, s);
  const layers: LayerRecord[] = [];
  const layerIndex = new Map<string, number>();
  const jsonLayers: CacheLayerJSON[] = [];
  const recordIndex = new Map<string, number>();
  const records: CacheRecordJSON[] = [];
  // the nearest exported ancestor with a layer: the layer's parent in its chain
  const parentLayer = (s: ExportedStep): string | undefined => {
    const seen = new Set<string>();
    for (let p = s.parent; p && !seen.has(p);) {
      seen.add(p);
      const ps = byKey.get(p);
      if (!ps) return undefined;
      if (ps.rec.layer) return ps.rec.layer.digest;
      p = ps.parent;
    }
    return undefined;
  };
  const addLayer = (s: ExportedStep): number => {
    const l = s.rec.layer!;
    let i = layerIndex.get(l.digest);
    if (i !== undefined) return i;
    const pd = parentLayer(s);
    const parent =
      pd !== undefined ? addLayer([...byKey.values()].find((x) => x.rec.layer?.digest === pd)!) : -1;
    i = jsonLayers.length;
    layers.push(l);
    layerIndex.set(l.digest, i);
    jsonLayers.push({
      blob: l.digest,
      parent,
      annotations: { mediaType: l.mediaType, diffID: l.diffID, size: l.size, createdAt: s.rec.created },
    });
    return i;
  };
  for (const s of byKey.values()) {
    const r: CacheRecordJSON = { digest: s.key };
    if (s.rec.layer) r.layers = [{ layer: addLayer(s), createdAt: s.rec.created }];
    else {
      r.emptyLayer = true;
      r.createdAt = s.rec.created;
    }
    recordIndex.set(s.key, records.length);
    records.push(r);
  }
  for (const s of byKey.values()) {
    const pi = s.parent !== undefined ? recordIndex.get(s.parent) : undefined;
    if (pi !== undefined) records[recordIndex.get(s.key)!]!.inputs = [[{ link: pi }]];
  }
  return { config: { layers: jsonLayers, records }, layers };
}

/** The cache as an OCI image manifest (config = cacheconfig, layers = the cached blobs). */
export function cacheManifest(steps: ExportedStep[]): {
  manifest: Uint8Array;
  config: Uint8Array;
  configDesc: Descriptor;
  layers: LayerRecord[];
} {
  const { config, layers } = buildCacheConfig(steps);
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = {
    mediaType: CACHE_CONFIG_MEDIA_TYPE,
    digest: digestOf(configBytes),
    size: configBytes.length,
  };
  const createdOf = new Map(config.layers!.map((l) => [l.blob, l.annotations?.createdAt]));
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      annotations: {
        [UNCOMPRESSED]: l.diffID,
        ...(createdOf.get(l.digest) ? { [CREATED_AT]: createdOf.get(l.digest)! } : {}),
      },
    })),
  };
  return { manifest: Buffer.from(JSON.stringify(m)), config: configBytes, configDesc, layers };
}

export function describeCacheSpec(spec: CacheSpec): string {
  return spec.type === "registry" ? spec.ref! : `${spec.dir}${spec.tag !== "latest" ? `:${spec.tag}` : ""}`;
}

interface CacheIO {
  insecureRegistries?: string[];
}

function registryRepo(ref: string, o: CacheIO, push: boolean) {
  let r;
  try {
    r = parseReference(ref);
  } catch (err) {
    throw new DockyardError("USAGE", `cache ref ${JSON.stringify(ref)}: ${(err as Error).message}`);
  }
  const insecure = o.insecureRegistries?.includes(r.registry) ?? false;
  const repo = registryClient(r.registry, { insecure }).repository(r.repository, { push });
  return { repo, tag: r.digest ?? r.tag ?? "latest" };
}

async function openCacheSource(spec: CacheSpec, o: CacheIO): Promise<{ source: ImageSource; ref: string }> {
  if (spec.type === "registry") {
    const { repo, tag } = registryRepo(spec.ref!, o, false);
    return { source: repo, ref: tag };
  }
  const layout = new OciLayout(spec.dir!);
  if (!(await layout.exists()))
    throw new DockyardError("NOT_FOUND", `${spec.dir} is not an OCI layout (no oci-layout file)`);
  return { source: layout, ref: spec.tag ?? "latest" };
}

interface RemoteEntry {
  rec: StepRecord;
  source: ImageSource;
  where: string;
}

export interface ImporterOptions extends CacheIO {
  store: BuildStore;
  reporter: BuildReporter;
}

/**
 * --cache-from: the cache manifests are fetched once, in the background from the start of the
 * build; a step whose key is in one (the first --cache-from wins) takes its layer from there
 * instead of running. Layer blobs download in the background (a few at once), verified by digest,
 * size and diff ID; whatever reads a layer waits for its download (`ready`).
 */
export class CacheImporter {
  private readonly loaded: Promise<void>;
  private readonly entries = new Map<string, RemoteEntry>();
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly limit = limiter(4);
  /** Registry repositories the cache came from: the exporter mounts blobs from them. */
  readonly origins: BlobOrigin[] = [];
  hits = 0;

  constructor(
    specs: CacheSpec[],
    private readonly o: ImporterOptions,
  ) {
    this.loaded = (async () => {
      const loaded = await Promise.all(specs.map((s) => this.load(s)));
      for (const m of loaded) for (const [k, e] of m) if (!this.entries.has(k)) this.entries.set(k, e);
    })();
  }

  private async load(spec: CacheSpec): Promise<Map<string, RemoteEntry>> {
    const where = describeCacheSpec(spec);
    const out = new Map<string, RemoteEntry>();
    this.o.reporter.info(`importing cache manifest from ${where}`);
    try {
      const { source, ref } = await openCacheSource(spec, this.o);
      if (source.origin) this.origins.push(source.origin);
      const desc = await source.resolve(ref);
      const { manifest } = await fetchCheckedManifest(source, desc);
      let configDesc: Descriptor | undefined;
      let blobs: Descriptor[];
      if (isIndex(manifest)) {
        // BuildKit's default form: an index listing the layers and the cacheconfig
        configDesc = manifest.manifests.find((d) => d.mediaType === CACHE_CONFIG_MEDIA_TYPE);
        blobs = manifest.manifests.filter((d) => d.mediaType !== CACHE_CONFIG_MEDIA_TYPE);
      } else {
        configDesc = manifest.config.mediaType === CACHE_CONFIG_MEDIA_TYPE ? manifest.config : undefined;
        blobs = manifest.layers;
      }
      if (!configDesc)
        throw new DockyardError(
          "MANIFEST_INVALID",
          `${where} is not a build cache (no ${CACHE_CONFIG_MEDIA_TYPE} config)`,
        );
      const cfg = JSON.parse(
        (await readBlob(source, configDesc, 32 << 20)).toString("utf8"),
      ) as CacheConfigJSON;
      const byDigest = new Map<string, Descriptor>(blobs.map((b) => [b.digest, b]));
      const layers = cfg.layers ?? [];
      for (const r of cfg.records ?? []) {
        if (!r.digest || out.has(r.digest)) continue;
        if (r.layers?.length) {
          const l = layers[r.layers[0]!.layer];
          const d = l ? byDigest.get(l.blob) : undefined;
          if (!l || !d) continue;
          const diffID = l.annotations?.diffID ?? d.annotations?.[UNCOMPRESSED];
          if (!diffID) continue;
          const layer: LayerRecord = {
            mediaType: l.annotations?.mediaType ?? d.mediaType,
            digest: d.digest,
            size: d.size,
            diffID: diffID as LayerRecord["diffID"],
          };
          const created =
            r.layers[0]!.createdAt ?? l.annotations?.createdAt ?? d.annotations?.[CREATED_AT] ?? "";
          out.set(r.digest, { rec: { v: 1, layer, created }, source, where });
        } else if (r.emptyLayer) {
          out.set(r.digest, { rec: { v: 1, created: r.createdAt ?? "" }, source, where });
        }
      }
    } catch (err) {
      const msg = (err as Error).message;
      this.o.reporter.info(`WARNING: cache import from ${where} failed (building without it): ${msg}`);
    }
    return out;
  }

  /** Whether some --cache-from loaded with records. */
  async usable(): Promise<boolean> {
    await this.loaded;
    return this.entries.size > 0;
  }

  /** The record for `key` when a --cache-from has it; starts downloading its layer. */
  async lookup(key: string): Promise<StepRecord | undefined> {
    await this.loaded;
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.hits++;
    const layer = e.rec.layer;
    if (!layer) {
      await this.o.store.putStep(key, e.rec);
      return e.rec;
    }
    if (!this.pulls.has(layer.digest)) {
      const p = (async () => {
        if (!(await this.o.store.hasBlob(layer.digest)))
          await this.limit(() => this.pull(e.source, e.where, layer));
        await this.o.store.putStep(key, e.rec);
      })();
      p.catch(() => {});
      this.pulls.set(layer.digest, p);
    }
    return e.rec;
  }

  /** Resolves when the blob `digest` (if it is being imported) is in the build store. */
  ready(digest: string): Promise<void> {
    return this.pulls.get(digest) ?? Promise.resolve();
  }

  /** Waits for every download (failures surface here). */
  async settle(): Promise<void> {
    await Promise.all(this.pulls.values());
  }

  private async pull(source: ImageSource, where: string, l: LayerRecord): Promise<void> {
    const tmp = await this.o.store.tempDir("cache-pull-");
    try {
      const file = join(tmp, "blob");
      const raw = await source.openBlob({ mediaType: l.mediaType, digest: l.digest, size: l.size });
      const blobHash = createHash("sha256");
      const tarHash = createHash("sha256");
      const gz = /gzip/.test(l.mediaType);
      const gunzip = gz ? createGunzip() : undefined;
      gunzip?.on("data", (c: Buffer) => tarHash.update(c));
      const unzipped = gunzip
        ? new Promise<void>((res, rej) => {
            gunzip.on("end", res);
            gunzip.on("error", rej);
          })
        : Promise.resolve();
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          blobHash.update(chunk);
          size += chunk.length;
          if (!gunzip) {
            tarHash.update(chunk);
            cb(null, chunk);
          } else if (gunzip.write(chunk)) cb(null, chunk);
          else gunzip.once("drain", () => cb(null, chunk));
        },
        flush(cb) {
          gunzip?.end();
          cb();
        },
      });
      await pipeline(raw, tap, createWriteStream(file));
      await unzipped;
      const got = `sha256:${blobHash.digest("hex")}`;
      const diffID = `sha256:${tarHash.digest("hex")}`;
      if (got !== l.digest || size !== l.size)
        throw new DockyardError(
          "DIGEST_INVALID",
          `cached layer ${l.digest} from ${where}: got ${got} (${size} bytes, want ${l.size})`,
        );
      if (diffID !== l.diffID)
        throw new DockyardError(
          "DIGEST_INVALID",
          `cached layer ${l.digest} from ${where}: its content is ${diffID}, the cache says ${l.diffID}`,
        );
      if (!(await this.o.store.hasBlob(l.digest))) await this.o.store.adoptBlob(file, l.digest);
    } catch (err) {
      throw new DockyardError(
        (err as DockyardError).code ?? "NETWORK",
        `pulling cached layer ${l.digest} from ${where} failed: ${(err as Error).message} (rerun without --cache-from, or with --no-cache)`,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

export interface ExportOptions extends CacheIO {
  store: BuildStore;
  reporter: BuildReporter;
  /** Waits until a blob is in the build store (imports in flight). */
  ready?: (digest: string) => Promise<void>;
  /** Repositories of the same registry that may hold the blobs (cross-repo mount). */
  origins?: BlobOrigin[];
}

/** --cache-to: writes the cache manifest, its config and the layers missing there. */
export async function exportCache(
  steps: ExportedStep[],
  spec: CacheSpec,
  o: ExportOptions,
): Promise<{ where: string; digest: string; pushed: number; existed: number; mounted: number }> {
  const where = describeCacheSpec(spec);
  const t0 = Date.now();
  o.reporter.info(`exporting cache to ${where} (mode=${spec.mode}, ${steps.length} steps)`);
  let target: ImageTarget;
  let ref: string;
  if (spec.type === "registry") {
    const { repo, tag } = registryRepo(spec.ref!, o, true);
    if (tag.includes(":"))
      throw new DockyardError("USAGE", `--cache-to ref=${spec.ref}: name a tag, not a digest`);
    target = repo;
    ref = tag;
  } else {
    target = new OciLayout(spec.dir!);
    ref = spec.tag ?? "latest";
  }
  const m = cacheManifest(steps);
  const limit = limiter(4);
  let pushed = 0;
  let existed = 0;
  let mounted = 0;
  const origins = (o.origins ?? []).filter(
    (x) =>
      target.origin &&
      target.mountBlob &&
      x.registry === target.origin.registry &&
      x.repository !== target.origin.repository,
  );
  const send = async (desc: Descriptor, open: () => Promise<Readable>) => {
    if (await target.hasBlob(desc)) {
      existed++;
      return;
    }
    for (const from of origins) {
      if (await target.mountBlob!(desc, from).catch(() => false)) {
        mounted++;
        return;
      }
    }
    await target.writeBlob(desc, await open());
    pushed++;
  };
  // every upload ends (or fails) before the export does: nothing is left running in the background
  const sent = await Promise.allSettled(
    m.layers.map((l) =>
      limit(async () => {
        await o.ready?.(l.digest);
        const desc = { mediaType: l.mediaType, digest: l.digest, size: l.size };
        await send(desc, async () => o.store.openBlob(l.digest));
      }),
    ),
  );
  const failed = sent.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  await send(m.configDesc, async () => Readable.from([Buffer.from(m.config)]));
  const desc = await target.writeManifest(ref, m.manifest, MediaType.ociManifest, { top: true });
  await target.commit?.();
  o.reporter.info(
    `exported cache to ${where}: manifest ${desc.digest}, ${m.layers.length} layers; blobs: ${pushed} pushed, ${existed} already there, ${mounted} mounted (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
  );
  return { where, digest: desc.digest, pushed, existed, mounted };
}
