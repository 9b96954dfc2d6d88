import { DockyardError, isDockyardError } from "../image/errors.js";
import { digestOf } from "../image/digest.js";
import type { Digest } from "../image/digest.js";
import type { ImageReference } from "../image/reference.js";
import { TrustError } from "./tuf/errors.js";

/**
 * What trust needs from a registry: a tag (or digest) → the manifest's exact bytes, digest and
 * size. Goes through the move room's registry client (docker config credentials, token auth,
 * HTTP for loopback/insecure registries), with a client of its own that is closed afterwards.
 */
export interface ResolvedManifest {
  digest: string;
  size: number;
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryAccess {
  /** Allow plain HTTP / unverified TLS (loopback registries always are). */
  insecure?: boolean;
  /** "user:password"; default DOCKYARD_REGISTRY_AUTH, then docker's config.json. */
  auth?: string;
}

export async function fetchManifest(
  ref: ImageReference,
  reference: string,
  access: RegistryAccess = {},
): Promise<ResolvedManifest> {
  const { RegistryClient, RegistryRepository } = await import("../image/transports/registry.js");
  const auth = access.auth ?? process.env.DOCKYARD_REGISTRY_AUTH;
  const i = auth ? auth.indexOf(":") : -1;
  const client = new RegistryClient(ref.registry, {
    insecure: access.insecure,
    credentials: auth && i > 0 ? { username: auth.slice(0, i), password: auth.slice(i + 1) } : undefined,
  });
  try {
    const repo = new RegistryRepository(client, ref.repository, false);
    const desc = reference.includes(":")
      ? { digest: reference as Digest, mediaType: "", size: 0 }
      : await repo.resolve(reference);
    let bytes: Uint8Array;
    try {
      bytes = await repo.fetchManifest(desc);
    } catch (e) {
      if (isDockyardError(e, "DIGEST_INVALID")) {
        throw new TrustError(
          "integrity",
          `the registry's manifest for ${ref.registry}/${ref.repository}@${desc.digest} does not hash to that digest: tampered (${e.message})`,
        );
      }
      throw e;
    }
    const buf = Buffer.from(bytes);
    let mediaType = desc.mediaType;
    if (!mediaType) {
      try {
        mediaType = (JSON.parse(buf.toString("utf8")) as { mediaType?: string }).mediaType ?? "";
      } catch {
        throw new DockyardError("MANIFEST_INVALID", `${ref.repository}@${desc.digest} is not JSON`);
      }
    }
    return { digest: digestOf(buf), size: buf.length, mediaType, bytes: buf };
  } finally {
    client.close();
  }
}
