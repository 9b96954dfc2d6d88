import * as openpgp from "openpgp";
import { DockyardError } from "../../image/errors.js";
import type { Digest } from "../../image/digest.js";
import type { ImageReference } from "../../image/reference.js";
import {
  ATOMIC_SIGNATURE_TYPE,
  atomicPayload,
  checkIdentity,
  parsePayload,
  type SignedIdentity,
  type SimpleSigningPayload,
} from "./simple-signing.js";

/**
 * containers "simple signing" with OpenPGP: the payload is signed as an OpenPGP signed message in
 * binary form (one-pass signature, literal data, signature — what `gpg --sign` and skopeo write).
 */

const trustErr = (msg: string, detail?: unknown) => new DockyardError("TRUST", msg, detail);

/** Reads one or more OpenPGP public keys, armored or binary (`gpg --export` / `--export --armor`). */
export async function readPublicKeys(data: Uint8Array | string): Promise<openpgp.Key[]> {
  const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
  try {
    if (text.includes("-----BEGIN PGP")) return await openpgp.readKeys({ armoredKeys: text });
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    return await openpgp.readKeys({ binaryKeys: bytes });
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `cannot read OpenPGP public key: ${(err as Error).message}`);
  }
}

/** Reads an armored (or binary) OpenPGP secret key and unlocks it with the passphrase if it is protected. */
export async function readSigningKey(
  data: Uint8Array | string,
  passphrase: () => Promise<string | undefined>,
): Promise<openpgp.PrivateKey> {
  let key: openpgp.PrivateKey;
  const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
  try {
    key = text.includes("-----BEGIN PGP")
      ? await openpgp.readPrivateKey({ armoredKey: text })
      : await openpgp.readPrivateKey({
          binaryKey: typeof data === "string" ? Buffer.from(data, "latin1") : data,
        });
  } catch (err) {
    throw new DockyardError(
      "CONFIG_INVALID",
      `cannot read OpenPGP secret key: ${(err as Error).message} (export one with 'gpg --export-secret-keys --armor FPR')`,
    );
  }
  if (key.isDecrypted()) return key;
  const pass = await passphrase();
  if (pass === undefined) {
    throw new DockyardError("USAGE", "the OpenPGP secret key is protected: set DOCKYARD_SIGNING_PASSPHRASE");
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase: pass });
  } catch {
    throw new DockyardError("DENIED", "cannot unlock the OpenPGP secret key: wrong passphrase");
  }
}

/** Upper-case hex fingerprint, as gpg prints it. */
export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

export async function generateGpgKey(opts: {
  name: string;
  email?: string;
  passphrase?: string;
}): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: opts.name, ...(opts.email ? { email: opts.email } : {}) }],
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
    format: "armored",
  });
  const fingerprint = fingerprintOf(await openpgp.readKey({ armoredKey: publicKey }));
  return { privateKey, publicKey, fingerprint };
}

/** Signs the simple-signing payload for `dockerReference` → `manifestDigest`; returns the binary signature. */
export async function signGpg(
  key: openpgp.PrivateKey,
  dockerReference: string,
  manifestDigest: Digest,
): Promise<Uint8Array> {
  const payload = atomicPayload(dockerReference, manifestDigest);
  const message = await openpgp.createMessage({ binary: payload, format: "binary" });
  return await openpgp.sign({ message, signingKeys: key, format: "binary" });
}

export interface UnverifiedGpgSignature {
  payload: Uint8Array;
  keyIDs: string[];
}

/**
 * Reads the payload and signer key IDs of a signature WITHOUT verifying it — only to route or
 * pre-check (the registry refuses a signature whose payload names another digest). Never trust it.
 */
export async function readGpgSignatureUnverified(sig: Uint8Array): Promise<UnverifiedGpgSignature> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: sig });
  } catch (err) {
    throw trustErr(
      `the signature is not an OpenPGP message (truncated or re-encoded?): ${(err as Error).message}`,
    );
  }
  try {
    const res = await openpgp.verify({ message, verificationKeys: [], format: "binary" });
    const keyIDs = Array.from(res.signatures, (s) => s.keyID.toHex().toUpperCase());
    for (const s of res.signatures) (s.verified as Promise<unknown>).catch(() => {});
    return { payload: res.data, keyIDs };
  } catch (err) {
    throw trustErr(`the signature is not a readable OpenPGP signed message: ${(err as Error).message}`);
  }
}

export interface VerifiedGpgSignature {
  payload: SimpleSigningPayload;
  /** Fingerprint of the primary key whose (sub)key made the signature. */
  fingerprint: string;
  signingKeyFingerprint: string;
}

/**
 * Verifies a GPG simple signature: the OpenPGP signature by one of `keys`, the payload format, the
 * manifest digest, and the signed identity against `image` under `identity` rules.
 */
export async function verifyGpg(
  sig: Uint8Array,
  keys: openpgp.Key[],
  expected: {
    manifestDigest: Digest;
    image?: ImageReference;
    identity?: SignedIdentity;
    ignoreHost?: boolean;
  },
): Promise<VerifiedGpgSignature> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: sig });
  } catch (err) {
    throw trustErr(
      `the signature is not an OpenPGP message (truncated or re-encoded?): ${(err as Error).message}`,
    );
  }
  let res: Awaited<ReturnType<typeof openpgp.verify<Uint8Array>>>;
  try {
    res = await openpgp.verify({ message, verificationKeys: keys, format: "binary" });
  } catch (err) {
    throw trustErr(
      `the OpenPGP signature cannot be read (truncated or re-encoded?): ${(err as Error).message}`,
    );
  }
  if (res.signatures.length !== 1) {
    for (const s of res.signatures) (s.verified as Promise<unknown>).catch(() => {});
    throw trustErr(
      `the OpenPGP message carries ${res.signatures.length} signatures; exactly one is required`,
    );
  }
  const s = res.signatures[0]!;
  const keyId = s.keyID.toHex().toUpperCase();
  const owner = keys.find((k) => k.getKeys(s.keyID).length > 0);
  try {
    await s.verified;
  } catch (err) {
    if (!owner)
      throw trustErr(
        `the signature was made by an unknown key (key ID ${keyId}); it is not among the trusted keys`,
      );
    throw trustErr(`the OpenPGP signature by key ${keyId} is invalid: ${(err as Error).message}`);
  }
  if (!owner) throw trustErr(`the signature was made by an unknown key (key ID ${keyId})`);
  const subkey = owner.getKeys(s.keyID)[0]!;
  const payload = parsePayload(res.data, ATOMIC_SIGNATURE_TYPE);
  if (payload.manifestDigest !== expected.manifestDigest) {
    throw trustErr(
      `the signature is for manifest ${payload.manifestDigest}, not ${expected.manifestDigest} (a signature for another image)`,
    );
  }
  if (expected.image) {
    const why = checkIdentity(payload.dockerReference, expected.image, expected.identity, {
      ignoreHost: expected.ignoreHost === true,
    });
    if (why) throw trustErr(why);
  }
  return {
    payload,
    fingerprint: fingerprintOf(owner),
    signingKeyFingerprint: subkey.getFingerprint().toUpperCase(),
  };
}
