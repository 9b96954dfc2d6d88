/**
 * What lint can know about base images without the network: the platform and ENV of images in the
 * local store (`dockyard pull`, `load`, a previous build). Feeds InvalidBaseImagePlatform and
 * UndefinedVar (a base image's ENV is defined) from the CLI and the build's checks. An image that
 * is not in the store stays unknown; nothing is ever fetched.
 */
import { loadDockerfile, type LoadedDockerfile } from "../dockerfile/index.js";
import { isIndex, parseManifest } from "../image/manifest.js";
import { formatPlatform, parsePlatform, platformMatches } from "../image/platform.js";
import { formatReference, parseReference } from "../image/reference.js";
import type { LocalStore } from "../image/transports/store.js";
import type { ImageConfig, Platform } from "../image/manifest.js";

export interface BaseImageLookup {
  /** `os/arch` of the store's image for the wanted platform, or of its only/first one. */
  resolveImagePlatform(image: string, expected?: string): string | undefined;
  /** The image config's Env, when the image (for the target platform) is in the store. */
  imageEnv(image: string): Record<string, string> | undefined;
}

/** Lookups per store, for the life of the process (a lint run over many files, one build). */
const CACHE = new WeakMap<LocalStore, Map<string, Promise<Info | undefined>>>();

interface Info {
  platforms: string[];
  env?: Record<string, string>;
}

async function inspect(store: LocalStore, ref: string, want: Platform): Promise<Info | undefined> {
  let name: string;
  try {
    name = formatReference(parseReference(ref));
  } catch {
    return undefined;
  }
  const desc = await store.resolve(name).catch(() => undefined);
  if (!desc) return undefined;
  try {
    let { manifest } = parseManifest(await store.fetchManifest(desc), desc.mediaType);
    const platforms: string[] = [];
    if (isIndex(manifest)) {
      const kids = manifest.manifests.filter((m) => m.platform && m.platform.os !== "unknown");
      for (const k of kids)
        platforms.push(formatPlatform({ os: k.platform!.os, architecture: k.platform!.architecture }));
      const child = kids.find((k) => platformMatches(want, k.platform));
      if (!child) return { platforms };
      const m = await store.fetchManifest(child).catch(() => undefined);
      if (!m) return { platforms };
      manifest = parseManifest(m, child.mediaType).manifest;
      if (isIndex(manifest)) return { platforms };
    }
    const chunks: Buffer[] = [];
    for await (const c of (await store.openBlob(manifest.config)) as AsyncIterable<Buffer>) chunks.push(c);
    const cfg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ImageConfig;
    if (platforms.length === 0 && cfg.os) platforms.push(`${cfg.os}/${cfg.architecture}`);
    const env: Record<string, string> = {};
    for (const e of cfg.config?.Env ?? []) {
      const i = e.indexOf("=");
      if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
    }
    return { platforms, env };
  } catch {
    return undefined;
  }
}

/**
 * Looks up, in the local store, every base image the Dockerfile names (FROM, after ARG expansion)
 * for `platform` (default: this machine's). Never throws; missing images are simply unknown.
 */
export async function localBaseImages(
  text: string | LoadedDockerfile,
  options: { store?: LocalStore; platform?: string } = {},
): Promise<BaseImageLookup> {
  const loaded = typeof text === "string" ? loadDockerfile(text) : text;
  const refs = new Set<string>();
  for (const st of loaded.resolved.stages) if (st.base.type === "image") refs.add(st.base.ref);
  const infos = new Map<string, Info>();
  if (refs.size > 0) {
    const { hostPlatform } = await import("../image/platform.js");
    const want = options.platform ? parsePlatform(options.platform) : hostPlatform();
    let store = options.store;
    if (!store) {
      const { LocalStore } = await import("../image/transports/store.js");
      store = new LocalStore();
    }
    let cache = CACHE.get(store);
    if (!cache) CACHE.set(store, (cache = new Map()));
    const key = formatPlatform(want);
    await Promise.all(
      [...refs].map(async (r) => {
        let p = cache.get(`${key} ${r}`);
        if (!p) cache.set(`${key} ${r}`, (p = inspect(store!, r, want)));
        const i = await p;
        if (i) infos.set(r, i);
      }),
    );
  }
  return {
    resolveImagePlatform(image, expected) {
      const i = infos.get(image);
      if (!i || i.platforms.length === 0) return undefined;
      if (expected && i.platforms.includes(expected)) return expected;
      return i.platforms[0];
    },
    imageEnv: (image) => infos.get(image)?.env,
  };
}
