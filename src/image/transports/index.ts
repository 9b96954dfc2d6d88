// Every place an image can live, behind ImageSource / ImageTarget, and the transport-string parser.
import { DockyardError } from "../errors.js";
import { formatReference, parseReference, type ImageReference } from "../reference.js";
import { OciLayout } from "./oci-layout.js";
import { LocalStore } from "./store.js";
import { registryClient, type RegistryClientOptions } from "./registry.js";
import type { ImageSource, ImageTarget } from "./types.js";

export * from "./types.js";
export * from "./auth.js";
export * from "./registry.js";
export * from "./oci-layout.js";
export * from "./store.js";

export type TransportKind = "docker" | "oci" | "oci-archive" | "docker-archive" | "docker-daemon" | "store";

export interface TransportSpec {
  kind: TransportKind;
  /** Directory or file for layouts and archives. */
  path?: string;
  /** The image inside: tag/ref name for layouts, reference for registries/store/daemon/archives. */
  ref?: string;
  /** Parsed reference for docker:// , store and docker-daemon. */
  reference?: ImageReference;
}

const PREFIXES: [string, TransportKind][] = [
  ["docker://", "docker"],
  ["oci-archive:", "oci-archive"],
  ["oci:", "oci"],
  ["docker-archive:", "docker-archive"],
  ["docker-daemon:", "docker-daemon"],
  ["store:", "store"],
  ["dockyard:", "store"],
];

/**
 * Parses `docker://REF`, `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, `docker-archive:FILE[:REF]`,
 * `docker-daemon:REF`, `store:REF`; a bare reference uses `bare` (the local store for most
 * commands, a registry for `tags`), as docker does for push/pull.
 */
export function parseTransport(input: string, bare: "store" | "docker" = "store"): TransportSpec {
  for (const [prefix, kind] of PREFIXES) {
    if (!input.startsWith(prefix)) continue;
    const rest = input.slice(prefix.length);
    if (kind === "docker" || kind === "docker-daemon" || kind === "store") {
      if (!rest) throw new DockyardError("USAGE", `${prefix} needs an image reference`);
      const reference = parseReference(rest);
      return { kind, ref: kind === "docker" ? rest : formatReference(reference), reference };
    }
    // FILE[:REF] — the path ends at the first colon (as skopeo does).
    const i = rest.indexOf(":");
    const path = i >= 0 ? rest.slice(0, i) : rest;
    const ref = i >= 0 ? rest.slice(i + 1) : undefined;
    if (!path) throw new DockyardError("USAGE", `${prefix} needs a path (${prefix}PATH[:REF])`);
    const spec: TransportSpec = { kind, path };
    if (ref) spec.ref = ref;
    if (ref && kind === "docker-archive") spec.reference = parseReference(ref);
    return spec;
  }
  const reference = parseReference(input);
  return { kind: bare, ref: bare === "docker" ? input : formatReference(reference), reference };
}

export function formatTransport(spec: TransportSpec): string {
  switch (spec.kind) {
    case "docker":
      return `docker://${spec.reference ? formatReference(spec.reference) : spec.ref}`;
    case "store":
    case "docker-daemon":
      return `${spec.kind}:${spec.ref}`;
    default:
      return `${spec.kind}:${spec.path}${spec.ref ? `:${spec.ref}` : ""}`;
  }
}

export interface OpenOptions extends RegistryClientOptions {
  /** The local store to use (default `$DOCKYARD_HOME`). */
  store?: LocalStore;
  /** docker-daemon: a dockerode instance or its options (default from DOCKER_HOST). */
  docker?: unknown;
  /** Archive targets: the tags to record (`docker-archive` RepoTags); default the spec's ref. */
  tags?: string[];
  /** Archive targets: compress the written archive with gzip. */
  gzip?: boolean;
  /** Archive targets: write to this stream instead of the file (stdout). */
  stream?: NodeJS.WritableStream;
  /** Archive sources: read from this stream instead of the file (stdin). */
  input?: NodeJS.ReadableStream;
}

export interface OpenedSource {
  source: ImageSource;
  /** The ref to pass to `copy` / `resolve`. */
  ref: string | undefined;
}
export interface OpenedTarget {
  target: ImageTarget;
  ref: string | undefined;
}

/** A repository reference's tag-or-digest part (`latest` when neither). */
export function tagOrDigest(r: ImageReference): string {
  return r.digest ?? r.tag ?? "latest";
}

export async function openSource(spec: TransportSpec, opts: OpenOptions = {}): Promise<OpenedSource> {
  switch (spec.kind) {
    case "docker": {
      const r = spec.reference!;
      return { source: registryClient(r.registry, opts).repository(r.repository), ref: tagOrDigest(r) };
    }
    case "store":
      return { source: opts.store ?? new LocalStore(), ref: spec.ref };
    case "oci": {
      const layout = new OciLayout(spec.path!);
      if (!(await layout.exists()))
        throw new DockyardError("NOT_FOUND", `${spec.path} is not an OCI layout (no oci-layout file)`);
      return { source: layout, ref: spec.ref };
    }
    case "oci-archive":
    case "docker-archive": {
      const { openArchiveSource } = await import("./archive.js");
      return openArchiveSource(spec, opts);
    }
    case "docker-daemon": {
      const { openDaemonSource } = await import("./docker-daemon.js");
      return openDaemonSource(spec, opts);
    }
  }
}

export async function openTarget(spec: TransportSpec, opts: OpenOptions = {}): Promise<OpenedTarget> {
  switch (spec.kind) {
    case "docker": {
      const r = spec.reference!;
      if (r.digest && !r.tag)
        return {
          target: registryClient(r.registry, opts).repository(r.repository, { push: true }),
          ref: undefined,
        };
      return {
        target: registryClient(r.registry, opts).repository(r.repository, { push: true }),
        ref: r.tag ?? "latest",
      };
    }
    case "store":
      return {
        target: opts.store ?? new LocalStore(),
        ref: spec.reference?.digest && !spec.reference.tag ? undefined : spec.ref,
      };
    case "oci":
      return { target: new OciLayout(spec.path!), ref: spec.ref };
    case "oci-archive":
    case "docker-archive": {
      const { openArchiveTarget } = await import("./archive.js");
      return openArchiveTarget(spec, opts);
    }
    case "docker-daemon": {
      const { openDaemonTarget } = await import("./docker-daemon.js");
      return openDaemonTarget(spec, opts);
    }
  }
}
