import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  scrypt,
  sign as cryptoSign,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import nacl from "tweetnacl";
import { digestOf, type Digest } from "../../../src/image/digest.js";
import { parseReference } from "../../../src/image/reference.js";
import { isDockyardError } from "../../../src/image/errors.js";
import {
  atomicPayload,
  checkIdentity,
  cosignPayload,
  parsePayload,
} from "../../../src/trust/signatures/simple-signing.js";
import {
  generateGpgKey,
  readPublicKeys,
  readSigningKey,
  signGpg,
  verifyGpg,
} from "../../../src/trust/signatures/gpg.js";
import {
  decryptSecretBox,
  generateCosignKeyPair,
  loadCosignPrivateKey,
  loadCosignPublicKey,
  pemDecode,
} from "../../../src/trust/signatures/cosign-keys.js";
import {
  buildReferrerManifest,
  buildTagManifest,
  COSIGN_ARTIFACT_TYPE,
  COSIGN_PAYLOAD_MEDIA_TYPE,
  COSIGN_SIGNATURE_ANNOTATION,
  signatureLayers,
  signatureTag,
  signCosign,
  verifyCosign,
} from "../../../src/trust/signatures/cosign.js";
import { evaluateRule, globToRegExp, parsePolicy, requirementFor } from "../../../src/trust/policy-file.js";

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/trust/signatures → test/trust/signatures/fixtures
const fixtures = join(here, "..", "..", "..", "..", "test", "trust", "signatures", "fixtures");
const D1 = `sha256:${"a".repeat(64)}` as Digest;
const D2 = `sha256:${"b".repeat(64)}` as Digest;
const REF = "127.0.0.1:5000/sig/app:v1";

async function rejects(p: Promise<unknown> | (() => unknown), re: RegExp): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    assert.ok(isDockyardError(err), `expected a DockyardError, got ${String(err)}`);
    assert.match((err as Error).message, re);
    return;
  }
  assert.fail(`expected a refusal matching ${re}`);
}

test("simple signing payload: containers/image layout, strict parsing", async () => {
  const p = atomicPayload(REF, D1, new Date(1_700_000_000_000));
  assert.equal(
    Buffer.from(p).toString(),
    `{"critical":{"identity":{"docker-reference":"${REF}"},"image":{"docker-manifest-digest":"${D1}"},"type":"atomic container signature"},"optional":{"creator":"dockyard","timestamp":1700000000}}`,
  );
  const parsed = parsePayload(p);
  assert.equal(parsed.dockerReference, REF);
  assert.equal(parsed.manifestDigest, D1);
  assert.equal(parsed.timestamp, 1700000000);
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const critical = {
    identity: { "docker-reference": REF },
    image: { "docker-manifest-digest": D1 },
    type: "atomic container signature",
  };
  await rejects(
    () => parsePayload(enc({ critical: { ...critical, extra: 1 }, optional: {} })),
    /unexpected field "extra"/,
  );
  await rejects(
    () => parsePayload(enc({ critical: { ...critical, type: "x" }, optional: {} })),
    /unrecognized signature type/,
  );
  await rejects(() => parsePayload(enc({ critical })), /missing field "optional"/);
  await rejects(
    () =>
      parsePayload(
        enc({ critical: { ...critical, image: { "docker-manifest-digest": "sha256:zz" } }, optional: {} }),
      ),
    /invalid sha256 digest/,
  );
  await rejects(() => parsePayload(new TextEncoder().encode("{not json")), /not JSON/);
  // cosign's payload: optional null, same critical members.
  const c = cosignPayload("127.0.0.1:5000/sig/app", D1);
  assert.equal(
    Buffer.from(c).toString(),
    `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/sig/app"},"image":{"docker-manifest-digest":"${D1}"},"type":"cosign container image signature"},"optional":null}`,
  );
  assert.equal(parsePayload(c).optional, null);
});

