import { readFile } from "node:fs/promises";
import type { KeyObject } from "node:crypto";
import type { Key } from "openpgp";
import { DockyardError } from "../../image/errors.js";
import type { Digest } from "../../image/digest.js";
import type { ImageReference } from "../../image/reference.js";
import type { KindVerifier, SignerRequirement } from "../policy-file.js";
import { loadCosignPublicKey } from "./cosign-keys.js";
import { verifyCosign, type CosignSignature } from "./cosign.js";
import type { SignedIdentity } from "./simple-signing.js";

/** Where the signatures of an image are read from (a registry over HTTP, or the registry's own storage). */
export interface SignatureSource {
  /** GPG simple signatures (binary OpenPGP messages) stored for a manifest digest. */
  simpleSignatures(digest: Digest): Promise<Uint8Array[]>;
  /** cosign-style signatures: layers of the `sha256-….sig` manifest and of cosign referrers. */
  cosignSignatures(digest: Digest): Promise<CosignSignature[]>;
}

export interface SignatureCheck {
  kind: "gpg" | "sigstore";
  ok: boolean;
  /** gpg: key fingerprint; sigstore: key id. */
  signer?: string;
  dockerReference?: string;
  reason?: string;
}

const keyCache = new Map<string, Promise<unknown>>();

async function fileOrData(req: SignerRequirement): Promise<{ name: string; data: string | Uint8Array }[]> {
  const out: { name: string; data: string | Uint8Array }[] = req.keyData.map((d, i) => ({
    name: `keyData[${i}]`,
    data: d,
  }));
  for (const path of req.keys) {
    try {
      out.push({ name: path, data: await readFile(path) });
    } catch (err) {
      throw new DockyardError("CONFIG_INVALID", `cannot read key file ${path}: ${(err as Error).message}`);
    }
  }
  return out;
}

export async function gpgKeysFor(req: SignerRequirement): Promise<Key[]> {
  const id = `gpg\0${req.keys.join("\0")}\0${req.keyData.join("\0")}`;
  if (!keyCache.has(id)) {
    keyCache.set(
      id,
      (async () => {
        const { readPublicKeys } = await import("./gpg.js"); // openpgp loads only when gpg is used
        return (await Promise.all((await fileOrData(req)).map((f) => readPublicKeys(f.data)))).flat();
      })(),
    );
  }
  try {
    return (await keyCache.get(id)) as Key[];
  } catch (err) {
    keyCache.delete(id);
    throw err;
  }
}

export async function cosignKeysFor(req: SignerRequirement): Promise<KeyObject[]> {
  const files = await fileOrData(req);
  return files.map((f) =>
    loadCosignPublicKey(typeof f.data === "string" ? f.data : Buffer.from(f.data).toString("utf8")),
  );
}

/** Checks every stored GPG signature; a signature passes when one key verifies it and digest and identity match. */
export async function checkGpg(
  source: SignatureSource,
  image: ImageReference,
  digest: Digest,
  keys: Key[],
  identity?: SignedIdentity,
  ignoreHost = false,
): Promise<SignatureCheck[]> {
  const sigs = await source.simpleSignatures(digest);
  const out: SignatureCheck[] = [];
  for (const sig of sigs) {
    try {
      const { verifyGpg } = await import("./gpg.js");
      const v = await verifyGpg(sig, keys, {
        manifestDigest: digest,
        image,
        ignoreHost,
        ...(identity ? { identity } : {}),
      });
      out.push({ kind: "gpg", ok: true, signer: v.fingerprint, dockerReference: v.payload.dockerReference });
    } catch (err) {
      out.push({ kind: "gpg", ok: false, reason: (err as Error).message });
    }
  }
  return out;
}

export async function checkCosign(
  source: SignatureSource,
  image: ImageReference,
  digest: Digest,
  keys: KeyObject[],
  identity?: SignedIdentity,
  ignoreHost = false,
): Promise<SignatureCheck[]> {
  const sigs = await source.cosignSignatures(digest);
  const out: SignatureCheck[] = [];
  for (const sig of sigs) {
    try {
      const v = verifyCosign(sig, keys, {
        manifestDigest: digest,
        image,
        ignoreHost,
        ...(identity ? { identity } : {}),
      });
      out.push({ kind: "sigstore", ok: true, signer: v.keyId, dockerReference: v.payload.dockerReference });
    } catch (err) {
      out.push({ kind: "sigstore", ok: false, reason: (err as Error).message });
    }
  }
  return out;
}

/** One line explaining a failed set of checks (for errors and policy details). */
export function explainFailure(kind: "gpg" | "sigstore", checks: SignatureCheck[]): string {
  const what = kind === "gpg" ? "GPG simple signature" : "cosign signature";
  if (checks.length === 0) return `no ${what} exists for this image`;
  const reasons = [...new Set(checks.map((c) => c.reason).filter(Boolean))];
  return `${checks.length} ${what}${checks.length > 1 ? "s" : ""} found, none valid: ${reasons.join("; ")}`;
}

export function asSignedIdentity(v: Record<string, unknown> | undefined): SignedIdentity | undefined {
  if (!v) return undefined;
  const t = v.type;
  const ok = [
    "matchRepoDigestOrExact",
    "matchExact",
    "matchRepository",
    "exactReference",
    "exactRepository",
    "remapIdentity",
  ];
  if (typeof t !== "string" || !ok.includes(t)) {
    throw new DockyardError("CONFIG_INVALID", `signedIdentity type must be one of ${ok.join(", ")}`);
  }
  if (t === "exactReference" && typeof v.dockerReference !== "string") {
    throw new DockyardError("CONFIG_INVALID", "signedIdentity exactReference needs dockerReference");
  }
  if (t === "exactRepository" && typeof v.dockerRepository !== "string") {
    throw new DockyardError("CONFIG_INVALID", "signedIdentity exactRepository needs dockerRepository");
  }
  if (t === "remapIdentity" && (typeof v.prefix !== "string" || typeof v.signedPrefix !== "string")) {
    throw new DockyardError("CONFIG_INVALID", "signedIdentity remapIdentity needs prefix and signedPrefix");
  }
  return v as unknown as SignedIdentity;
}

/** Policy verifiers for the gpg and sigstore kinds over a signature source. */
export function signatureKindVerifiers(
  source: SignatureSource,
  image: ImageReference,
  digest: Digest,
  opts: { ignoreHost?: boolean } = {},
): { gpg: KindVerifier; sigstore: KindVerifier } {
  const ignoreHost = opts.ignoreHost === true;
  return {
    gpg: async (req) => {
      const checks = await checkGpg(
        source,
        image,
        digest,
        await gpgKeysFor(req),
        asSignedIdentity(req.signedIdentity),
        ignoreHost,
      );
      const good = checks.find((c) => c.ok);
      return good
        ? { ok: true, detail: `signed by ${good.signer} as ${good.dockerReference}` }
        : { ok: false, detail: explainFailure("gpg", checks) };
    },
    sigstore: async (req) => {
      const checks = await checkCosign(
        source,
        image,
        digest,
        await cosignKeysFor(req),
        asSignedIdentity(req.signedIdentity),
        ignoreHost,
      );
      const good = checks.find((c) => c.ok);
      return good
        ? { ok: true, detail: `signed by key ${good.signer} as ${good.dockerReference}` }
        : { ok: false, detail: explainFailure("sigstore", checks) };
    },
  };
}
