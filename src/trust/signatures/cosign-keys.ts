import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  scrypt,
  type KeyObject,
} from "node:crypto";
import { DockyardError } from "../../image/errors.js";

/**
 * cosign key files. The private key is PKCS#8 DER encrypted the way go-securesystemslib's
 * `encrypted` package does it (scrypt N=32768 r=8 p=1 with a 32-byte salt → a 32-byte key;
 * NaCl secretbox with a 24-byte nonce), stored as JSON in a PEM block typed
 * `ENCRYPTED SIGSTORE PRIVATE KEY` (cosign ≥ 2.0 writes this; `ENCRYPTED COSIGN PRIVATE KEY` from
 * older cosign is read too). The public key is a PKIX `PUBLIC KEY` PEM.
 */
export const SIGSTORE_PRIVATE_KEY_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_PRIVATE_KEY_PEM = "ENCRYPTED COSIGN PRIVATE KEY";

/** What dockyard writes: go-securesystemslib's "legacy" parameters, which every cosign release reads. */
const SCRYPT = { N: 32768, r: 8, p: 1 } as const;
/** What is read: the legacy parameters and the "standard" N=65536 that newer cosign releases write. */
const ACCEPTED_SCRYPT_N = [32768, 65536];
const SALT_SIZE = 32;
const NONCE_SIZE = 24;
const KEY_SIZE = 32;

interface EncryptedKeyJSON {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function scryptKey(passphrase: Uint8Array, salt: Uint8Array, N: number = SCRYPT.N): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase,
      salt,
      KEY_SIZE,
      { N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 256 * N * SCRYPT.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

export function pemEncode(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

export function pemDecode(text: string): { type: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new DockyardError("CONFIG_INVALID", "not a PEM file (no -----BEGIN … ----- block)");
  const body = m[2]!.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body))
    throw new DockyardError("CONFIG_INVALID", "PEM body is not base64");
  return { type: m[1]!, der: Buffer.from(body, "base64") };
}

/** Encrypts `plaintext` as go-securesystemslib `encrypted.Encrypt` does; returns the JSON bytes. */
export async function encryptSecretBox(plaintext: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const salt = randomBytes(SALT_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await scryptKey(Buffer.from(passphrase, "utf8"), salt);
  const { default: nacl } = await import("tweetnacl");
  const ciphertext = nacl.secretbox(plaintext, nonce, key);
  key.fill(0);
  const doc: EncryptedKeyJSON = {
    kdf: { name: "scrypt", params: { ...SCRYPT }, salt: salt.toString("base64") },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: Buffer.from(ciphertext).toString("base64"),
  };
  return Buffer.from(JSON.stringify(doc));
}

export async function decryptSecretBox(json: Uint8Array, passphrase: string): Promise<Uint8Array> {
  let doc: EncryptedKeyJSON;
  try {
    doc = JSON.parse(Buffer.from(json).toString("utf8")) as EncryptedKeyJSON;
  } catch {
    throw new DockyardError("CONFIG_INVALID", "encrypted cosign key: the PEM body is not JSON");
  }
  if (doc?.kdf?.name !== "scrypt")
    throw new DockyardError(
      "CONFIG_INVALID",
      `encrypted cosign key: unknown kdf ${JSON.stringify(doc?.kdf?.name)}`,
    );
  if (doc.cipher?.name !== "nacl/secretbox") {
    throw new DockyardError(
      "CONFIG_INVALID",
      `encrypted cosign key: unknown cipher ${JSON.stringify(doc.cipher?.name)}`,
    );
  }
  const p = doc.kdf.params;
  // Same guard as go-securesystemslib: tampered parameters must not turn into a denial of service.
  if (!ACCEPTED_SCRYPT_N.includes(p?.N) || p.r !== SCRYPT.r || p.p !== SCRYPT.p) {
    throw new DockyardError("CONFIG_INVALID", "encrypted cosign key: unexpected scrypt parameters");
  }
  const nonce = Buffer.from(doc.cipher.nonce ?? "", "base64");
  if (nonce.length !== NONCE_SIZE)
    throw new DockyardError("CONFIG_INVALID", "encrypted cosign key: bad nonce size");
  const key = await scryptKey(
    Buffer.from(passphrase, "utf8"),
    Buffer.from(doc.kdf.salt ?? "", "base64"),
    p.N,
  );
  const { default: nacl } = await import("tweetnacl");
  const plain = nacl.secretbox.open(Buffer.from(doc.ciphertext ?? "", "base64"), nonce, key);
  key.fill(0);
  if (!plain)
    throw new DockyardError(
      "DENIED",
      "cannot decrypt the cosign private key: wrong password (or a damaged key file)",
    );
  return plain;
}

export interface CosignKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A new ECDSA P-256 key pair in cosign's file formats (what `cosign generate-key-pair` writes). */
export async function generateCosignKeyPair(passphrase: string): Promise<CosignKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return await encodeCosignKeyPair(privateKey, publicKey, passphrase);
}

export async function encodeCosignKeyPair(
  privateKey: KeyObject,
  publicKey: KeyObject,
  passphrase: string,
  pemType: string = SIGSTORE_PRIVATE_KEY_PEM,
): Promise<CosignKeyPair> {
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const enc = await encryptSecretBox(pkcs8, passphrase);
  pkcs8.fill(0);
  return {
    privateKeyPem: pemEncode(pemType, enc),
    publicKeyPem: pemEncode("PUBLIC KEY", publicKey.export({ format: "der", type: "spki" })),
  };
}

/** Loads a cosign private key file (encrypted, or plain PKCS#8/EC PEM as `cosign import-key-pair` accepts). */
export async function loadCosignPrivateKey(
  pem: string,
  passphrase: () => Promise<string | undefined>,
): Promise<KeyObject> {
  const { type, der } = pemDecode(pem);
  let pkcs8: Uint8Array;
  if (type === SIGSTORE_PRIVATE_KEY_PEM || type === COSIGN_PRIVATE_KEY_PEM) {
    const pass = await passphrase();
    pkcs8 = await decryptSecretBox(der, pass ?? "");
  } else if (type === "PRIVATE KEY" || type === "EC PRIVATE KEY") {
    return createPrivateKey({ key: pem, format: "pem" });
  } else {
    throw new DockyardError("CONFIG_INVALID", `unsupported private key PEM type ${JSON.stringify(type)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  } catch (err) {
    throw new DockyardError(
      "CONFIG_INVALID",
      `the decrypted cosign key is not PKCS#8: ${(err as Error).message}`,
    );
  }
  checkSupported(key);
  return key;
}

export function loadCosignPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `cannot read the public key PEM: ${(err as Error).message}`);
  }
  checkSupported(key);
  return key;
}

function checkSupported(key: KeyObject): void {
  const t = key.asymmetricKeyType;
  if (t === "ec" && key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new DockyardError(
      "UNSUPPORTED",
      `ECDSA curve ${key.asymmetricKeyDetails?.namedCurve} is not supported (P-256 is)`,
    );
  }
  if (t !== "ec")
    throw new DockyardError(
      "UNSUPPORTED",
      `${t} keys are not supported for cosign signatures (ECDSA P-256 is)`,
    );
}

/** The first 16 hex digits of SHA-256 over the DER public key: how dockyard names a cosign key in messages. */
export function publicKeyId(key: KeyObject): string {
  const der = (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}