test("signedIdentity rules follow containers-policy.json", () => {
  const tagged = parseReference(REF);
  const digested = parseReference(`127.0.0.1:5000/sig/app@${D1}`);
  assert.equal(checkIdentity(REF, tagged), undefined);
  assert.match(checkIdentity("127.0.0.1:5000/sig/app:v2", tagged) ?? "", /not 127.0.0.1:5000\/sig\/app:v1/);
  assert.equal(
    checkIdentity("127.0.0.1:5000/sig/app:v2", digested),
    undefined,
    "by digest only the repository must match",
  );
  assert.match(checkIdentity("127.0.0.1:5000/other/app:v1", digested) ?? "", /not repository/);
  assert.match(
    checkIdentity("127.0.0.1:5000/sig/app", tagged) ?? "",
    /not/,
    "a name-only identity never matches exactly",
  );
  assert.equal(
    checkIdentity("busybox:latest", parseReference("docker.io/library/busybox")),
    undefined,
    "names are normalized",
  );
  assert.equal(checkIdentity("127.0.0.1:5000/sig/app:v9", tagged, { type: "matchRepository" }), undefined);
  assert.equal(
    checkIdentity("src.example:5000/sig/app:v1", parseReference("dst.example:5000/mirror/app:v1"), {
      type: "remapIdentity",
      prefix: "dst.example:5000/mirror",
      signedPrefix: "src.example:5000/sig",
    }),
    undefined,
  );
  assert.equal(
    checkIdentity("elsewhere.example/app:v1", tagged, {
      type: "exactReference",
      dockerReference: "elsewhere.example/app:v1",
    }),
    undefined,
  );
  assert.equal(
    checkIdentity("other.example:5000/sig/app:v1", tagged, undefined, { ignoreHost: true }),
    undefined,
  );
});

test("gpg: sign and verify; every bad input is refused naming its cause", async () => {
  const k = await generateGpgKey({ name: "dockyard test", passphrase: "s3cret" });
  await rejects(
    readSigningKey(k.privateKey, async () => undefined),
    /DOCKYARD_SIGNING_PASSPHRASE/,
  );
  await rejects(
    readSigningKey(k.privateKey, async () => "wrong"),
    /wrong passphrase/,
  );
  const key = await readSigningKey(k.privateKey, async () => "s3cret");
  const sig = await signGpg(key, REF, D1);
  const keys = await readPublicKeys(k.publicKey);
  const ok = await verifyGpg(sig, keys, { manifestDigest: D1, image: parseReference(REF) });
  assert.equal(ok.fingerprint, k.fingerprint);
  assert.equal(ok.payload.dockerReference, REF);

  // A signature for another digest.
  await rejects(
    verifyGpg(sig, keys, { manifestDigest: D2 }),
    /for manifest sha256:a+, not sha256:b+ \(a signature for another image\)/,
  );
  // A payload whose identity names another repository.
  await rejects(
    verifyGpg(await signGpg(key, "127.0.0.1:5000/evil/app:v1", D1), keys, {
      manifestDigest: D1,
      image: parseReference(REF),
    }),
    /the signature is for "127.0.0.1:5000\/evil\/app:v1"/,
  );
  // Truncated.
  await rejects(
    verifyGpg(sig.subarray(0, sig.length - 7), keys, { manifestDigest: D1 }),
    /truncated or re-encoded/,
  );
  // Re-encoded (base64 text instead of the binary message).
  await rejects(
    verifyGpg(Buffer.from(Buffer.from(sig).toString("base64")), keys, { manifestDigest: D1 }),
    /truncated or re-encoded/,
  );
  // One flipped bit inside the signature packet's MPIs (the last bytes).
  const flipped = Buffer.from(sig);
  flipped[flipped.length - 3]! ^= 0x01;
  await rejects(verifyGpg(flipped, keys, { manifestDigest: D1 }), /invalid|truncated|cannot be read/);
  // An unknown key.
  const other = await generateGpgKey({ name: "someone else" });
  await rejects(
    verifyGpg(sig, await readPublicKeys(other.publicKey), { manifestDigest: D1 }),
    /unknown key \(key ID [0-9A-F]{16}\)/,
  );
});

