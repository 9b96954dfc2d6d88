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
