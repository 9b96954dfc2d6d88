import { readFile } from "node:fs/promises";
import type { KeyObject } from "node:crypto";
import { DockyardError } from "../../image/errors.js";
import type { Digest } from "../../image/digest.js";
import { formatReference, parseReference, type ImageReference } from "../../image/reference.js";
import {
  evaluateRule,
  loadPolicyFile,
  requirementFor,
  type KindVerifier,
  type PolicyDocument,
  type SignerRequirement,
} from "../policy-file.js";
import { loadCosignPrivateKey, loadCosignPublicKey, publicKeyId } from "./cosign-keys.js";
import {
  buildReferrerManifest,
  buildTagManifest,
  COSIGN_ARTIFACT_TYPE,
  signatureTag,
  signCosign,
  type CosignSignature,
} from "./cosign.js";
import { SignatureRegistryClient, type RegistryClientOptions } from "./registry-client.js";
import {
  checkCosign,
  checkGpg,
  explainFailure,
  asSignedIdentity,
  signatureKindVerifiers,
  type SignatureCheck,
} from "./verify.js";
import type { SignedIdentity } from "./simple-signing.js";
import { clientPolicyPath } from "../cli-hooks.js";

/**
 * What the CLI and the push/pull/copy hooks call: sign a pushed image, verify one, carry
 * signatures between registries, evaluate the client-side policy.
 */
export type KeyedKind = "gpg" | "sigstore";

export interface PassphraseSource {
  (what: string): Promise<string | undefined>;
}

/** DOCKYARD_SIGNING_PASSPHRASE, then (cosign keys) COSIGN_PASSWORD; never logged. */
export function envPassphrase(kind: KeyedKind, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.DOCKYARD_SIGNING_PASSPHRASE ?? (kind === "sigstore" ? env.COSIGN_PASSWORD : undefined);
}

/** Which kind a key file is: OpenPGP (armored or binary) → gpg, PEM → sigstore. */
export function keyKind(data: Uint8Array): KeyedKind {
  const text = Buffer.from(data.subarray(0, 4096)).toString("latin1");
  if (text.includes("-----BEGIN PGP")) return "gpg";
  if (text.includes("-----BEGIN ")) return "sigstore";
  // A binary OpenPGP packet starts with a tag byte that has bit 7 set.
  if (data.length > 0 && (data[0]! & 0x80) !== 0) return "gpg";
  throw new DockyardError("CONFIG_INVALID", "the key file is neither an OpenPGP key nor a PEM key");
}

async function readKeyFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `cannot read key file ${path}: ${(err as Error).message}`);
  }
}

