import { DockyardError } from "./errors.js";
import { parseDigest, type Digest } from "./digest.js";
import { MediaType, isImageManifestMediaType, isIndexMediaType } from "./media-types.js";

export interface Platform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

export function isIndex(m: Manifest): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}

/** The OCI/Docker image configuration (the config blob of an image manifest). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
  Shell?: string[];
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
  [extra: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

function invalid(message: string): never {
  throw new DockyardError("MANIFEST_INVALID", message);
}

function checkDescriptor(d: unknown, where: string): Descriptor {
  if (typeof d !== "object" || d === null || Array.isArray(d))
    invalid(`${where}: descriptor must be an object`);
  const desc = d as Record<string, unknown>;
  if (typeof desc.mediaType !== "string" || desc.mediaType === "")
    invalid(`${where}: mediaType must be a non-empty string`);
  if (typeof desc.digest !== "string") invalid(`${where}: digest must be a string`);
  try {
    parseDigest(desc.digest);
  } catch (err) {
    invalid(`${where}: ${(err as Error).message}`);
  }
  if (typeof desc.size !== "number" || !Number.isSafeInteger(desc.size) || desc.size < 0) {
    invalid(`${where}: size must be a non-negative integer`);
  }
  if (desc.annotations !== undefined) checkAnnotations(desc.annotations, where);
  return desc as unknown as Descriptor;
}

function checkAnnotations(a: unknown, where: string): void {
  if (typeof a !== "object" || a === null || Array.isArray(a))
    invalid(`${where}: annotations must be an object`);
  for (const [k, v] of Object.entries(a))
    if (typeof v !== "string") invalid(`${where}: annotation ${k} must be a string`);
}

/**
 * Parses manifest bytes and validates their structure. `declaredMediaType` is what the
 * uploader said (Content-Type); when the body has its own `mediaType` they must agree.
 * Returns the parsed manifest and its effective media type.
 */
export function parseManifest(
  bytes: Uint8Array,
  declaredMediaType?: string,
): { manifest: Manifest; mediaType: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    invalid(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    invalid("manifest must be a JSON object");
  const m = doc as Record<string, unknown>;
  if (m.schemaVersion !== 2)
    invalid(`unsupported schemaVersion ${JSON.stringify(m.schemaVersion)} (only 2 is)`);
  const bodyType = typeof m.mediaType === "string" ? m.mediaType : undefined;
  if (m.mediaType !== undefined && bodyType === undefined) invalid("mediaType must be a string");
  const declared = declaredMediaType?.split(";")[0]?.trim();
  const declaredUseful =
    declared && declared !== "application/json" && declared !== "application/octet-stream"
      ? declared
      : undefined;
  if (bodyType && declaredUseful && bodyType !== declaredUseful) {
    invalid(`manifest mediaType ${bodyType} does not match Content-Type ${declaredUseful}`);
  }
  let mediaType = bodyType ?? declaredUseful;
  if (!mediaType) mediaType = Array.isArray(m.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(m.manifests)) invalid("index: manifests must be an array");
    if (m.config !== undefined || m.layers !== undefined) invalid("index must not have config or layers");
    m.manifests.forEach((d, i) => checkDescriptor(d, `manifests[${i}]`));
  } else if (isImageManifestMediaType(mediaType)) {
    if (m.manifests !== undefined) invalid("image manifest must not have manifests");
    checkDescriptor(m.config, "config");
    if (!Array.isArray(m.layers)) invalid("layers must be an array");
    m.layers.forEach((d, i) => checkDescriptor(d, `layers[${i}]`));
    if (mediaType === MediaType.dockerManifest && m.subject !== undefined)
      invalid("Docker schema2 manifests cannot carry a subject");
  } else {
    throw new DockyardError("MANIFEST_INVALID", `unsupported manifest media type ${mediaType}`);
  }
  if (m.subject !== undefined) checkDescriptor(m.subject, "subject");
  if (m.annotations !== undefined) checkAnnotations(m.annotations, "manifest");
  if (m.artifactType !== undefined && typeof m.artifactType !== "string")
    invalid("artifactType must be a string");
  return { manifest: m as unknown as Manifest, mediaType };
}

/** Every descriptor a manifest points at (children of an index; config + layers of an image). */
export function referencedDescriptors(m: Manifest): Descriptor[] {
  return isIndex(m) ? [...m.manifests] : [m.config, ...m.layers];
}

/** Canonical bytes for a manifest we write ourselves (stable key order as given, 3-space indent like docker). */
export function serializeManifest(m: Manifest | ImageConfig): Uint8Array {
  return Buffer.from(JSON.stringify(m, null, 3));
}
