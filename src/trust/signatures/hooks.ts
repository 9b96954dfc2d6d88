import { DockyardError } from "../../image/errors.js";
import type { Digest } from "../../image/digest.js";
import { formatReference, type ImageReference } from "../../image/reference.js";
import {
  carrySignatures,
  clientPolicy,
  signImage,
  verifyImageSignatures,
  type CarryResult,
} from "./operations.js";
import type { PolicyDocument } from "../policy-file.js";

/**
 * The seams push/pull/copy use (through src/trust/cli-hooks.ts and src/cli/commands/image.ts):
 * policy-verified sources, signing with the configured key, carrying signatures on copy.
 */

/** The configured signing key for `push --sign` / `build --push --sign`: $DOCKYARD_SIGNING_KEY. */
export function configuredSigningKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.DOCKYARD_SIGNING_KEY || undefined;
}

/** Signs a just-pushed tag with the configured gpg/sigstore key (tag and digest named, no re-resolve). */
export async function signPushedWithKey(
  ref: ImageReference,
  digest: Digest,
  keyFile: string,
  opts: { insecure?: boolean } = {},
): Promise<string[]> {
  const r = await signImage({ ...ref, digest }, { keyFile, ...(opts.insecure ? { insecure: true } : {}) });
  return [`${r.kind} key ${r.signer}`];
}

/**
 * Verifies `ref` against the client policy; returns the verified digest (the source to copy is
 * pinned to it, so a tag moved after the check cannot slip through).
 */
export async function verifyWithPolicy(
  ref: ImageReference,
  policy: PolicyDocument,
  opts: { insecure?: boolean; info?: (line: string) => void } = {},
): Promise<Digest> {
  let notary: Parameters<typeof verifyImageSignatures>[1]["notary"];
  if (policy.rules.some((r) => r.signedBy.some((s) => s.kind === "notary"))) {
    const t = await import("../index.js");
    notary = (image, digest) => async () => {
      try {
        const v = await t.verifyTag(image);
        return v.digest === digest
          ? { ok: true, detail: `Notary-signed in ${v.role}` }
          : { ok: false, detail: `the Notary-signed digest is ${v.digest}, the registry serves ${digest}` };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    };
  }
  const v = await verifyImageSignatures(ref, {
    policy,
    ...(notary ? { notary } : {}),
    ...(opts.insecure ? { insecure: true } : {}),
  });
  opts.info?.(
    `trust: ${formatReference(ref)} satisfies ${policy.source ?? "the trust policy"}: ${v.digest} (${v.details.join("; ")})`,
  );
  return v.digest;
}

export { clientPolicy };

/** After a registry → registry copy: every signature of the copied manifests goes along. */
export async function carryAfterCopy(
  src: ImageReference,
  dst: ImageReference,
  digests: Digest[],
  opts: { insecure?: boolean; info?: (line: string) => void } = {},
): Promise<CarryResult> {
  if (!src.registry || !dst.registry)
    throw new DockyardError("USAGE", "signatures are carried between registries only");
  const r = await carrySignatures(src, dst, digests, opts.insecure ? { insecure: true } : {});
  if (r.gpg || r.cosignManifests) {
    opts.info?.(
      `signatures: carried ${r.gpg} GPG signature(s) and ${r.cosignManifests} cosign signature manifest(s)`,
    );
  }
  return r;
}

/**
 * FROM / COPY --from=image pulled from a registry: when a client policy exists, the base must
 * satisfy it and is pulled by the verified digest. Undefined when there is no policy file.
 */
export async function verifiedBaseDigest(
  ref: ImageReference,
  opts: { insecure?: boolean; info?: (line: string) => void } = {},
): Promise<Digest | undefined> {
  const policy = await clientPolicy();
  if (!policy) return undefined;
  return verifyWithPolicy(ref, policy, opts);
}
