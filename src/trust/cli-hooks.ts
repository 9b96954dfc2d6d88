import type { FlagSpec } from "../cli/args.js";
import { DockyardError } from "../image/errors.js";
import type { TransportSpec } from "../image/transports/index.js";

/**
 * The small seams by which the move room's push/pull/copy commands use content trust. Kept
 * import-light: the trust library loads only when a flag asks for it.
 */
export const VERIFY_FLAG: FlagSpec = {
  name: "verify",
  type: "boolean",
  description:
    "content trust: verify the tag's Notary signature and copy the signed digest (--no-verify to skip)",
  env: "DOCKYARD_CONTENT_TRUST",
};

export const SIGN_FLAG: FlagSpec = {
  name: "sign",
  type: "boolean",
  description: "content trust: sign the pushed tag with Notary (trust server: $DOCKYARD_TRUST_SERVER)",
  env: "DOCKYARD_CONTENT_TRUST",
};

/**
 * For `pull --verify` / `copy --verify`: a docker:// source named by tag becomes the same
 * repository at the digest signed for that tag (TUF-verified). A tag moved in the registry
 * therefore still yields the signed content, and copy checks the manifest against the digest.
 */
export async function verifiedSource(
  spec: TransportSpec,
  info?: (line: string) => void,
): Promise<TransportSpec> {
  if (spec.kind !== "docker" || !spec.reference) {
    throw new DockyardError("USAGE", "--verify applies to registry (docker://) sources only");
  }
  const ref = spec.reference;
  if (!ref.tag) {
    if (ref.digest) return spec; // by digest: content-addressed already
    throw new DockyardError("USAGE", "--verify needs a tag to look up in the trust data");
  }
  const { verifyTag } = await import("./index.js");
  const v = await verifyTag(ref);
  info?.(`trust: ${v.reference} is signed (${v.role}): ${v.digest}`);
  return {
    ...spec,
    ref: `${ref.registry}/${ref.repository}@${v.digest}`,
    reference: { ...ref, tag: undefined, digest: v.digest as typeof ref.digest },
  };
}

/** For `push --sign`: signs the destination's tag with the pushed manifest's digest and size. */
export async function signPushed(
  spec: TransportSpec,
  desc: { digest: string; size: number },
): Promise<string[]> {
  if (spec.kind !== "docker" || !spec.reference?.tag) {
    throw new DockyardError("USAGE", "--sign applies to a registry destination with a tag");
  }
  const { openRepository } = await import("./index.js");
  const repo = openRepository(spec.reference);
  if (!(await repo.initialized())) await repo.init();
  return repo.addTarget(spec.reference.tag, {
    hashes: { sha256: Buffer.from(desc.digest.replace(/^sha256:/, ""), "hex").toString("base64") },
    length: desc.size,
  });
}
