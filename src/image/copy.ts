import { pipeline, Transform, type Readable } from "node:stream";
import { DockyardError, isDockyardError } from "./errors.js";
import { digestOf, VerifyingStream } from "./digest.js";
import { isImageManifestMediaType, isIndexMediaType, MediaType } from "./media-types.js";
import {
  isIndex,
  parseManifest,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from "./manifest.js";
import { formatPlatform, hostPlatform, platformMatches } from "./platform.js";
import type { BlobOrigin, ImageSource, ImageTarget } from "./transports/types.js";
import { QuietProgress, type Progress } from "../util/progress.js";
import { limiter } from "../util/limit.js";

/** What a verifier sees: the top manifest about to be copied. Throw (e.g. TRUST) to stop the copy. */
export interface VerifyRequest {
  source: ImageSource;
  ref: string | undefined;
  descriptor: Descriptor;
  manifest: Uint8Array;
}

export interface CopyOptions {
  /** Copy every platform of an index (the index digest is preserved). */
  allPlatforms?: boolean;
  /** The platform to pick from an index when not copying all (default: this machine's). */
  platform?: Platform;
  /** Index annotations for the copied image (a store or layout lists them with its entry). */
  annotations?: Record<string, string>;
  /** Blobs in flight at once (default 6). Sequential targets always get 1. */
  concurrency?: number;
  progress?: Progress;
  /** Attempts per blob on network errors (default 3). */
  retries?: number;
  /**
   * Hook for trust, called with the top manifest. While it runs, copy already fetches: blob bytes
   * stream into the target's temporary files. But nothing is committed before it resolves: each
   * blob's stream ends only then (so no blob becomes visible), nothing is mounted, no manifest is
   * written, and sequential targets (tar streams, the daemon) get no byte before it. A rejection
   * stops the copy with its error; the target removes its temporary files.
   */
  verify?: (req: VerifyRequest) => Promise<void>;
}

export interface CopyResult {
  /** Descriptor of what was written at the top (index or image manifest). */
  descriptor: Descriptor;
  /** Every image manifest copied (one, or one per platform). */
  manifests: Descriptor[];
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  bytesCopied: number;
}

/** Repositories tried per blob before uploading it (as docker: a failed mount costs a round trip). */
const MAX_MOUNT_ATTEMPTS = 3;

/** Wraps a source blob so it is verified on the way (for consumers that are not ImageTargets). */
export async function openVerifiedBlob(source: ImageSource, desc: Descriptor): Promise<Readable> {
  const raw = await source.openBlob(desc);
  const v = new VerifyingStream(desc.digest, desc.size);
  raw.on("error", (e) => v.destroy(e));
  return raw.pipe(v);
}

/** Reads a small blob (a config) whole, verified. Refuses anything over `max` bytes. */
export async function readBlob(source: ImageSource, desc: Descriptor, max = 64 << 20): Promise<Buffer> {
  if (desc.size > max)
    throw new DockyardError(
      "SIZE_INVALID",
      `blob ${desc.digest} is ${desc.size} bytes; at most ${max} expected`,
    );
  const s = await openVerifiedBlob(source, desc);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function shortId(d: string): string {
  return d.slice(d.indexOf(":") + 1, d.indexOf(":") + 13);
}

function isForeign(desc: Descriptor): boolean {
  return (
    (desc.mediaType === MediaType.dockerLayerForeignGzip || desc.mediaType.includes(".nondistributable.")) &&
    (desc.urls?.length ?? 0) > 0
  );
}

/**
 * Fetches a manifest and checks it is what the descriptor says (digest, size, parseable).
 */
export async function fetchCheckedManifest(
  source: ImageSource,
  desc: Descriptor,
): Promise<{ bytes: Uint8Array; manifest: ImageManifest | ImageIndex; mediaType: string }> {
  const bytes = await source.fetchManifest(desc);
  const actual = digestOf(bytes, desc.digest.startsWith("sha512:") ? "sha512" : "sha256");
  if (actual !== desc.digest)
    throw new DockyardError(
      "DIGEST_INVALID",
      `manifest from ${source.description} has digest ${actual}, expected ${desc.digest}`,
    );
  const { manifest, mediaType } = parseManifest(bytes, desc.mediaType);
  return { bytes, manifest, mediaType };
}

/** Picks the manifest for `wanted` from an index; the error lists what there is. */
export function selectPlatform(index: ImageIndex, wanted: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter(
    (d) => isImageManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType),
  );
  // Attestation manifests (BuildKit's unknown/unknown) never match a real platform.
  const found = candidates.find((d) => platformMatches(wanted, d.platform));
  if (found) return found;
  const available = candidates
    .map((d) => (d.platform ? formatPlatform(d.platform) : "(no platform)"))
    .filter((p) => p !== "unknown/unknown");
  throw new DockyardError(
    "MANIFEST_UNKNOWN",
    `${where} has no image for ${formatPlatform(wanted)} (it has: ${available.join(", ") || "none"}); ` +
      `pick one with --platform or copy all with --all-platforms`,
  );
}

/**
 * Copies one image (or index) from `source` to `target`: index → manifests → config + layers,
 * children before parents, blobs in parallel with a bound, skipping blobs the target has,
 * mounting across repositories when both sides are one registry. Manifest bytes are copied as
 * they are, so digests are preserved. Does not commit the target: see `withTarget`.
 */
export async function copy(
  source: ImageSource,
  sourceRef: string | undefined,
  target: ImageTarget,
  targetRef: string | undefined,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const progress = opts.progress ?? new QuietProgress();
  const limit = limiter(target.sequential ? 1 : Math.max(1, opts.concurrency ?? 6));
  const retries = Math.max(1, opts.retries ?? 3);
  const result: CopyResult = {
    descriptor: undefined as unknown as Descriptor,
    manifests: [],
    blobsCopied: 0,
    blobsSkipped: 0,
    blobsMounted: 0,
    bytesCopied: 0,
  };
  const inflight = new Map<string, Promise<void>>();
  /** Origin records being written (hints for later mounts); awaited before copy returns. */
  const originWrites: Promise<void>[] = [];
  /** The verify hook's verdict (see CopyOptions.verify): every commit waits for it. */
  let verified: Promise<void> | undefined;

  const targetOrigin = target.origin;
  const sameOrigin = (a: BlobOrigin, b: BlobOrigin) =>
    a.registry === b.registry && a.repository === b.repository;
  /** Where the blob is now, besides the source: the record is kept by the source, or the target. */
  const noteOrigins = (desc: Descriptor) => {
    const writes: Promise<void>[] = [];
    if (targetOrigin && source.recordBlobOrigins)
      writes.push(source.recordBlobOrigins([desc.digest], targetOrigin));
    if (source.origin && target.recordBlobOrigins)
      writes.push(target.recordBlobOrigins([desc.digest], source.origin));
    // Only hints: a failed write costs a mount later, never the copy.
    if (writes.length)
      originWrites.push(
        Promise.all(writes).then(
          () => {},
          () => {},
        ),
      );
  };

  /**
   * Mounts the blob from another repository of the target's registry when one is known to hold it
   * (the source's own repository, or one the source recorded). `known` tells whether the source
   * keeps such records (then a blob not recorded in the target repository is presumed absent).
   */
  const mountCandidates = async (
    desc: Descriptor,
  ): Promise<{ known: boolean; inTarget: boolean; from: BlobOrigin[] }> => {
    if (!targetOrigin || !target.mountBlob) return { known: false, inTarget: false, from: [] };
    const from: BlobOrigin[] = [];
    if (source.origin && source.origin.registry === targetOrigin.registry) from.push(source.origin);
    let known = false;
    let inTarget = false;
    if (source.blobOrigins) {
      const recorded = await source.blobOrigins(desc, targetOrigin.registry).catch(() => undefined);
      if (recorded) {
        known = true;
        for (const o of recorded) {
          if (o.registry !== targetOrigin.registry) continue;
          if (o.repository === targetOrigin.repository) inTarget = true;
          else if (!from.some((f) => sameOrigin(f, o))) from.push(o);
        }
      }
    }
    return {
      known,
      inTarget,
      from: from.filter((o) => !sameOrigin(o, targetOrigin)).slice(0, MAX_MOUNT_ATTEMPTS),
    };
  };

  /**
   * Copies one blob. Resolves when the blob is written — or, while the verify hook has not
   * resolved yet, as soon as its bytes have all arrived, with `commit` for the rest (the write
   * waits for the verdict): the concurrency slot is not held by a finished download.
   */
  const copyBlobOnce = async (desc: Descriptor, kind: string): Promise<{ commit: Promise<void> } | void> => {
    if (isForeign(desc)) return; // foreign layers stay where their urls say
    const label = `${kind} ${shortId(desc.digest)}`;
    const mount = await mountCandidates(desc);
    // The existence check is skipped when a mount will answer it (a mount of a blob the target
    // has succeeds) or when the source's record says the target repository does not have it.
    const check = mount.inTarget || (mount.from.length === 0 && !mount.known);
    if (check) {
      if (await target.hasBlob(desc)) {
        result.blobsSkipped++;
        progress.task(desc.digest, label, desc.size).finish("exists");
        noteOrigins(desc);
        return;
      }
      // recorded there, but gone (deleted, garbage-collected): drop the record
      if (mount.inTarget && targetOrigin && source.forgetBlobOrigin)
        originWrites.push(source.forgetBlobOrigin(desc.digest, targetOrigin).catch(() => {}));
    }
    if (mount.from.length > 0) await verified;
    for (const from of mount.from) {
      if (await target.mountBlob!(desc, from)) {
        result.blobsMounted++;
        progress.task(desc.digest, label, desc.size).finish(`mounted from ${from.repository}`);
        noteOrigins(desc);
        return;
      }
      // A recorded origin that no longer holds it: drop the record.
      if (!source.origin || !sameOrigin(from, source.origin))
        originWrites.push(source.forgetBlobOrigin?.(desc.digest, from).catch(() => {}) ?? Promise.resolve());
    }
    // Not mounted, not checked, and no record says it is absent (a registry source): check now.
    if (!check && !mount.known && (await target.hasBlob(desc))) {
      result.blobsSkipped++;
      progress.task(desc.digest, label, desc.size).finish("exists");
      return;
    }
    const task = progress.task(desc.digest, label, desc.size);
    for (let attempt = 1; ; attempt++) {
      let sent = 0;
      try {
        const raw = await source.openBlob(desc);
        // Count on the side (no extra stream hop in the data path).
        raw.on("data", (c: Buffer) => {
          sent += c.length;
          task.advance(c.length);
        });
        raw.pause();
        const write = target.writeBlob(desc, verified ? gated(raw, verified) : raw).then(() => {
          result.blobsCopied++;
          result.bytesCopied += sent;
          task.finish("done");
          noteOrigins(desc);
        });
        if (!verified) {
          await write;
          return;
        }
        // A local target with all bytes in can no longer fail retryably: the slot goes. A registry
        // target still waits for its PUT's answer, which may be a network error worth a retry.
        const downloaded = new Promise<"downloaded">((r) => raw.once("end", () => r("downloaded")));
        if (!target.origin && (await Promise.race([write, downloaded])) === "downloaded") {
          const commit = write.catch((err: unknown) => {
            task.fail((err as Error).message);
            throw err;
          });
          commit.catch(() => {}); // the caller awaits `commit`; this only marks it handled
          return { commit };
        }
        await write;
        return;
      } catch (err) {
        const retryable = isDockyardError(err, "NETWORK") && !target.sequential;
        if (!retryable || attempt >= retries) {
          task.fail((err as Error).message);
          throw err;
        }
        task.advance(-sent);
        await new Promise((r) => setTimeout(r, 300 * 2 ** (attempt - 1)));
      }
    }
  };

  const copyBlob = (desc: Descriptor, kind = "blob"): Promise<void> => {
    let p = inflight.get(desc.digest);
    if (!p) {
      p = limit(() => copyBlobOnce(desc, kind)).then((r) => r?.commit);
      inflight.set(desc.digest, p);
    }
    return p;
  };

  const copyImage = async (
    desc: Descriptor,
    bytes: Uint8Array,
    m: ImageManifest,
    mediaType: string,
    ref: string | undefined,
    top: boolean,
  ): Promise<Descriptor> => {
    // Config first, then layers (sequential targets like tar streams keep that order).
    const blobs = [m.config, ...m.layers];
    if (target.sequential) {
      for (const [i, b] of blobs.entries()) await copyBlob(b, i === 0 ? "config" : "layer");
    } else {
      await Promise.all(blobs.map((b, i) => copyBlob(b, i === 0 ? "config" : "layer")));
    }
    await verified;
    const written = await target.writeManifest(ref, bytes, mediaType, {
      top,
      ...(top && opts.annotations ? { annotations: opts.annotations } : {}),
    });
    if (written.digest !== desc.digest)
      throw new DockyardError(
        "INTERNAL",
        `${target.description} stored the manifest as ${written.digest}, expected ${desc.digest}`,
      );
    const out = { ...desc, mediaType };
    result.manifests.push(out);
    return out;
  };

  const copyIndex = async (
    bytes: Uint8Array,
    index: ImageIndex,
    mediaType: string,
    ref: string | undefined,
    top: boolean,
  ): Promise<Descriptor> => {
    // Children in parallel (their blobs share the limiter), then the index itself.
    await Promise.all(
      index.manifests.map(async (child) => {
        if (!isImageManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) {
          await copyBlob(child);
          return;
        }
        const c = await fetchCheckedManifest(source, child);
        if (isIndex(c.manifest)) await copyIndex(c.bytes, c.manifest, c.mediaType, undefined, false);
        else await copyImage(child, c.bytes, c.manifest, c.mediaType, undefined, false);
      }),
    );
    await verified;
    return target.writeManifest(ref, bytes, mediaType, {
      top,
      ...(top && opts.annotations ? { annotations: opts.annotations } : {}),
    });
  };

  {
    let desc = await source.resolve(sourceRef);
    let top = await fetchCheckedManifest(source, desc);
    if (opts.verify) {
      verified = opts.verify({ source, ref: sourceRef, descriptor: desc, manifest: top.bytes });
      verified.catch(() => {}); // awaited before every commit; this only marks it handled
      if (target.sequential) await verified;
    }
    const wanted = opts.platform ?? hostPlatform();
    while (isIndex(top.manifest) && (!opts.allPlatforms || target.acceptsIndex === false)) {
      if (opts.allPlatforms)
        throw new DockyardError(
          "UNSUPPORTED",
          `${target.description} holds single-platform images only; pick one with --platform`,
        );
      desc = selectPlatform(top.manifest, wanted, `${source.description}${sourceRef ? `:${sourceRef}` : ""}`);
      top = await fetchCheckedManifest(source, desc);
    }
    if (isIndex(top.manifest)) {
      result.descriptor = { ...(await copyIndex(top.bytes, top.manifest, top.mediaType, targetRef, true)) };
      if (result.descriptor.digest !== desc.digest)
        throw new DockyardError("INTERNAL", `index digest changed in ${target.description}`);
    } else {
      result.descriptor = await copyImage(desc, top.bytes, top.manifest, top.mediaType, targetRef, true);
    }
    await Promise.all(originWrites);
    return result;
  }
}

/**
 * `raw` passed through, but its end held until `until` resolves: a target consuming it cannot
 * commit the blob before then. When `until` rejects, the stream fails at once with that error.
 */
function gated(raw: Readable, until: Promise<void>): Readable {
  const gate = new Transform({
    transform: (chunk, _enc, cb) => cb(null, chunk),
    flush: (cb) => void until.then(() => cb(), cb),
  });
  until.catch((err: Error) => gate.destroy(err));
  pipeline(raw, gate, () => {}); // an error on either side destroys the other
  return gate;
}

/**
 * Runs `fn` (one or more copies into `target`), then commits the target; on failure aborts it
 * so no half-written output remains. Archive and daemon targets need this; others have no-ops.
 */
/** Runs `fn` on an opened source and closes it after (a spooled archive's temp copy goes with it). */
export async function withSource<T>(source: ImageSource, fn: (s: ImageSource) => Promise<T>): Promise<T> {
  try {
    return await fn(source);
  } finally {
    await source.close?.();
  }
}

export async function withTarget<T>(target: ImageTarget, fn: (t: ImageTarget) => Promise<T>): Promise<T> {
  try {
    const r = await fn(target);
    await target.commit?.();
    return r;
  } catch (err) {
    await target.abort?.().catch(() => {});
    throw err;
  }
}
