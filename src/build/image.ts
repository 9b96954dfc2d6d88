// The built image as an ImageSource over the build store, so every output (local store, registry
// push, OCI layout, archives, the Docker Engine) is one `copy()`. And base-image resolution for
// FROM / COPY --from=image: the local store first (as docker does), else pulled from its registry
// into the store.
import { Readable } from "node:stream";
import { digestOf } from "../image/digest.js";
import { DockyardError } from "../image/errors.js";
import {
  isIndex,
  parseManifest,
  serializeManifest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from "../image/manifest.js";
import { MediaType, isIndexMediaType } from "../image/media-types.js";
import { formatReference, parseReference } from "../image/reference.js";
import { copy, readBlob, selectPlatform, fetchCheckedManifest } from "../image/copy.js";
// the store only: the registry client is loaded when a base image has to be pulled
import type { ImageSource } from "../image/transports/types.js";
import type { LocalStore } from "../image/transports/store.js";
import type { Progress } from "../util/progress.js";
import type { LayerRecord } from "./cache.js";
import type { BaseImage, ImageResolver, StageResult } from "./execute.js";

/** Docker layer media types → their OCI equivalents (same bytes), as BuildKit does for OCI manifests. */
function ociLayerType(mt: string): string {
  if (mt === MediaType.dockerLayerGzip) return MediaType.ociLayerGzip;
  if (mt === "application/vnd.docker.image.rootfs.diff.tar") return MediaType.ociLayer;
  if (mt === MediaType.dockerLayerForeignGzip) return MediaType.ociLayerNondistributableGzip;
  return mt;
}

export class BuiltImage implements ImageSource {
  readonly description = "build result";
  readonly config: ImageConfig;
  readonly configBytes: Uint8Array;
  readonly configDesc: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly manifestDesc: Descriptor;
  readonly manifest: ImageManifest;

  constructor(
    private readonly result: StageResult,
    platform: Platform,
  ) {
    this.config = result.config;
    this.configBytes = Buffer.from(JSON.stringify(result.config));
    this.configDesc = {
      mediaType: MediaType.ociConfig,
      digest: digestOf(this.configBytes),
      size: this.configBytes.length,
    };
    this.manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: this.configDesc,
      layers: result.layers.map((l) => ({
        mediaType: ociLayerType(l.mediaType),
        digest: l.digest,
        size: l.size,
      })),
    };
    this.manifestBytes = Buffer.from(JSON.stringify(this.manifest));
    this.manifestDesc = {
      mediaType: MediaType.ociManifest,
      digest: digestOf(this.manifestBytes),
      size: this.manifestBytes.length,
      platform: {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
      },
    };
  }

  /** The image ID as docker shows it: the config digest. */
  get id(): string {
    return this.configDesc.digest;
  }

  get layers(): LayerRecord[] {
    return this.result.layers;
  }

  async resolve(): Promise<Descriptor> {
    return this.manifestDesc;
  }

  async fetchManifest(desc: Descriptor): Promise<Uint8Array> {
    if (desc.digest !== this.manifestDesc.digest)
      throw new DockyardError("MANIFEST_UNKNOWN", `manifest ${desc.digest} is not this build's`);
    return this.manifestBytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    if (desc.digest === this.configDesc.digest) return Readable.from([Buffer.from(this.configBytes)]);
    const open = this.result.openers.get(desc.digest);
    if (!open) throw new DockyardError("BLOB_UNKNOWN", `blob ${desc.digest} is not part of this build`);
    const s = await open();
    return s instanceof Readable ? s : Readable.from(s);
  }
}

export interface ResolverOptions {
  store: LocalStore;
  /** Registries allowed over plain HTTP / unverified TLS (loopback always is). */
  insecureRegistries?: string[];
  /** Always check the registry for a newer image (--pull). */
  pull?: boolean;
  progress?: Progress;
  onPull?: (ref: string) => void;
}

/** FROM / COPY --from=image: local store first, else pull into the store from the registry. */
export class StoreResolver implements ImageResolver {
  private cache = new Map<string, Promise<BaseImage>>();
  constructor(private readonly o: ResolverOptions) {}

  resolve(ref: string, platform: Platform): Promise<BaseImage> {
    const k = `${ref}|${platform.os}/${platform.architecture}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.doResolve(ref, platform);
      this.cache.set(k, p);
    }
    return p;
  }

  private async doResolve(ref: string, platform: Platform): Promise<BaseImage> {
    let name: string;
    try {
      name = formatReference(parseReference(ref));
    } catch (err) {
      throw new DockyardError(
        "REFERENCE_INVALID",
        `invalid base image reference ${JSON.stringify(ref)}: ${(err as Error).message}`,
      );
    }
    const store = this.o.store;
    let desc: Descriptor | undefined;
    if (!this.o.pull) desc = await store.resolve(name).catch(() => undefined);
    if (!desc) {
      const r = parseReference(ref);
      this.o.onPull?.(name);
      const insecure = this.o.insecureRegistries?.includes(r.registry) ?? false;
      const { registryClient } = await import("../image/transports/registry.js");
      const repo = registryClient(r.registry, { insecure }).repository(r.repository);
      // The client trust policy (DOCKYARD_POLICY, ~/.config/dockyard/policy.yaml) applies to FROM:
      // the base must be signed as it says, and is pulled by the verified digest.
      const { verifiedBaseDigest } = await import("../trust/signatures/hooks.js");
      const verified = await verifiedBaseDigest(r, { insecure });
      try {
        const res = await copy(repo, verified ?? r.digest ?? r.tag ?? "latest", store, name, {
          platform,
          progress: this.o.progress,
        });
        desc = res.descriptor;
      } catch (err) {
        throw new DockyardError(
          (err as DockyardError).code ?? "NETWORK",
          `failed to resolve base image ${ref}: ${(err as Error).message}`,
        );
      }
    }
    let { manifest } = await fetchCheckedManifest(store, desc);
    let manifestDigest = desc.digest;
    if (isIndex(manifest) || isIndexMediaType(desc.mediaType)) {
      if (!isIndex(manifest)) throw new DockyardError("MANIFEST_INVALID", `${ref}: bad index`);
      const child = selectPlatform(manifest, platform, ref);
      manifestDigest = child.digest;
      const m = await store.fetchManifest(child);
      manifest = parseManifest(m, child.mediaType).manifest;
    }
    if (isIndex(manifest)) throw new DockyardError("MANIFEST_INVALID", `${ref}: nested index`);
    const im = manifest;
    const config = JSON.parse((await readBlob(store, im.config)).toString("utf8")) as ImageConfig;
    const diffIDs = config.rootfs?.diff_ids ?? [];
    if (diffIDs.length !== im.layers.length)
      throw new DockyardError(
        "MANIFEST_INVALID",
        `${ref}: the config lists ${diffIDs.length} diff_ids for ${im.layers.length} layers`,
      );
    const layers: LayerRecord[] = im.layers.map((l, i) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      diffID: diffIDs[i]!,
    }));
    return {
      ref: name,
      digest: manifestDigest,
      config,
      layers,
      openLayer: async (l) =>
        store.openBlob({ mediaType: l.mediaType, digest: l.digest, size: l.size }) as Promise<Readable>,
    };
  }
}

export { serializeManifest };