function splitRef(input: string): ImageReference {
  const ref = parseReference(input.replace(/^docker:\/\//, ""));
  return ref;
}

export interface ResolvedImage {
  ref: ImageReference;
  digest: Digest;
  mediaType: string;
  size: number;
  client: SignatureRegistryClient;
}

export async function resolveImage(
  input: string | ImageReference,
  opts: RegistryClientOptions = {},
): Promise<ResolvedImage> {
  const ref = typeof input === "string" ? splitRef(input) : input;
  const client = new SignatureRegistryClient(ref.registry, opts);
  let m: Awaited<ReturnType<SignatureRegistryClient["getManifest"]>>;
  try {
    m = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? "latest");
  } catch (err) {
    if (
      err instanceof DockyardError &&
      err.code === "DENIED" &&
      /trust policy/.test(err.message) &&
      !ref.digest
    ) {
      throw new DockyardError(
        "DENIED",
        `${err.message}. To sign a tag the registry hides until it is signed, name its digest too: ${formatReference(ref)}@sha256:… (push prints it)`,
      );
    }
    throw err;
  }
  if (!m)
    throw new DockyardError(
      "MANIFEST_UNKNOWN",
      `${formatReference(ref)} is not in the registry: push it first`,
    );
  return { ref, digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, client };
}

export interface SignResult {
  kind: KeyedKind;
  reference: string;
  digest: Digest;
  signer: string;
  /** Where it was stored. */
  stored: string[];
}

export interface SignOptions extends RegistryClientOptions {
  kind?: KeyedKind;
  keyFile: string;
  passphrase?: PassphraseSource;
  /** cosign: also store an OCI 1.1 referrer (default true). */
  referrer?: boolean;
  /** cosign: extra `optional` claims (-a key=value). */
  annotations?: Record<string, string>;
}

/** Signs `input` (a tag or digest in a registry) and stores the signature in that registry. */
export async function signImage(input: string | ImageReference, opts: SignOptions): Promise<SignResult> {
  const keyData = await readKeyFile(opts.keyFile);
  const kind = opts.kind ?? keyKind(keyData);
  const img = await resolveImage(input, opts);
  const ask = async () =>
    envPassphrase(kind) ??
    (opts.passphrase ? await opts.passphrase(`${kind} key ${opts.keyFile}`) : undefined);
  if (kind === "gpg") {
    if (!(await img.client.supportsSignatureExtension())) {
      throw new DockyardError(
        "UNSUPPORTED",
        `${img.ref.registry} does not offer the signatures API (X-Registry-Supports-Signatures); GPG signatures cannot be stored there`,
      );
    }
    const { fingerprintOf, readSigningKey, signGpg } = await import("./gpg.js");
    const key = await readSigningKey(keyData, ask);
    // Identity as containers/image writes it: the reference the user named (tag, or digest).
    const identity = formatReference(img.ref.tag ? { ...img.ref, digest: undefined } : img.ref);
    const sig = await signGpg(key, identity, img.digest);
    await img.client.putSimpleSignature(img.ref.repository, img.digest, sig);
    return {
      kind,
      reference: identity,
      digest: img.digest,
      signer: fingerprintOf(key),
      stored: [`${img.ref.registry}/extensions/v2/${img.ref.repository}/signatures/${img.digest}`],
    };
  }
  const key = await loadCosignPrivateKey(keyData.toString("utf8"), ask);
  // cosign names the repository (no tag) in docker-reference.
  const identity = `${img.ref.registry}/${img.ref.repository}`;
  const sig = signCosign(key, identity, img.digest, opts.annotations);
  const stored = await storeCosignSignatures(img.client, img.ref.repository, img.digest, [sig], {
    subject: { mediaType: img.mediaType, digest: img.digest, size: img.size },
    referrer: opts.referrer !== false,
  });
  return { kind, reference: identity, digest: img.digest, signer: publicKeyId(key), stored };
}

/** Adds signatures to the `sha256-….sig` manifest (merging with what is there) and, optionally, as a referrer. */
export async function storeCosignSignatures(
  client: SignatureRegistryClient,
  repo: string,
  digest: Digest,
  sigs: CosignSignature[],
  opts: { subject: { mediaType: string; digest: Digest; size: number }; referrer: boolean },
): Promise<string[]> {
  const tag = signatureTag(digest);
  const tagged = await client.getManifest(repo, tag);
  const prior = tagged
    ? ((await client.cosignSignatures(repo, digest)).find((m) => m.manifest === tagged.digest)?.signatures ??
      [])
    : [];
  const m = buildTagManifest([...prior, ...sigs]);
  await client.pushSignatureManifest(repo, m, tag);
  const stored = [`${client.host}/${repo}:${tag}`];
  if (opts.referrer) {
    const r = buildReferrerManifest(sigs, opts.subject);
    await client.pushSignatureManifest(repo, r);
    stored.push(`${client.host}/${repo}@${r.digest} (referrer, ${COSIGN_ARTIFACT_TYPE})`);
  }
  return stored;
}

export interface VerifyOptions extends RegistryClientOptions {
  kind?: KeyedKind;
  /** Public key files; the kind is inferred from the first when `kind` is not given. */
  keyFiles?: string[];
  /** The policy (when no keys are given). */
  policy?: PolicyDocument;
  /** How the signed identity must match (default per kind: gpg matchRepoDigestOrExact, sigstore ignored). */
  identity?: SignedIdentity;
  /**
   * The identity the signatures were made for (e.g. the name before a copy): gpg must match it
   * exactly (exactReference), sigstore by repository (exactRepository).
   */
  signedIdentity?: string;
  /** Verifier for the policy's notary kind (from src/trust), when the caller has one. */
  notary?: (ref: ImageReference, digest: Digest) => KindVerifier;
}

export interface VerifyResult {
  reference: string;
  digest: Digest;
  verified: SignatureCheck[];
  /** Per-requirement lines when a policy was evaluated. */
  details: string[];
}

/**
 * Verifies `input`: with keys, at least one signature of the kind must verify (signature, payload
 * digest, identity); without keys, the policy's rule for the repository must be satisfied.
 * Throws TRUST naming the cause otherwise.
 */
export async function verifyImageSignatures(
  input: string | ImageReference,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const identityFor = (kind: KeyedKind): SignedIdentity | undefined => {
    if (opts.signedIdentity) {
      return kind === "gpg"
        ? { type: "exactReference", dockerReference: opts.signedIdentity }
        : { type: "exactRepository", dockerRepository: opts.signedIdentity };
    }
    return opts.identity;
  };
  const img = await resolveImage(input, opts);
  const source = img.client.source(img.ref.repository);
  const reference = formatReference(img.ref);
  if (opts.keyFiles?.length) {
    const datas = await Promise.all(opts.keyFiles.map(readKeyFile));
    const kind = opts.kind ?? keyKind(datas[0]!);
    let checks: SignatureCheck[];
    if (kind === "gpg") {
      const { readPublicKeys } = await import("./gpg.js");
      const keys = (await Promise.all(datas.map((d) => readPublicKeys(d)))).flat();
      checks = await checkGpg(source, img.ref, img.digest, keys, identityFor("gpg"));
    } else {
      const keys: KeyObject[] = datas.map((d) => loadCosignPublicKey(d.toString("utf8")));
      checks = await checkCosign(source, img.ref, img.digest, keys, identityFor("sigstore"));
    }
    const ok = checks.filter((c) => c.ok);
    if (!ok.length)
      throw new DockyardError("TRUST", `${reference} (${img.digest}): ${explainFailure(kind, checks)}`);
    return { reference, digest: img.digest, verified: ok, details: [] };
  }
  const policy = opts.policy;
  if (!policy)
    throw new DockyardError(
      "USAGE",
      "give --key FILE, or a trust policy (--policy FILE or ~/.config/dockyard/policy.yaml)",
    );
  let rule = requirementFor(policy, img.ref.repository, img.ref.registry);
  if (opts.kind) rule = { ...rule, signedBy: rule.signedBy.filter((s) => s.kind === opts.kind) };
  if (rule.require !== "none" && rule.require !== "reject" && rule.signedBy.length === 0) {
    throw new DockyardError("TRUST", `the policy has no ${opts.kind ?? ""} signers for ${reference}`);
  }
  const verifiers: Partial<Record<"gpg" | "sigstore" | "notary", KindVerifier>> = signatureKindVerifiers(
    source,
    img.ref,
    img.digest,
  );
  if (opts.notary) verifiers.notary = opts.notary(img.ref, img.digest);
  if (opts.identity || opts.signedIdentity) {
    // An explicit identity overrides the policy's signedIdentity.
    const wrap =
      (v: KindVerifier, kind: KeyedKind): KindVerifier =>
      (req: SignerRequirement) =>
        v({ ...req, signedIdentity: identityFor(kind) as unknown as Record<string, unknown> });
    verifiers.gpg = wrap(verifiers.gpg!, "gpg");
    verifiers.sigstore = wrap(verifiers.sigstore!, "sigstore");
  }
  const check = await evaluateRule(rule, verifiers);
  if (!check.ok) {
    throw new DockyardError(
      "TRUST",
      `${reference} (${img.digest}) does not satisfy the trust policy${policy.source ? ` ${policy.source}` : ""}: ${check.details.join("; ")}`,
    );
  }
  return { reference, digest: img.digest, verified: [], details: check.details };
}

/** The client-side policy: --policy, $DOCKYARD_POLICY, then ~/.config/dockyard/policy.yaml (if it exists). */
export async function clientPolicy(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PolicyDocument | undefined> {
  const path = explicit ?? clientPolicyPath(env);
  return path ? loadPolicyFile(path) : undefined;
}

export interface CarryResult {
  gpg: number;
  cosignManifests: number;
}

/**
 * Copies every signature of `digests` from `src` to `dst` (both registries): GPG simple signatures
 * through the signatures API, the cosign `.sig` manifest (byte for byte when the destination has
 * none, merged otherwise) and cosign referrers (byte for byte; their subject digest is unchanged).
 */
export async function carrySignatures(
  src: ImageReference,
  dst: ImageReference,
  digests: Digest[],
  opts: RegistryClientOptions = {},
): Promise<CarryResult> {
  const from = new SignatureRegistryClient(src.registry, opts);
  const to = new SignatureRegistryClient(dst.registry, opts);
  const out: CarryResult = { gpg: 0, cosignManifests: 0 };
  const srcHasExt = await from.supportsSignatureExtension();
  for (const digest of [...new Set(digests)]) {
    if (srcHasExt) {
      const sigs = await from.getSimpleSignatures(src.repository, digest);
      if (sigs.length) {
        if (!(await to.supportsSignatureExtensionCached())) {
          throw new DockyardError(
            "UNSUPPORTED",
            `${dst.registry} cannot store the ${sigs.length} GPG signature(s) of ${digest} (no X-Registry-Supports-Signatures): use --remove-signatures to copy without them`,
          );
        }
        for (const s of sigs) await to.putSimpleSignature(dst.repository, digest, s.content);
        out.gpg += sigs.length;
      }
    }
    const tag = signatureTag(digest);
    const tagged = await from.getManifest(src.repository, tag);
    if (tagged) {
      const there = await to.getManifest(dst.repository, tag);
      if (!there) {
        await copyManifestWithBlobs(
          from,
          to,
          src.repository,
          dst.repository,
          tagged.bytes,
          tagged.mediaType,
          tag,
        );
      } else if (there.digest !== tagged.digest) {
        const mine = (await from.cosignSignatures(src.repository, digest)).find(
          (m) => m.manifest === tagged.digest,
        );
        const theirs = (await to.cosignSignatures(dst.repository, digest)).find(
          (m) => m.manifest === there.digest,
        );
        await to.pushSignatureManifest(
          dst.repository,
          buildTagManifest([...(theirs?.signatures ?? []), ...(mine?.signatures ?? [])]),
          tag,
        );
      }
      out.cosignManifests++;
    }
    for (const r of (await from.referrers(src.repository, digest, COSIGN_ARTIFACT_TYPE)) ?? []) {
      const m = await from.getManifest(src.repository, r.digest);
      if (!m) continue;
      await copyManifestWithBlobs(from, to, src.repository, dst.repository, m.bytes, m.mediaType, m.digest);
      out.cosignManifests++;
    }
  }
  return out;
}

async function copyManifestWithBlobs(
  from: SignatureRegistryClient,
  to: SignatureRegistryClient,
  srcRepo: string,
  dstRepo: string,
  bytes: Uint8Array,
  mediaType: string,
  reference: string,
): Promise<void> {
  const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
    config?: { digest: Digest };
    layers?: { digest: Digest }[];
  };
  const blobs = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter(
    (d): d is Digest => !!d,
  );
  for (const d of blobs) {
    if (await to.hasBlob(dstRepo, d)) continue;
    const data = await from.getBlob(srcRepo, d);
    if (!data)
      throw new DockyardError("BLOB_UNKNOWN", `signature blob ${d} is missing in ${from.host}/${srcRepo}`);
    await to.putBlob(dstRepo, d, data);
  }
  await to.putManifest(dstRepo, reference, bytes, mediaType);
}

export { asSignedIdentity };
