import {
  createHash,
  createPublicKey,
  verify as cryptoVerify,
  sign as cryptoSign,
  X509Certificate,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import { canonicalize } from "./canonical.js";

/** A TUF public key as Notary writes it in root/targets metadata. */
export interface TufKey {
  keytype: string; // ed25519 | ecdsa | ecdsa-x509 | rsa | rsa-x509
  keyval: { public: string; private?: string | null };
}

export interface TufSignature {
  keyid: string;
  method: string; // eddsa (notary's name for ed25519) | ecdsa | rsapss
  sig: string;
}

export const KEY_TYPES = ["ed25519", "ecdsa", "ecdsa-x509", "rsa", "rsa-x509"] as const;

/**
 * Notary's key id: sha256 of the canonical JSON of the key with the private part null. For x509
 * keys the public value is the PEM certificate, so the id covers the certificate.
 */
export function keyId(key: TufKey): string {
  const c = canonicalize({ keytype: key.keytype, keyval: { private: null, public: key.keyval.public } });
  return createHash("sha256").update(c).digest("hex");
}

// tweetnacl loads only when an ed25519 key is met (most Notary keys are ECDSA), keeping the
// verify path's start-up short.
let naclModule: typeof import("tweetnacl") | undefined;
function nacl(): typeof import("tweetnacl") {
  return (naclModule ??= createRequire(import.meta.url)("tweetnacl") as typeof import("tweetnacl"));
}

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The certificate inside an x509 key (PEM, base64-encoded in the key's public value). */
export function certificateOf(key: TufKey): X509Certificate {
  return new X509Certificate(Buffer.from(key.keyval.public, "base64"));
}

/** A node KeyObject for any supported TUF key type. */
export function publicKeyObject(key: TufKey): KeyObject {
  const raw = Buffer.from(key.keyval.public, "base64");
  switch (key.keytype) {
    case "ed25519":
      return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
    case "ecdsa":
    case "rsa":
      return createPublicKey({ key: raw, format: "der", type: "spki" });
    case "ecdsa-x509":
    case "rsa-x509":
      return new X509Certificate(raw).publicKey;
    default:
      throw new Error(`unsupported key type ${JSON.stringify(key.keytype)}`);
  }
}

/** The key's public material as SPKI DER: the same for an x509 key and the plain key inside it. */
export function spkiOf(key: TufKey): Buffer {
  if (key.keytype === "ed25519")
    return Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(key.keyval.public, "base64")]);
  return publicKeyObject(key).export({ type: "spki", format: "der" });
}

/** Verifies one signature over `msg` (canonical JSON bytes). Never throws on bad input. */
export function verifySignature(key: TufKey, method: string, msg: Uint8Array, sigB64: string): boolean {
  try {
    const sig = Buffer.from(sigB64, "base64");
    switch (key.keytype) {
      case "ed25519":
        if (method !== "eddsa" && method !== "ed25519") return false;
        return nacl().sign.detached.verify(msg, sig, Buffer.from(key.keyval.public, "base64"));
      case "ecdsa":
      case "ecdsa-x509":
        // Notary's ECDSA signatures are raw r||s (IEEE P1363), not DER.
        if (method !== "ecdsa") return false;
        return cryptoVerify("sha256", msg, { key: publicKeyObject(key), dsaEncoding: "ieee-p1363" }, sig);
      case "rsa":
      case "rsa-x509":
        if (method === "rsapss") {
          return cryptoVerify(
            "sha256",
            msg,
            { key: publicKeyObject(key), padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 },
            sig,
          );
        }
        if (method === "rsa" || method === "rsassa-pkcs1v15") {
          return cryptoVerify("sha256", msg, publicKeyObject(key), sig);
        }
        return false;
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** A private key able to sign TUF metadata, with the TUF public key it matches. */
export interface Signer {
  key: TufKey;
  id: string;
  sign(msg: Uint8Array): TufSignature;
}

/** A signer over a node private KeyObject (ecdsa P-256, ed25519 or rsa), for `key` (its public form). */
export function signerFor(privateKey: KeyObject, key: TufKey): Signer {
  const id = keyId(key);
  return {
    key,
    id,
    sign(msg) {
      let method: string;
      let sig: Buffer;
      if (privateKey.asymmetricKeyType === "ed25519") {
        method = "eddsa";
        sig = cryptoSign(null, msg, privateKey);
      } else if (privateKey.asymmetricKeyType === "rsa") {
        method = "rsapss";
        sig = cryptoSign("sha256", msg, { key: privateKey, padding: 6, saltLength: 32 });
      } else {
        method = "ecdsa";
        sig = cryptoSign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" });
      }
      return { keyid: id, method, sig: sig.toString("base64") };
    },
  };
}

/** The plain TUF key (ecdsa/ed25519/rsa) for a node public KeyObject. */
export function tufKeyFromPublic(pub: KeyObject): TufKey {
  if (pub.asymmetricKeyType === "ed25519") {
    const der = pub.export({ type: "spki", format: "der" });
    return {
      keytype: "ed25519",
      keyval: { public: der.subarray(ED25519_SPKI_PREFIX.length).toString("base64") },
    };
  }
  const keytype = pub.asymmetricKeyType === "rsa" ? "rsa" : "ecdsa";
  return { keytype, keyval: { public: pub.export({ type: "spki", format: "der" }).toString("base64") } };
}
