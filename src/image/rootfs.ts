// export (image → flattened rootfs tar) and import (rootfs tarball → one-layer image).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { DockyardError } from "./errors.js";
import { Digester, digestOf, type Digest } from "./digest.js";
import { MediaType } from "./media-types.js";
import {
  isIndex,
  serializeManifest,
  type ContainerConfig,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from "./manifest.js";
import { hostPlatform } from "./platform.js";
import { fetchCheckedManifest, readBlob, selectPlatform } from "./copy.js";
import { decompressLayer, flattenLayers, tarChecker } from "./layers/index.js";
import type { ImageSource, ImageTarget } from "./transports/types.js";

/** Resolves `ref` in `source` down to one image manifest (picking `platform` from an index). */
export async function resolveImage(
  source: ImageSource,
  ref: string | undefined,
  platform: Platform = hostPlatform(),
): Promise<{
  descriptor: Descriptor;
  manifest: ImageManifest;
  bytes: Uint8Array;
  config: ImageConfig;
  configBytes: Buffer;
}> {
  let desc = await source.resolve(ref);
  let m = await fetchCheckedManifest(source, desc);
  while (isIndex(m.manifest)) {
    desc = selectPlatform(m.manifest, platform, source.description);
    m = await fetchCheckedManifest(source, desc);
  }
  const manifest = m.manifest as ImageManifest;
  const configBytes = await readBlob(source, manifest.config);
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  } catch (err) {
    throw new DockyardError(
      "MANIFEST_INVALID",
      `image config ${manifest.config.digest} is not JSON: ${(err as Error).message}`,
    );
  }
  return { descriptor: { ...desc, mediaType: m.mediaType }, manifest, bytes: m.bytes, config, configBytes };
}

class DigestTap extends Transform {
  readonly d = new Digester();
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.d.update(chunk);
    cb(null, chunk);
  }
}

/**
 * Writes the image's flattened root filesystem as a tar to `out`: every layer applied in order
 * with whiteouts (what `docker export` gives for a fresh container, minus the engine's own
 * /etc/hosts, /.dockerenv and /dev, /proc, /sys mount points). Each layer is verified.
 */
export async function exportImage(
  source: ImageSource,
  ref: string | undefined,
  out: NodeJS.WritableStream,
  opts: { platform?: Platform } = {},
): Promise<{ entries: number; layers: number }> {
  const img = await resolveImage(source, ref, opts.platform);
  const layers = img.manifest.layers;
  const diffIds = img.config.rootfs?.diff_ids ?? [];
  const open = async (i: number): Promise<Readable> => {
    const { openVerifiedBlob } = await import("./copy.js");
    const blob = await openVerifiedBlob(source, layers[i]!);
    const tar = decompressLayer(blob);
    // Check the uncompressed bytes against the config's diff_id too.
    const want = diffIds[i];
    if (!want) return tar;
    const tap = new DigestTap();
    const checked = new PassThrough();
    tar.on("error", (e) => checked.destroy(e));
    tar.pipe(tap).on("end", () => {
      const got = tap.d.digest();
      if (got !== want)
        checked.destroy(
          new DockyardError("DIGEST_INVALID", `layer ${i} uncompresses to ${got}, config says ${want}`),
        );
    });
    tap.pipe(checked);
    return checked;
  };
  const r = await flattenLayers(open, layers.length, out);
  return { entries: r.entries, layers: layers.length };
}

