import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { FlagSpec } from "../cli/args.js";
import type { CopyOptions } from "../image/copy.js";
import { digestOf, type Digest } from "../image/digest.js";
import { DockyardError, isDockyardError } from "../image/errors.js";
import type { TransportSpec } from "../image/transports/index.js";
import type { VerifiedImage } from "./verify.js";

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
 * Where the client trust policy is, if there is one: $DOCKYARD_POLICY, else
 * $XDG_CONFIG_HOME/dockyard/policy.yaml (~/.config/…) when it exists. Checked without loading the
 * signatures library, so a Notary-only `--verify` does not pay for it.
 */
export function clientPolicyPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DOCKYARD_POLICY) return env.DOCKYARD_POLICY;
  const def = join(env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "dockyard", "policy.yaml");
  return existsSync(def) ? def : undefined;
}

type VerifyHook = NonNullable<CopyOptions["verify"]>;

/** The first copy's manifest is not the one signed for the tag (the tag moved in the registry). */
class NotTheSignedManifest extends Error {}

function pinned(spec: TransportSpec, digest: string): TransportSpec {
  const ref = spec.reference!;
  return {
    ...spec,
    ref: `${ref.registry}/${ref.repository}@${digest}`,
    reference: { ...ref, tag: undefined, digest: digest as typeof ref.digest },
  };
}

function checkSigned(v: VerifiedImage, manifest: Uint8Array, descriptorDigest: string): boolean {
  return descriptorDigest === v.digest && digestOf(manifest) === v.digest && manifest.length === v.size;
}

/**
 * `pull --verify` / `copy --verify`: runs `copy(src, verify)` with content trust.
 *
 * Notary (no trust policy file): the TUF update for the tag starts at once and runs while the copy
 * resolves the tag and starts fetching; the copy's verify hook makes every commit wait for it (see
 * CopyOptions.verify) and refuses a manifest other than the signed one (digest and size). So
 * nothing reaches the destination unverified, and the update's round trips overlap the pull's.
 * When the registry's tag does not name the signed manifest (moved, or missing), the copy is
 * re-run pinned to the signed digest, as docker does: the signed content is what arrives.
 * With a trust policy file (signatures.verifyWithPolicy), or with DOCKYARD_TRUST_VERIFY_FIRST=1:
 * verified first, then copied by digest.
 */
export async function verifiedTransfer<T>(
  spec: TransportSpec,
  copy: (src: TransportSpec, verify?: VerifyHook) => Promise<T>,
  info?: (line: string) => void,
): Promise<T> {
  if (spec.kind !== "docker" || !spec.reference) {
    throw new DockyardError("USAGE", "--verify applies to registry (docker://) sources only");
  }
  // A trust policy file, or DOCKYARD_TRUST_VERIFY_FIRST=1 (no unverified byte fetched at all, not
  // even into temporary files): verify first, then copy the verified digest.
  if (clientPolicyPath() || process.env.DOCKYARD_TRUST_VERIFY_FIRST === "1")
    return copy(await verifiedSource(spec, info));
  const ref = spec.reference;
  if (!ref.tag) {
    if (ref.digest) return copy(spec); // by digest: content-addressed already
    throw new DockyardError("USAGE", "--verify needs a tag to look up in the trust data");
  }
  const pending = import("./verify.js").then((t) => t.verifyTag(ref));
  pending.catch(() => {}); // awaited below on every path; this only marks it handled
  const announce = (v: VerifiedImage) => info?.(`trust: ${v.reference} is signed (${v.role}): ${v.digest}`);
  let manifestSeen = false;
  try {
    return await copy(spec, async ({ descriptor, manifest }) => {
      manifestSeen = true;
      const v = await pending;
      if (!checkSigned(v, manifest, descriptor.digest)) throw new NotTheSignedManifest();
      announce(v);
    });
  } catch (err) {
    // A failed verification is the answer, whatever else went wrong meanwhile.
    const v = await pending;
    const moved = err instanceof NotTheSignedManifest;
    if (!moved && !(isDockyardError(err, "MANIFEST_UNKNOWN") && !manifestSeen)) throw err;
    announce(v);
    info?.(
      `trust: the registry's ${ref.tag} is ${moved ? "not the signed manifest" : "missing"}; copying the signed ${v.digest}`,
    );
    return copy(pinned(spec, v.digest), async ({ descriptor, manifest }) => {
      if (!checkSigned(v, manifest, descriptor.digest)) {
        const { TrustError } = await import("./tuf/errors.js");
        throw new TrustError(
          "integrity",
          `${v.reference}: the registry's manifest for ${v.digest} is ${digestOf(manifest)} (${manifest.length} bytes), not the signed one (${v.size} bytes): tampered`,
        );
      }
    });
  }
}

/**
 * For `pull --verify` / `copy --verify` before the copy (see verifiedTransfer): a docker:// source named by tag becomes the same
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
  const policyPath = clientPolicyPath();
  const sig = policyPath ? await import("./signatures/hooks.js") : undefined;
  const policy = policyPath ? await sig!.clientPolicy(policyPath) : undefined;
  if (sig && policy) {
    const digest = await sig.verifyWithPolicy(ref, policy, { ...(info ? { info } : {}) });
    return pinned(spec, digest);
  }
  if (!ref.tag) {
    if (ref.digest) return spec; // by digest: content-addressed already
    throw new DockyardError("USAGE", "--verify needs a tag to look up in the trust data");
  }
  const { verifyTag } = await import("./verify.js");
  const v = await verifyTag(ref);
  info?.(`trust: ${v.reference} is signed (${v.role}): ${v.digest}`);
  return pinned(spec, v.digest);
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
  await repo.initIfNeeded();
  return repo.addTarget(spec.reference.tag, {
    hashes: { sha256: Buffer.from(desc.digest.replace(/^sha256:/, ""), "hex").toString("base64") },
    length: desc.size,
  });
}