test("cosign keys: dockyard's encrypted key decrypts with an independent scrypt+secretbox", async () => {
  const pair = await generateCosignKeyPair("pw");
  assert.match(pair.privateKeyPem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
  assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  // Independent decryption following go-securesystemslib/encrypted: base64 PEM body → JSON.
  const body = pair.privateKeyPem
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .join("");
  const doc = JSON.parse(Buffer.from(body, "base64").toString()) as {
    kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
    cipher: { name: string; nonce: string };
    ciphertext: string;
  };
  assert.deepEqual(Object.keys(doc), ["kdf", "cipher", "ciphertext"]);
  assert.equal(doc.kdf.name, "scrypt");
  assert.deepEqual(doc.kdf.params, { N: 32768, r: 8, p: 1 });
  assert.equal(Buffer.from(doc.kdf.salt, "base64").length, 32);
  assert.equal(doc.cipher.name, "nacl/secretbox");
  assert.equal(Buffer.from(doc.cipher.nonce, "base64").length, 24);
  const key = await new Promise<Buffer>((res, rej) =>
    scrypt(
      "pw",
      Buffer.from(doc.kdf.salt, "base64"),
      32,
      { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 },
      (e, k) => (e ? rej(e) : res(k)),
    ),
  );
  const plain = nacl.secretbox.open(
    Buffer.from(doc.ciphertext, "base64"),
    Buffer.from(doc.cipher.nonce, "base64"),
    key,
  );
  assert.ok(plain, "secretbox opens with the scrypt key");
  const priv = createPrivateKey({ key: Buffer.from(plain), format: "der", type: "pkcs8" });
  assert.equal(priv.asymmetricKeyDetails?.namedCurve, "prime256v1");
  // …and it is the private half of the written public key.
  assert.equal(
    createPublicKey(priv).export({ format: "pem", type: "spki" }).toString(),
    loadCosignPublicKey(pair.publicKeyPem).export({ format: "pem", type: "spki" }).toString(),
  );
  await rejects(
    loadCosignPrivateKey(pair.privateKeyPem, async () => "nope"),
    /wrong password/,
  );
  await rejects(
    decryptSecretBox(
      Buffer.from(JSON.stringify({ ...doc, kdf: { ...doc.kdf, params: { N: 1 << 30, r: 8, p: 1 } } })),
      "pw",
    ),
    /unexpected scrypt parameters/,
  );
});

test("cosign keys: a key cosign wrote (known answer) is imported and signs", async () => {
  // Written by cosign (N=65536, COSIGN_PASSWORD=""); published as a test key in conforma/cli
  // (internal/validate/vsa tests). Decrypting it and signing with it is the known-answer check.
  const pem = await readFile(join(fixtures, "cosign-written-empty-password.key"), "utf8");
  assert.equal(pemDecode(pem).type, "ENCRYPTED SIGSTORE PRIVATE KEY");
  const priv = await loadCosignPrivateKey(pem, async () => "");
  assert.equal(priv.asymmetricKeyDetails?.namedCurve, "prime256v1");
  const s = signCosign(priv, "127.0.0.1:5000/sig/app", D1);
  assert.equal(verifyCosign(s, [createPublicKey(priv)], { manifestDigest: D1 }).payload.manifestDigest, D1);
  await rejects(
    loadCosignPrivateKey(pem, async () => "not-empty"),
    /wrong password/,
  );
});

test("cosign signatures: published storage format, verification and tampering", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const s = signCosign(privateKey, "127.0.0.1:5000/sig/app", D1);
  assert.equal(signatureTag(D1), `sha256-${"a".repeat(64)}.sig`);
  const m = buildTagManifest([s, s]);
  const doc = JSON.parse(Buffer.from(m.bytes).toString()) as {
    mediaType: string;
    config: { mediaType: string; digest: string };
    layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
  };
  assert.equal(doc.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.equal(doc.config.mediaType, "application/vnd.oci.image.config.v1+json");
  assert.equal(doc.layers.length, 1, "identical signatures are stored once");
  assert.equal(doc.layers[0]!.mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
  assert.equal(doc.layers[0]!.digest, digestOf(s.payload));
  assert.equal(doc.layers[0]!.annotations["dev.cosignproject.cosign/signature"], s.signature);
  const cfg = JSON.parse(Buffer.from(m.blobs.get(doc.config.digest as Digest)!).toString()) as {
    rootfs: { diff_ids: string[] };
  };
  assert.deepEqual(cfg.rootfs.diff_ids, [digestOf(s.payload)]);
  const subject = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: D1, size: 123 };
  const r = JSON.parse(Buffer.from(buildReferrerManifest([s], subject).bytes).toString()) as {
    artifactType: string;
    config: { mediaType: string; size: number };
    subject: unknown;
  };
  assert.equal(r.artifactType, COSIGN_ARTIFACT_TYPE);
  assert.equal(r.config.mediaType, "application/vnd.oci.empty.v1+json");
  assert.equal(r.config.size, 2);
  assert.deepEqual(r.subject, subject);
  const [layer] = signatureLayers(m.bytes);
  assert.equal(layer!.signature, s.signature);
  assert.equal(layer!.descriptor.mediaType, COSIGN_PAYLOAD_MEDIA_TYPE);

  // Fixture written by following SIGNATURE_SPEC.md with node's crypto (ECDSA P-256, SHA-256, ASN.1 DER):
  const fixturePayload = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/sig/app"},"image":{"docker-manifest-digest":"${D1}"},"type":"cosign container image signature"},"optional":null}`,
  );
  const fixtureSig = cryptoSign("sha256", fixturePayload, { key: privateKey, dsaEncoding: "der" }).toString(
    "base64",
  );
  const v = verifyCosign({ payload: fixturePayload, signature: fixtureSig }, [publicKey], {
    manifestDigest: D1,
    image: parseReference("127.0.0.1:5000/sig/app:v1"),
  });
  assert.equal(v.payload.dockerReference, "127.0.0.1:5000/sig/app");

  const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
  await rejects(
    () => verifyCosign(s, [other], { manifestDigest: D1 }),
    /does not verify with key [0-9a-f]{16} \(wrong key/,
  );
  await rejects(
    () => verifyCosign(s, [publicKey], { manifestDigest: D2 }),
    /for manifest sha256:a+, not sha256:b+/,
  );
  const tamperedPayload = Buffer.from(Buffer.from(s.payload).toString().replace("sig/app", "sig/apq"));
  await rejects(
    () => verifyCosign({ ...s, payload: tamperedPayload }, [publicKey], { manifestDigest: D1 }),
    /does not verify/,
  );
  await rejects(
    () => verifyCosign({ ...s, signature: s.signature.slice(0, 20) }, [publicKey], { manifestDigest: D1 }),
    /truncated|does not verify|not base64/,
  );
  await rejects(
    () =>
      verifyCosign({ ...s, signature: Buffer.from(s.signature).toString("base64") }, [publicKey], {
        manifestDigest: D1,
      }),
    /not an ASN.1 DER/,
  );
  // cosign's spec ignores docker-reference; a signedIdentity rule makes it count.
  const elsewhere = signCosign(privateKey, "127.0.0.1:5000/evil/app", D1);
  const image = parseReference("127.0.0.1:5000/sig/app:v1");
  assert.equal(
    verifyCosign(elsewhere, [publicKey], { manifestDigest: D1, image }).payload.dockerReference,
    "127.0.0.1:5000/evil/app",
  );
  await rejects(
    () =>
      verifyCosign(elsewhere, [publicKey], {
        manifestDigest: D1,
        image,
        identity: { type: "matchRepository" },
      }),
    /is for "127.0.0.1:5000\/evil\/app"/,
  );
  await rejects(
    () => verifyCosign({ payload: s.payload, signature: "" }, [publicKey], { manifestDigest: D1 }),
    new RegExp(COSIGN_SIGNATURE_ANNOTATION),
  );
});

test("policy: one file for every kind, globs, first match wins, missing verifiers never pass", async () => {
  assert.ok(globToRegExp("prod/**").test("prod/a/b"));
  assert.ok(globToRegExp("prod/*").test("prod/a"));
  assert.ok(!globToRegExp("prod/*").test("prod/a/b"));
  assert.ok(globToRegExp("**/app").test("x/y/app"));
  assert.ok(globToRegExp("**/app").test("app"));
  const policy = parsePolicy(
    {
      default: "none",
      rules: [
        {
          repositories: ["prod/**"],
          require: "any",
          signedBy: [
            { kind: "gpg", keys: ["k.asc"] },
            { kind: "sigstore", keys: ["c.pub"] },
          ],
        },
        { repositories: "notary/*", signedBy: [{ kind: "notary" }] },
        { repositories: "open/*", require: "none" },
      ],
    },
    { baseDir: "/etc/dockyard" },
  );
  const prod = requirementFor(policy, "prod/web/app");
  assert.equal(prod.require, "any");
  assert.equal(prod.signedBy[0]!.keys[0], "/etc/dockyard/k.asc");
  assert.equal(requirementFor(policy, "notary/x").signedBy[0]!.kind, "notary");
  assert.equal(requirementFor(policy, "elsewhere").require, "none");
  const notary = await evaluateRule(requirementFor(policy, "notary/x"), {});
  assert.equal(notary.ok, false);
  assert.match(notary.details[0]!, /notary verification is not available/);
  const any = await evaluateRule(prod, {
    gpg: async () => ({ ok: false, detail: "no GPG simple signature exists" }),
    sigstore: async () => ({ ok: true, detail: "signed" }),
  });
  assert.equal(any.ok, true);
  const all = await evaluateRule(
    { ...prod, require: "all" },
    {
      gpg: async () => ({ ok: false, detail: "no" }),
      sigstore: async () => ({ ok: true, detail: "signed" }),
    },
  );
  assert.equal(all.ok, false);
  await rejects(
    () => parsePolicy({ rules: [{ repositories: ["x"], require: "any", signedBy: [] }] }),
    /lists no signedBy/,
  );
  await rejects(
    () => parsePolicy({ rules: [{ repositories: ["x"], signedBy: [{ kind: "gpg" }] }] }),
    /needs keys/,
  );
  await rejects(
    () => parsePolicy({ rules: [{ repositories: ["x"], signedBy: [{ kind: "pgp", keys: ["a"] }] }] }),
    /kind must be one of/,
  );
});
