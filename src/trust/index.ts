import { parseReference, type ImageReference } from "../image/reference.js";
import { KeyStore, envPassphrases, trustDirs } from "./keys/store.js";
import { fetchManifest } from "./registry-resolve.js";
import { TrustRepository } from "./repository.js";
import { TrustError } from "./tuf/errors.js";
import { gunOf, trustServerFor, verifyTag, type TrustSettings, type VerifiedImage } from "./verify.js";

export { gunOf, trustServerFor, verifyTag, type TrustSettings, type VerifiedImage } from "./verify.js";

export { TrustRepository, tufKeyFromPem } from "./repository.js";
export {
  TufClient,
  lookupTarget,
  allTargets,
  type TrustedRepository,
  type SignedTarget,
} from "./tuf/client.js";
export { TrustError, type Guarantee } from "./tuf/errors.js";
export { KeyStore, trustDirs, envPassphrases } from "./keys/store.js";
export { NotaryRemote, FileTufCache, MemoryTufCache, type TrustServerOptions } from "./remote.js";

export function openRepository(refOrRepo: string | ImageReference, s: TrustSettings = {}): TrustRepository {
  const ref = typeof refOrRepo === "string" ? parseReference(refOrRepo) : refOrRepo;
  const keys = new KeyStore(trustDirs(process.env, s.dirs), envPassphrases(s.prompt));
  return new TrustRepository({ gun: gunOf(ref), server: trustServerFor(ref, s), keys });
}

/**
 * Verifies a tag end to end: the signed digest from trust data, then the registry's manifest
 * fetched by that digest must hash to it and have the signed size (a tampered manifest fails).
 */
export async function verifyImage(
  refStr: string,
  s: TrustSettings = {},
): Promise<VerifiedImage & { registryTagDigest?: string }> {
  const ref = parseReference(refStr, { defaultTag: true });
  const v = await verifyTag(ref, s);
  const m = await fetchManifest(ref, v.digest, s.registry);
  if (m.digest !== v.digest || m.size !== v.size) {
    throw new TrustError(
      "integrity",
      `the registry's manifest for ${v.digest} hashes to ${m.digest} (${m.size} bytes), not the signed ${v.digest} (${v.size} bytes): tampered`,
    );
  }
  let registryTagDigest: string | undefined;
  try {
    registryTagDigest = (await fetchManifest(ref, ref.tag!, s.registry)).digest;
  } catch {
    registryTagDigest = undefined;
  }
  return { ...v, registryTagDigest };
}

/**
 * A verifier for the copy seam (`CopyOptions.verify`): the manifest about to be copied must be
 * the one signed for `refStr`'s tag. Pull/copy commands should prefer copying `signedReference`
 * (by digest), so a moved tag still yields the signed content, as docker does.
 */
export function contentTrustVerifier(refStr: string, s: TrustSettings = {}) {
  let signed: Promise<VerifiedImage> | undefined;
  return async (req: {
    descriptor: { digest: string; size: number };
    manifest: Uint8Array;
  }): Promise<void> => {
    const v = await (signed ??= verifyTag(refStr, s));
    const { createHash } = await import("node:crypto");
    const actual = `sha256:${createHash("sha256").update(req.manifest).digest("hex")}`;
    if (actual !== v.digest || req.manifest.length !== v.size) {
      throw new TrustError(
        "integrity",
        `${refStr}: the manifest about to be copied is ${actual} (${req.manifest.length} bytes), but the signed one is ${v.digest} (${v.size} bytes)`,
      );
    }
  };
}

/** `registry/repo@sha256:…` for the digest signed under REF's tag (verified trust data). */
export async function signedReference(refStr: string, s: TrustSettings = {}): Promise<string> {
  const ref = parseReference(refStr, { defaultTag: true });
  const v = await verifyTag(ref, s);
  return `${ref.registry}/${ref.repository}@${v.digest}`;
}

/** Content trust on by default: DOCKYARD_CONTENT_TRUST=1 (or DOCKER_CONTENT_TRUST=1). */
export function contentTrustDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) =>
    v !== undefined && !["", "0", "false", "no"].includes(v.toLowerCase());
  return on(env.DOCKYARD_CONTENT_TRUST) || on(env.DOCKER_CONTENT_TRUST);
}

/** Signs REF's current registry digest under its tag (after a push). */
export async function signImage(
  refStr: string,
  s: TrustSettings = {},
): Promise<{ digest: string; size: number; roles: string[]; initialized: boolean }> {
  const ref = parseReference(refStr, { defaultTag: true });
  // REPO:TAG@DIGEST signs that digest under TAG (fetched by digest: needed where the registry's
  // trust.require policy refuses GETs of unsigned tags); REPO:TAG signs what the tag points at.
  const m = await fetchManifest(ref, ref.digest ?? ref.tag!, s.registry);
  if (ref.digest && m.digest !== ref.digest)
    throw new TrustError("integrity", `the registry's manifest ${ref.digest} hashes to ${m.digest}`);
  const repo = openRepository(ref, s);
  const initialized = await repo.initIfNeeded();
  const roles = await repo.addTarget(ref.tag!, {
    hashes: { sha256: Buffer.from(m.digest.slice(7), "hex").toString("base64") },
    length: m.size,
  });
  return { digest: m.digest, size: m.size, roles, initialized };
}
