import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { DockyardError } from "../../image/errors.js";
import { digestOf, parseDigest, type Digest } from "../../image/digest.js";
import { MediaType } from "../../image/media-types.js";
import type { ImageReference } from "../../image/reference.js";
import {
  COSIGN_SIGNATURE_TYPE,
  checkIdentity,
  cosignPayload,
  parsePayload,
  type SignedIdentity,
  type SimpleSigningPayload,
} from "./simple-signing.js";
import { publicKeyId } from "./cosign-keys.js";

/**
 * cosign-style signatures (sigstore/cosign specs/SIGNATURE_SPEC.md): a simple-signing payload of
 * type "cosign container image signature", an ECDSA-P256-SHA256 ASN.1 DER signature (base64) in the
 * layer annotation `dev.cosignproject.cosign/signature`, stored as layers of an OCI image manifest
 * tagged `sha256-<hex>.sig` beside the image — and, for OCI 1.1 registries, as a referrer artifact
 * whose `subject` is the signed manifest.
 */
export const COSIGN_PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const COSIGN_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";
export const EMPTY_JSON = new TextEncoder().encode("{}");
export const EMPTY_JSON_DIGEST: Digest = digestOf(EMPTY_JSON);

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** One cosign signature: the payload bytes and the base64 DER signature over them. */
export interface CosignSignature {
  payload: Uint8Array;
  signature: string;
  /** Other annotations of the layer (certificate, chain, bundle), carried along untouched. */
  annotations?: Record<string, string>;
}

/** `sha256:abc…` → `sha256-abc….sig` (cosign's tag-based discovery). */
export function signatureTag(manifestDigest: Digest): string {
  const { algorithm, hex } = parseDigest(manifestDigest);
  return `${algorithm}-${hex}.sig`;
}

export function signCosign(
  key: KeyObject,
  dockerReference: string,
  manifestDigest: Digest,
  annotations?: Record<string, string>,
): CosignSignature {
  const payload = cosignPayload(dockerReference, manifestDigest, annotations);
  const der = cryptoSign("sha256", payload, { key, dsaEncoding: "der" });
  return { payload, signature: der.toString("base64") };
}

export interface SignatureManifest {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
  /** Blobs the manifest references, to upload before it (digest → bytes). */
  blobs: Map<Digest, Uint8Array>;
}

function layerOf(sig: CosignSignature): Descriptor {
  return {
    mediaType: COSIGN_PAYLOAD_MEDIA_TYPE,
    size: sig.payload.length,
    digest: digestOf(sig.payload),
    annotations: { ...(sig.annotations ?? {}), [COSIGN_SIGNATURE_ANNOTATION]: sig.signature },
  };
}

