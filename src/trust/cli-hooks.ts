import type { FlagSpec } from "../cli/args.js";
import { DockyardError } from "../image/errors.js";
import type { TransportSpec } from "../image/transports/index.js";
import type { Digest } from "../image/digest.js";

/**
 * The small seams by which the move room's push/pull/copy commands use content trust. Kept
 * import-light: the trust library loads only when a flag asks for it.
 */
export const VERIFY_FLAG: FlagSpec = {
  name: "verify",
  type: "boolean",
  description:
    "verify the source's signatures by the trust policy ($DOCKYARD_POLICY, ~/.config/dockyard/policy.yaml), else its Notary signature; copy the verified digest",
  env: "DOCKYARD_CONTENT_TRUST",
};

export const SIGN_FLAG: FlagSpec = {
  name: "sign",
  type: "boolean",
  description:
    "sign the pushed tag: with $DOCKYARD_SIGNING_KEY (gpg/cosign key) when set, else Notary ($DOCKYARD_TRUST_SERVER)",
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
  // A trust policy file (--policy/$DOCKYARD_POLICY/~/.config/dockyard/policy.yaml) decides which
  // kinds (notary, gpg, sigstore) this repository needs; without one, --verify means Notary.
  const sig = await import("./signatures/hooks.js");
  const policy = await sig.clientPolicy();
  if (policy) {
    const digest = await sig.verifyWithPolicy(ref, policy, { ...(info ? { info } : {}) });
    return {
      ...spec,
      ref: `${ref.registry}/${ref.repository}@${digest}`,
      reference: { ...ref, tag: undefined, digest: digest as typeof ref.digest },
    };
  }
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
  // $DOCKYARD_SIGNING_KEY (an OpenPGP secret key or a cosign key) signs gpg/sigstore instead of Notary.
  const sig = await import("./signatures/hooks.js");
  const keyFile = sig.configuredSigningKey();
  if (keyFile) return sig.signPushedWithKey(spec.reference, desc.digest as Digest, keyFile);
  const { openRepository } = await import("./index.js");
  const repo = openRepository(spec.reference);
  if (!(await repo.initialized())) await repo.init();
  return repo.addTarget(spec.reference.tag, {
    hashes: { sha256: Buffer.from(desc.digest.replace(/^sha256:/, ""), "hex").toString("base64") },
    length: desc.size,
  });
}