/** Applies `--change` instructions (Dockerfile syntax: CMD, ENTRYPOINT, ENV, …) to a container config. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const c: ContainerConfig = { ...config };
  const jsonOrShell = (rest: string): string[] => {
    const t = rest.trim();
    if (t.startsWith("[")) {
      try {
        const v = JSON.parse(t) as unknown;
        if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
      } catch {
        // not JSON: shell form
      }
    }
    return ["/bin/sh", "-c", t];
  };
  const pairs = (rest: string): [string, string][] => {
    const t = rest.trim();
    if (!t.includes("=")) {
      const sp = t.search(/\s/);
      if (sp < 0) throw new DockyardError("USAGE", `--change: ${JSON.stringify(rest)} needs KEY=VALUE`);
      return [[t.slice(0, sp), t.slice(sp + 1).trim()]];
    }
    const out: [string, string][] = [];
    const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(t))) {
      let v = m[2]!;
      if (v.startsWith('"')) v = JSON.parse(v) as string;
      else if (v.startsWith("'")) v = v.slice(1, -1);
      out.push([m[1]!, v]);
    }
    return out;
  };
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(change);
    if (!m) throw new DockyardError("USAGE", `--change ${JSON.stringify(change)}: expected INSTRUCTION ARGS`);
    const word = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (word) {
      case "CMD":
        c.Cmd = jsonOrShell(rest);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = jsonOrShell(rest);
        break;
      case "ENV": {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(rest)) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case "LABEL":
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest)) };
        break;
      case "WORKDIR":
        c.WorkingDir = rest.trim();
        break;
      case "USER":
        c.User = rest.trim();
        break;
      case "STOPSIGNAL":
        c.StopSignal = rest.trim();
        break;
      case "EXPOSE":
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) c.ExposedPorts[p.includes("/") ? p : `${p}/tcp`] = {};
        break;
      case "VOLUME": {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of jsonOrShell(rest)[0] === "/bin/sh" ? rest.trim().split(/\s+/) : jsonOrShell(rest))
          c.Volumes[v] = {};
        break;
      }
      case "ONBUILD":
        c.OnBuild = [...(c.OnBuild ?? []), rest.trim()];
        break;
      default:
        throw new DockyardError(
          "USAGE",
          `--change ${word} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR are)`,
        );
    }
  }
  return c;
}

export interface ImportOptions {
  changes?: string[];
  message?: string;
  platform?: Platform;
  allowDevices?: boolean;
}

/**
 * `docker import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer image in `target`.
 * The tarball is checked entry by entry (no `..`, absolute names, links out, devices) as it
 * streams; the layer is stored gzip-compressed (OCI would say so; we write Docker schema2 like
 * `docker import` + `docker push`).
 */
export async function importTarball(
  input: Readable,
  target: ImageTarget,
  ref: string | undefined,
  opts: ImportOptions = {},
): Promise<{ descriptor: Descriptor; config: Digest }> {
  const dir = await mkdtemp(join(process.env.DOCKYARD_TMPDIR || tmpdir(), "dockyard-import-"));
  try {
    const layerPath = join(dir, "layer.tar.gz");
    const diff = new DigestTap();
    const comp = new DigestTap();
    await pipeline(
      decompressLayer(input),
      tarChecker({ allowDevices: opts.allowDevices }),
      diff,
      createGzip({ level: 6 }),
      comp,
      createWriteStream(layerPath),
    );
    const size = (await stat(layerPath)).size;
    const layer: Descriptor = { mediaType: MediaType.dockerLayerGzip, digest: comp.d.digest(), size };
    const platform = opts.platform ?? hostPlatform();
    const created = new Date().toISOString();
    const cfg: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config: applyChanges({}, opts.changes ?? []),
      rootfs: { type: "layers", diff_ids: [diff.d.digest()] },
      history: [{ created, comment: opts.message ?? "Imported from tarball" }],
    };
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    const cfgDesc: Descriptor = {
      mediaType: MediaType.dockerConfig,
      digest: digestOf(cfgBytes),
      size: cfgBytes.length,
    };
    if (!(await target.hasBlob(layer))) await target.writeBlob(layer, createReadStream(layerPath));
    if (!(await target.hasBlob(cfgDesc))) await target.writeBlob(cfgDesc, Readable.from([cfgBytes]));
    const m: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: cfgDesc,
      layers: [layer],
    };
    const bytes = serializeManifest(m);
    const descriptor = await target.writeManifest(ref, bytes, MediaType.dockerManifest, { top: true });
    return { descriptor, config: cfgDesc.digest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
