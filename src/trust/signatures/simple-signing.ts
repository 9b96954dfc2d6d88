import { DockyardError } from "../../image/errors.js";
import { parseDigest, type Digest } from "../../image/digest.js";
import { formatReference, parseReference, type ImageReference } from "../../image/reference.js";

/**
 * The containers "simple signing" payload (containers-signature(5)), shared by GPG signatures
 * (type "atomic container signature") and cosign signatures (type "cosign container image signature").
 */
export const ATOMIC_SIGNATURE_TYPE = "atomic container signature";
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";
export type SimpleSigningType = typeof ATOMIC_SIGNATURE_TYPE | typeof COSIGN_SIGNATURE_TYPE;

export interface SimpleSigningPayload {
  type: SimpleSigningType;
  dockerReference: string;
  manifestDigest: Digest;
  /** The `optional` object as found (null for cosign's default). */
  optional: Record<string, unknown> | null;
  creator?: string;
  timestamp?: number;
}

const CREATOR = "dockyard";

/** The payload bytes for a GPG simple signature, in the field order containers/image writes. */
export function atomicPayload(dockerReference: string, manifestDigest: Digest, now = new Date()): Uint8Array {
  parseDigest(manifestDigest);
  const doc = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": manifestDigest },
      type: ATOMIC_SIGNATURE_TYPE,
    },
    optional: { creator: CREATOR, timestamp: Math.floor(now.getTime() / 1000) },
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** cosign's payload: `optional` is null unless annotations are given. */
export function cosignPayload(
  dockerReference: string,
  manifestDigest: Digest,
  annotations?: Record<string, string>,
): Uint8Array {
  parseDigest(manifestDigest);
  const doc = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": manifestDigest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: annotations && Object.keys(annotations).length ? annotations : null,
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

function bad(why: string): never {
  throw new DockyardError("TRUST", `signature payload is invalid: ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function exactKeys(obj: Record<string, unknown>, keys: string[], where: string): void {
  const have = Object.keys(obj);
  for (const k of have) if (!keys.includes(k)) bad(`unexpected field ${JSON.stringify(k)} in ${where}`);
  for (const k of keys) if (!(k in obj)) bad(`missing field ${JSON.stringify(k)} in ${where}`);
}

/**
 * Parses a payload as strictly as containers/image does for the atomic type (exact key sets in
 * `critical`; only `creator`/`timestamp` are interpreted in `optional`). cosign payloads are read the
 * way cosign reads them: `critical` must carry the same three members; `optional` is free-form.
 */
export function parsePayload(bytes: Uint8Array, expectedType?: SimpleSigningType): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    bad(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) bad("not a JSON object");
  const critical = doc.critical;
  if (!isObject(critical)) bad('missing object "critical"');
  const type = critical.type;
  if (type !== ATOMIC_SIGNATURE_TYPE && type !== COSIGN_SIGNATURE_TYPE) {
    bad(`unrecognized signature type ${JSON.stringify(type)}`);
  }
  if (expectedType && type !== expectedType) {
    bad(`signature type is ${JSON.stringify(type)}, expected ${JSON.stringify(expectedType)}`);
  }
  if (type === ATOMIC_SIGNATURE_TYPE) exactKeys(doc, ["critical", "optional"], "the payload");
  exactKeys(critical, ["identity", "image", "type"], '"critical"');
  const image = critical.image;
  if (!isObject(image)) bad('"critical.image" is not an object');
  exactKeys(image, ["docker-manifest-digest"], '"critical.image"');
  const digest = image["docker-manifest-digest"];
  if (typeof digest !== "string") bad('"docker-manifest-digest" is not a string');
  try {
    parseDigest(digest);
  } catch (err) {
    bad((err as Error).message);
  }
  const identity = critical.identity;
  if (!isObject(identity)) bad('"critical.identity" is not an object');
  exactKeys(identity, ["docker-reference"], '"critical.identity"');
  const dockerReference = identity["docker-reference"];
  if (typeof dockerReference !== "string") bad('"docker-reference" is not a string');
  const optional = doc.optional === undefined ? null : doc.optional;
  if (optional !== null && !isObject(optional)) bad('"optional" is not an object');
  const out: SimpleSigningPayload = {
    type,
    dockerReference,
    manifestDigest: digest as Digest,
    optional: optional,
  };
  if (type === ATOMIC_SIGNATURE_TYPE && optional) {
    if ("creator" in optional) {
      if (typeof optional.creator !== "string") bad('"optional.creator" is not a string');
      out.creator = optional.creator;
    }
    if ("timestamp" in optional) {
      if (typeof optional.timestamp !== "number" || !Number.isInteger(optional.timestamp)) {
        bad('"optional.timestamp" is not an integer');
      }
      out.timestamp = optional.timestamp;
    }
  }
  return out;
}

/**
 * How a signature's docker-reference must relate to the image being verified — the `signedIdentity`
 * rules of containers-policy.json(5).
 */
export type SignedIdentity =
  | { type: "matchRepoDigestOrExact" }
  | { type: "matchExact" }
  | { type: "matchRepository" }
  | { type: "exactReference"; dockerReference: string }
  | { type: "exactRepository"; dockerRepository: string }
  | { type: "remapIdentity"; prefix: string; signedPrefix: string };

/** Normalized `host/repo` (docker.io spelled out, library/ added) of a reference. */
function repoName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

function parseSigned(value: string): ImageReference | undefined {
  try {
    return parseReference(value, { defaultTag: false });
  } catch {
    return undefined;
  }
}

function sameReference(a: ImageReference, b: ImageReference): boolean {
  return formatReference(a) === formatReference(b);
}

/**
 * Does the signed docker-reference satisfy the rule for the image reference `image` (the
 * reference the user asked for: tag and/or digest)? Returns undefined when it does, or the reason.
 */
export function checkIdentity(
  signedReference: string,
  image: ImageReference,
  rule: SignedIdentity = { type: "matchRepoDigestOrExact" },
  opts: { ignoreHost?: boolean } = {},
): string | undefined {
  const parsed = parseSigned(signedReference);
  if (!parsed) return `the signed identity ${JSON.stringify(signedReference)} is not a valid reference`;
  // A registry that does not know the name clients use for it compares repository paths only.
  const signed = opts.ignoreHost ? { ...parsed, registry: image.registry } : parsed;
  const mismatch = (want: string) =>
    `the signature is for ${JSON.stringify(signedReference)}, not ${want} (signedIdentity ${rule.type})`;
  const intended = image;
  switch (rule.type) {
    case "matchExact": {
      if (!signed.tag && !signed.digest) return mismatch(formatReference(intended));
      return sameReference(signed, intended) ? undefined : mismatch(formatReference(intended));
    }
    case "matchRepoDigestOrExact": {
      if (!signed.tag && !signed.digest) return mismatch(formatReference(intended));
      if (intended.tag) {
        return sameReference(signed, intended) ? undefined : mismatch(formatReference(intended));
      }
      return repoName(signed) === repoName(intended)
        ? undefined
        : mismatch(`repository ${repoName(intended)}`);
    }
    case "matchRepository":
      return repoName(signed) === repoName(intended)
        ? undefined
        : mismatch(`repository ${repoName(intended)}`);
    case "exactReference": {
      const want = parseSigned(rule.dockerReference);
      if (!want) return `policy exactReference ${JSON.stringify(rule.dockerReference)} is not a reference`;
      return sameReference(signed, want) ? undefined : mismatch(formatReference(want));
    }
    case "exactRepository": {
      const want = parseSigned(rule.dockerRepository);
      if (!want) return `policy exactRepository ${JSON.stringify(rule.dockerRepository)} is not a reference`;
      return repoName(signed) === repoName(want) ? undefined : mismatch(`repository ${repoName(want)}`);
    }
    case "remapIdentity": {
      // Rewrite the intended reference's prefix, then apply matchRepoDigestOrExact.
      const full = formatReference(intended);
      const prefix = normalizePrefix(rule.prefix);
      let remapped = intended;
      if (
        full === prefix ||
        full.startsWith(prefix + "/") ||
        full.startsWith(prefix + ":") ||
        full.startsWith(prefix + "@")
      ) {
        const r = parseSigned(normalizePrefix(rule.signedPrefix) + full.slice(prefix.length));
        if (!r) return `remapIdentity produced an invalid reference from ${full}`;
        remapped = r;
      }
      return checkIdentity(signedReference, remapped, { type: "matchRepoDigestOrExact" }, opts);
    }
  }
}

/** A prefix as containers-policy.json spells it (`host/ns`) normalized like references are. */
function normalizePrefix(p: string): string {
  if (!p.includes("/") && !p.includes(".") && !p.includes(":") && p !== "localhost")
    return `docker.io/library/${p}`;
  const first = p.split("/")[0]!;
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return `docker.io/${p}`;
  return p;
}
