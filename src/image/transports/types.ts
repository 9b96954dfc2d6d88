import type { Readable } from "node:stream";
import type { Descriptor } from "../manifest.js";

/** Where a blob came from, so a registry target can mount it instead of copying bytes. */
export interface BlobOrigin {
  /** Registry host as in references (`localhost:5000`, `docker.io`). */
  registry: string;
  repository: string;
}

/**
 * Somewhere images can be read from. `ref` is the transport's own name for an image (a tag or
 * digest for a registry repository, a `ref.name` for an OCI layout, a full reference for the
 * store and archives); undefined means "the only / default image there".
 */
export interface ImageSource {
  /** Human name for messages, e.g. `docker://localhost:5000/app`. */
  readonly description: string;
  /** Tag or digest → the manifest (or index) descriptor. Throws MANIFEST_UNKNOWN when absent. */
  resolve(ref?: string): Promise<Descriptor>;
  /** The manifest bytes, exactly as stored (digest verified). */
  fetchManifest(desc: Descriptor): Promise<Uint8Array>;
  /**
   * The blob's bytes. Sources do not necessarily verify: consumers that do not write into an
   * ImageTarget (which verifies) wrap it with `VerifyingStream` (see `openVerifiedBlob`).
   */
  openBlob(desc: Descriptor): Promise<Readable>;
  /** When the source is a registry repository: lets copy ask the target to mount. */
  readonly origin?: BlobOrigin;
  /**
   * Where else the blob is known (or likely) to be: repositories of `registry` it was pulled
   * from or pushed to, most recent first (the local store keeps this record). Defined only by
   * sources that keep such a record; then a blob not recorded in the target repository is
   * presumed absent there (no existence check, as docker does), and the candidates are mounted.
   */
  blobOrigins?(desc: Descriptor, registry: string): Promise<BlobOrigin[]>;
  /** Records that these blobs are now in `origin` (after a push from this source). */
  recordBlobOrigins?(digests: string[], origin: BlobOrigin): Promise<void>;
  /** Drops a record `blobOrigins` gave that turned out wrong (the registry would not mount it). */
  forgetBlobOrigin?(digest: string, origin: BlobOrigin): Promise<void>;
  /** Releases temp files and connections. */
  close?(): Promise<void>;
}

/** Somewhere images can be written to. */
export interface ImageTarget {
  readonly description: string;
  /** Lets copy skip what is there. */
  hasBlob(desc: Descriptor): Promise<boolean>;
  /** Writes a blob; verifies digest and size before it becomes visible. */
  writeBlob(desc: Descriptor, data: Readable): Promise<void>;
  /**
   * Writes manifest bytes as given (digests preserved); tags them with `ref` when given.
   * `opts.top` marks the manifest copy started from (an index's children are not top): layouts
   * list a top manifest in their index even without a ref; archives record it as an image.
   */
  writeManifest(
    ref: string | undefined,
    bytes: Uint8Array,
    mediaType: string,
    opts?: WriteManifestOptions,
  ): Promise<Descriptor>;
  /** Mounts a blob from another repository of the same registry; false when it could not. */
  mountBlob?(desc: Descriptor, from: BlobOrigin): Promise<boolean>;
  /** The registry this target lives in (mounting only works within one registry). */
  readonly origin?: BlobOrigin;
  /** Records where these blobs came from (after a pull from a registry into this target). */
  recordBlobOrigins?(digests: string[], origin: BlobOrigin): Promise<void>;
  /** False for targets that hold single-platform images only (docker archives, the daemon). */
  readonly acceptsIndex?: boolean;
  /** Writes must come one at a time (tar streams). */
  readonly sequential?: boolean;
  /** Finishes the target (writes archive trailers, renames into place). Only after success. */
  commit?(): Promise<void>;
  /** Discards everything written (removes temp files). After a failure. */
  abort?(): Promise<void>;
}

export interface WriteManifestOptions {
  top?: boolean;
  /** Annotations for the index entry of a top manifest (local store, OCI layouts). */
  annotations?: Record<string, string>;
}