function dedupe(sigs: CosignSignature[]): CosignSignature[] {
  const seen = new Set<string>();
  return sigs.filter((s) => {
    const k = `${digestOf(s.payload)} ${s.signature}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The OCI image manifest stored at tag `sha256-<hex>.sig`: config is an image config whose
 * rootfs.diff_ids are the payload digests (as go-containerregistry builds it for cosign), layers
 * are the payloads with their signature annotations.
 */
export function buildTagManifest(signatures: CosignSignature[]): SignatureManifest {
  const sigs = dedupe(signatures);
  const layers = sigs.map(layerOf);
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "",
      created: "0001-01-01T00:00:00Z",
      history: layers.map(() => ({ created: "0001-01-01T00:00:00Z" })),
      os: "",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const blobs = new Map<Digest, Uint8Array>();
  blobs.set(digestOf(config), config);
  for (const s of sigs) blobs.set(digestOf(s.payload), s.payload);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, size: config.length, digest: digestOf(config) },
    layers,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { bytes, digest: digestOf(bytes), mediaType: MediaType.ociManifest, blobs };
}

/** The OCI 1.1 referrer form: an artifact manifest with `subject` = the signed manifest. */
export function buildReferrerManifest(signatures: CosignSignature[], subject: Descriptor): SignatureManifest {
  const sigs = dedupe(signatures);
  const blobs = new Map<Digest, Uint8Array>();
  blobs.set(EMPTY_JSON_DIGEST, EMPTY_JSON);
  for (const s of sigs) blobs.set(digestOf(s.payload), s.payload);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: COSIGN_ARTIFACT_TYPE,
    config: { mediaType: MediaType.ociEmpty, size: EMPTY_JSON.length, digest: EMPTY_JSON_DIGEST },
    layers: sigs.map(layerOf),
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { bytes, digest: digestOf(bytes), mediaType: MediaType.ociManifest, blobs };
}

export interface SignatureLayer {
  descriptor: Descriptor;
  signature: string;
  annotations: Record<string, string>;
}

/** The signature layers of a `.sig` or referrer manifest (other layers are ignored, as cosign does). */
export function signatureLayers(manifestBytes: Uint8Array): SignatureLayer[] {
  let doc: { layers?: Descriptor[] };
  try {
    doc = JSON.parse(Buffer.from(manifestBytes).toString("utf8")) as { layers?: Descriptor[] };
  } catch {
    throw new DockyardError("TRUST", "the cosign signature manifest is not JSON");
  }
  if (!Array.isArray(doc.layers))
    throw new DockyardError("TRUST", "the cosign signature manifest has no layers");
  return doc.layers
    .filter((l) => l?.mediaType === COSIGN_PAYLOAD_MEDIA_TYPE)
    .map((l) => {
      const annotations = l.annotations ?? {};
      return { descriptor: l, signature: annotations[COSIGN_SIGNATURE_ANNOTATION] ?? "", annotations };
    });
}

export interface VerifiedCosignSignature {
  payload: SimpleSigningPayload;
  keyId: string;
}

/**
 * Verifies one cosign signature against one or more public keys: the ECDSA signature over the
 * payload bytes, the payload type, the manifest digest and (when `image` is given) the identity.
 */
export function verifyCosign(
  sig: CosignSignature,
  keys: KeyObject[],
  expected: {
    manifestDigest: Digest;
    image?: ImageReference;
    identity?: SignedIdentity;
    ignoreHost?: boolean;
  },
): VerifiedCosignSignature {
  if (!sig.signature)
    throw new DockyardError("TRUST", `the payload layer has no ${COSIGN_SIGNATURE_ANNOTATION} annotation`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sig.signature)) {
    throw new DockyardError("TRUST", "the cosign signature annotation is not base64 (re-encoded?)");
  }
  const der = Buffer.from(sig.signature, "base64");
  if (der.length < 8 || der[0] !== 0x30) {
    throw new DockyardError(
      "TRUST",
      "the cosign signature is not an ASN.1 DER ECDSA signature (truncated or re-encoded?)",
    );
  }
  let signer: KeyObject | undefined;
  for (const key of keys) {
    let ok = false;
    try {
      ok = cryptoVerify("sha256", sig.payload, { key, dsaEncoding: "der" }, der);
    } catch {
      ok = false;
    }
    if (ok) {
      signer = key;
      break;
    }
  }
  if (!signer) {
    throw new DockyardError(
      "TRUST",
      keys.length === 1
        ? `the cosign signature does not verify with key ${publicKeyId(keys[0]!)} (wrong key, or the payload or signature was altered)`
        : `the cosign signature does not verify with any of the ${keys.length} trusted keys (unknown key, or altered payload/signature)`,
    );
  }
  const payload = parsePayload(sig.payload, COSIGN_SIGNATURE_TYPE);
  if (payload.manifestDigest !== expected.manifestDigest) {
    throw new DockyardError(
      "TRUST",
      `the cosign signature is for manifest ${payload.manifestDigest}, not ${expected.manifestDigest} (a signature for another image)`,
    );
  }
  // SIGNATURE_SPEC.md: "The critical.identity.docker-reference field is ignored" — unless the
  // caller (policy signedIdentity, --signed-identity) asks for an identity rule.
  if (expected.image && expected.identity) {
    const why = checkIdentity(payload.dockerReference, expected.image, expected.identity, {
      ignoreHost: expected.ignoreHost === true,
    });
    if (why) throw new DockyardError("TRUST", why);
  }
  return { payload, keyId: publicKeyId(signer) };
}
