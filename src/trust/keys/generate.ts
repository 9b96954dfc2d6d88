import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  webcrypto,
  type KeyObject,
} from "node:crypto";
import { createRequire } from "node:module";
import { tufKeyFromPublic, type TufKey } from "../tuf/keys.js";

export type KeyAlgorithm = "ecdsa" | "ed25519";

/** A fresh key pair: ECDSA P-256 (node crypto, Notary's default) or ed25519 (tweetnacl). */
export function generateKeyPair(alg: KeyAlgorithm = "ecdsa"): {
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  if (alg === "ed25519") {
    const nacl = createRequire(import.meta.url)("tweetnacl") as typeof import("tweetnacl");
    const kp = nacl.sign.keyPair();
    // PKCS#8 for ed25519: fixed prefix + the 32-byte seed
    const seed = Buffer.from(kp.secretKey.subarray(0, 32));
    const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

const x509Crypto = webcrypto as unknown as Crypto;

/** @peculiar/x509 needs the reflect-metadata polyfill; load both only when a certificate is made. */
async function loadX509() {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  x509.cryptoProvider.set(x509Crypto);
  return x509;
}

/**
 * A root certificate as notary makes them: self-signed, CN = the GUN, ECDSA P-256 with SHA-256,
 * 10 years, a code-signing leaf (not a CA). Returns the TUF `ecdsa-x509` key whose public value is
 * the PEM certificate (base64), which is what root.json lists and what the key id covers.
 */
export async function makeRootCertificate(
  privateKey: KeyObject,
  gun: string,
  years = 10,
): Promise<{ key: TufKey; pem: string }> {
  const x509 = await loadX509();
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = {
    privateKey: await x509Crypto.subtle.importKey("pkcs8", pkcs8, alg, false, ["sign"]),
    publicKey: await x509Crypto.subtle.importKey("spki", spki, alg, true, ["verify"]),
  };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + years * 365 * 24 * 3600 * 1000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: `CN=${gun.replace(/([,+"\\<>;=])/g, "\\$1")}`,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
    ],
  });
  const pem = cert.toString("pem") + "\n";
  return {
    key: { keytype: "ecdsa-x509", keyval: { private: null, public: Buffer.from(pem).toString("base64") } },
    pem,
  };
}

export function publicTufKey(privateKey: KeyObject): TufKey {
  const k = tufKeyFromPublic(createPublicKey(privateKey));
  return { keytype: k.keytype, keyval: { private: null, public: k.keyval.public } };
}
