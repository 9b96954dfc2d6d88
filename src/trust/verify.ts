import { DockyardError } from "../image/errors.js";
import { parseReference, type ImageReference } from "../image/reference.js";
import { trustDirs, type PassphraseSource, type TrustDirs } from "./keys/store.js";
import type { RegistryAccess } from "./registry-resolve.js";
import { withTrustLock } from "./lock.js";
import { FileTufCache, NotaryRemote, type TrustServerOptions } from "./remote.js";
import { TrustError } from "./tuf/errors.js";
import { TufClient, lookupTarget } from "./tuf/client.js";

/*
 * The consumer's side of content trust (what `pull --verify` needs), apart from the publisher's
 * (repository.ts: keys, signing, certificates), so a verified pull loads only the TUF client.
 */

/** Settings every trust operation needs; layered defaults < env < explicit. */
export interface TrustSettings {
  server?: string;
  caFile?: string;
  insecure?: boolean;
  auth?: string;
  dirs?: Partial<TrustDirs>;
  prompt?: PassphraseSource;
  registry?: RegistryAccess;
}

/** The GUN Notary/Docker use for an image: `registry/repository`. */
export function gunOf(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The trust server for a registry: DOCKYARD_TRUST_SERVER (or DOCKER_CONTENT_TRUST_SERVER), else
 * https://<registry host>:4443 (Notary's usual port, and where `registry serve --trust-listen` listens).
 */
export function trustServerFor(ref: ImageReference, s: TrustSettings = {}): TrustServerOptions {
  const url =
    s.server ??
    process.env.DOCKYARD_TRUST_SERVER ??
    process.env.DOCKER_CONTENT_TRUST_SERVER ??
    `https://${ref.registry.replace(/:\d+$/, "")}:4443`;
  return {
    url,
    caFile: s.caFile ?? process.env.DOCKYARD_TRUST_CA,
    insecure: s.insecure ?? process.env.DOCKYARD_TRUST_INSECURE === "1",
    auth: s.auth ?? process.env.DOCKYARD_TRUST_AUTH,
  };
}

export interface VerifiedImage {
  reference: string;
  tag: string;
  digest: string;
  size: number;
  role: string;
  signers: string[];
}

/**
 * The verifier seam for pull/copy: runs the TUF update for the image's repository and returns
 * the digest and size signed for its tag, or throws TrustError. Callers then fetch the manifest
 * *by that digest* (never by tag), so a tag moved in the registry cannot substitute content.
 */
export async function verifyTag(
  refStr: string | ImageReference,
  s: TrustSettings = {},
): Promise<VerifiedImage> {
  const ref = typeof refStr === "string" ? parseReference(refStr, { defaultTag: true }) : refStr;
  if (!ref.tag) throw new DockyardError("USAGE", "content trust verifies tags: give REPO:TAG");
  const gun = gunOf(ref);
  // The TUF update as TrustRepository.update runs it, with the same cache (<trust dir>/tuf/<gun>).
  const base = trustDirs(process.env, s.dirs).base;
  const cache = new FileTufCache(base, gun);
  const client = new TufClient(gun, new NotaryRemote(gun, trustServerFor(ref, s)), cache);
  const trusted = await withTrustLock(base, () => client.update(), { leaf: true });
  const t = lookupTarget(trusted, ref.tag);
  if (!t)
    throw new TrustError(
      "signature",
      `no signed tag ${ref.tag} in ${gun}: the tag is not signed (does not have trust data for this tag)`,
    );
  const sha = t.meta.hashes.sha256;
  if (!sha) throw new TrustError("format", `the signed target ${ref.tag} has no sha256 hash`);
  return {
    reference: `${gun}:${ref.tag}`,
    tag: ref.tag,
    digest: `sha256:${Buffer.from(sha, "base64").toString("hex")}`,
    size: t.meta.length,
    role: t.role,
    signers: t.signers,
  };
}
