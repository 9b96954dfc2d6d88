import type { Platform } from "../image/manifest.js";
import type { Secret } from "./execute.js";
import type { BuiltImage } from "./image.js";
import type { BuildReporter } from "./progress.js";
import type { NetworkMode } from "./runner.js";

/** One --output: type=oci|docker|local|image|registry|tar, dest=…, plus extra attributes. */
export interface OutputSpec {
  type: "oci" | "docker" | "local" | "image" | "registry" | "tar";
  dest?: string;
  /** oci/docker: write a directory (OCI layout) instead of a tarball (tar=false). */
  tar?: boolean;
  name?: string;
  push?: boolean;
  attrs: Record<string, string>;
}

export interface BuildOptions {
  context: string;
  dockerfile?: string;
  /** Dockerfile text given directly (tests, `-f -`). */
  dockerfileText?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  network?: NetworkMode;
  platform?: Platform;
  sourceDateEpoch?: number;
  secrets?: Secret[];
  insecureRegistries?: string[];
  push?: boolean;
  /** Sign every pushed tag (src/trust/cli-hooks.ts signPushed: $DOCKYARD_SIGNING_KEY, else Notary). */
  sign?: boolean;
  load?: boolean;
  outputs?: OutputSpec[];
  iidfile?: string;
  metadataFile?: string;
  /** $DOCKYARD_HOME override. */
  home?: string;
  reporter: BuildReporter;
  signal?: AbortSignal;
  /** Only run the build checks (`--check`). */
  check?: boolean;
  /** Docker driver: the engine (DOCKER_HOST default). */
  dockerHost?: string;
  /** --cache-from: external step caches to import (registry refs, local layouts). */
  cacheFrom?: CacheSpec[];
  /** --cache-to: where to export the step cache after the build. */
  cacheTo?: CacheSpec[];
}

/**
 * One --cache-from / --cache-to: `type=registry,ref=REF[,mode=min|max]`, `type=local,dest=DIR` /
 * `type=local,src=DIR` (an OCI layout), or a bare `REF` (type=registry); `--cache-to type=inline`
 * (the docker driver only: cache metadata in the image config).
 */
export interface CacheSpec {
  type: "registry" | "local" | "inline";
  /** type=registry: the cache image reference (`host/repo:tag`). */
  ref?: string;
  /** type=local: the layout directory (dest= for --cache-to, src= for --cache-from). */
  dir?: string;
  /** type=local: the tag inside the layout (default `latest`). */
  tag?: string;
  /** --cache-to: min = the final image's steps only (default), max = every stage's steps. */
  mode: "min" | "max";
  /** --cache-to: an export failure is a warning, not a failed build. */
  ignoreError: boolean;
  attrs: Record<string, string>;
}

/** Parses a --cache-from (`dir` = "from") or --cache-to (`dir` = "to") value. */
export function parseCacheSpec(spec: string, dir: "from" | "to"): CacheSpec {
  const flag = dir === "from" ? "--cache-from" : "--cache-to";
  const attrs: Record<string, string> = {};
  if (!spec.includes("=")) attrs.ref = spec;
  else
    for (const part of spec.split(",")) {
      const i = part.indexOf("=");
      if (i < 0) attrs[part.trim()] = "true";
      else attrs[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
  const type = attrs.type ?? "registry";
  if (type === "inline" && dir === "to") return { type, mode: "min", ignoreError: false, attrs };
  if (type !== "registry" && type !== "local")
    throw new Error(
      `${flag} type=${type} is not supported: use type=registry,ref=REF or type=local,${dir === "from" ? "src" : "dest"}=DIR${dir === "to" ? " (or type=inline with --driver docker)" : ""}`,
    );
  const mode = attrs.mode ?? "min";
  if (mode !== "min" && mode !== "max") throw new Error(`${flag} mode=${mode}: use min or max`);
  const out: CacheSpec = {
    type,
    mode,
    ignoreError: attrs["ignore-error"] === "true",
    attrs,
  };
  if (type === "registry") {
    if (!attrs.ref) throw new Error(`${flag} type=registry needs ref=REGISTRY/REPO:TAG`);
    out.ref = attrs.ref;
  } else {
    const d = dir === "from" ? attrs.src : attrs.dest;
    if (!d) throw new Error(`${flag} type=local needs ${dir === "from" ? "src" : "dest"}=DIR`);
    out.dir = d;
    out.tag = attrs.tag ?? "latest";
  }
  return out;
}

export interface BuildResult {
  /** Image ID (config digest). */
  id: string;
  /** Manifest digest. */
  digest: string;
  image?: BuiltImage;
  tags: string[];
  seconds: number;
  hashedFiles?: number;
  outputs: string[];
  /** With `check`: how many build-check warnings there were. */
  checkFindings?: number;
}

/** Parses `--output type=oci,dest=out.tar` (or the `-o ./dir` shorthand for type=local). */
export function parseOutput(spec: string): OutputSpec {
  if (!spec.includes("=")) return { type: "local", dest: spec, attrs: {} };
  const attrs: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) attrs[part.trim()] = "true";
    else attrs[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const type = attrs.type ?? "local";
  if (!["oci", "docker", "local", "image", "registry", "tar"].includes(type))
    throw new Error(
      `unsupported output type ${JSON.stringify(type)} (oci, docker, local, tar, image, registry)`,
    );
  return {
    type: type as OutputSpec["type"],
    dest: attrs.dest,
    tar: attrs.tar === undefined ? true : attrs.tar !== "false",
    name: attrs.name,
    push: attrs.push === "true" || type === "registry",
    attrs,
  };
}
