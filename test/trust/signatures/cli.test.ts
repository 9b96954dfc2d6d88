import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf, type Digest } from "../../../src/image/digest.js";
import { SignatureRegistryClient } from "../../../src/trust/signatures/registry-client.js";
import { signatureTag, buildTagManifest } from "../../../src/trust/signatures/cosign.js";
import { parsePolicy } from "../../../src/trust/policy-file.js";
import { cli, pushTestImage, startSignatureRegistry } from "./harness.js";

const PASS = {
  DOCKYARD_SIGNING_PASSPHRASE: "correct horse",
  COSIGN_PASSWORD: undefined,
  DOCKYARD_SIGNING_KEY: undefined,
  DOCKYARD_POLICY: undefined,
};

test(
  "cli: sigstore key generate, sign, verify; wrong key, tampering and a missing signature are refused",
  { timeout: 60_000 },
  async () => {
    const reg = await startSignatureRegistry();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-cli-"));
    try {
      const digest = await pushTestImage(reg.host, "team/app", "1.0");
      const ref = `${reg.host}/team/app:1.0`;
      let r = await cli(["trust", "key", "generate", "--format", "sigstore", "--dir", dir, "cosign"], PASS);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["trust", "key", "generate", "--format", "sigstore", "--dir", dir, "other"], PASS);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        await readFile(join(dir, "cosign.key"), "utf8"),
        /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/,
      );

      // Nothing signed yet: a missing signature is named.
      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), ref], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /no cosign signature exists for this image/);

      r = await cli(["trust", "sign", "--kind", "sigstore", "--key", join(dir, "cosign.key"), ref], {
        ...PASS,
        DOCKYARD_SIGNING_PASSPHRASE: "wrong",
      });
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /wrong password/);
      assert.doesNotMatch(r.stderr + r.stdout, /wrong"|correct horse/, "the passphrase is never printed");

      r = await cli(["trust", "sign", "--kind", "sigstore", "--key", join(dir, "cosign.key"), ref], PASS);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Signed ${reg.host}/team/app \\(${digest}\\)`));
      assert.match(r.stdout, new RegExp(`stored: ${reg.host}/team/app:sha256-[0-9a-f]{64}\\.sig`));
      assert.match(r.stdout, /referrer/);

      // The published layout is in the registry: tag and referrer.
      const client = new SignatureRegistryClient(reg.host);
      const sigManifest = await client.getManifest("team/app", signatureTag(digest));
      assert.ok(sigManifest, "the sha256-<hex>.sig tag exists");
      const refs = await client.referrers(
        "team/app",
        digest,
        "application/vnd.dev.cosign.artifact.sig.v1+json",
      );
      assert.equal(refs?.length, 1, "one cosign referrer");

      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), ref], PASS);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Verified .*sigstore: signed by/s);
      r = await cli(["trust", "verify", "--key", join(dir, "other.pub"), ref], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /does not verify with key [0-9a-f]{16} \(wrong key/);

      // Tamper: replace the .sig manifest's payload with one naming the same digest but altered (and
      // drop the referrer by verifying a second image that only has the tampered tag).
      const digest2 = await pushTestImage(reg.host, "team/app", "2.0", "other content");
      const sigs = (await client.cosignSignatures("team/app", digest)).flatMap((m) => m.signatures);
      const forged = {
        ...sigs[0]!,
        payload: Buffer.from(Buffer.from(sigs[0]!.payload).toString().replace(digest, digest2)),
      };
      await client.pushSignatureManifest("team/app", buildTagManifest([forged]), signatureTag(digest2));
      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), `${reg.host}/team/app:2.0`], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /does not verify with key/);
      // A genuine signature for another digest moved under this image's tag.
      await client.pushSignatureManifest("team/app", buildTagManifest([sigs[0]!]), signatureTag(digest2));
      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), `${reg.host}/team/app:2.0`], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /is for manifest sha256:[0-9a-f]{64}, not sha256/);
      void (digestOf as unknown);
    } finally {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "cli: gpg key generate, sign through the signatures API, verify; policy evaluation",
  { timeout: 60_000 },
  async () => {
    const reg = await startSignatureRegistry();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-cli-"));
    try {
      const digest = await pushTestImage(reg.host, "team/web", "1.0");
      const ref = `${reg.host}/team/web:1.0`;
      assert.equal(
        (await cli(["trust", "key", "generate", "--format", "gpg", "--dir", dir, "release"], PASS)).code,
        0,
      );
      assert.equal(
        (await cli(["trust", "key", "generate", "--format", "gpg", "--dir", dir, "stranger"], PASS)).code,
        0,
      );
      let r = await cli(["trust", "sign", "--kind", "gpg", "--key", join(dir, "release.asc"), ref], PASS);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`Signed ${reg.host}/team/web:1.0 \\(${digest}\\) with gpg key [0-9A-F]{40}`),
      );
      r = await cli(["trust", "verify", "--key", join(dir, "release.pub.asc"), ref], PASS);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["trust", "verify", "--key", join(dir, "stranger.pub.asc"), ref], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /unknown key/);
      // By digest only the repository must match; another tag is another identity.
      r = await cli(
        ["trust", "verify", "--key", join(dir, "release.pub.asc"), `${reg.host}/team/web@${digest}`],
        PASS,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await pushTestImage(reg.host, "team/web", "latest"), digest);
      r = await cli(
        ["trust", "verify", "--key", join(dir, "release.pub.asc"), `${reg.host}/team/web:latest`],
        PASS,
      );
      assert.equal(r.code, 7);
      // Same content, same digest: the signature exists but names tag 1.0, not latest.
      assert.match(r.stderr, /the signature is for ".*\/team\/web:1.0", not .*team\/web:latest/);

      // The policy file: gpg for team/**, nothing for open/*.
      const policyPath = join(dir, "policy.yaml");
      await writeFile(
        policyPath,
        `default: none\nrules:\n  - repositories: ["team/**"]\n    require: any\n    signedBy:\n      - kind: gpg\n        keys: [release.pub.asc]\n`,
      );
      r = await cli(["trust", "verify", "--policy", policyPath, ref], PASS);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /gpg: signed by [0-9A-F]{40}/);
      r = await cli(["trust", "verify", "--policy", policyPath, `${reg.host}/team/web:latest`], PASS);
      assert.equal(r.code, 7);
      assert.match(r.stderr, /does not satisfy the trust policy/);
      void parsePolicy;
      void (digest as Digest);
    } finally {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "signatures API honours the registry's auth (basic): 401 without credentials, sign and verify with them",
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-auth-"));
    const bcrypt = (await import("bcryptjs")).default;
    await writeFile(join(dir, "htpasswd"), `ci:${bcrypt.hashSync("s3cret", 4)}\n`);
    const reg = await startSignatureRegistry({
      config: { auth: { htpasswd: { path: join(dir, "htpasswd"), realm: "t" } } },
    });
    const AUTH = { ...PASS, DOCKYARD_REGISTRY_AUTH: "ci:s3cret" };
    try {
      const D = `sha256:${"c".repeat(64)}`;
      const anon = await fetch(`${reg.url}/extensions/v2/team/app/signatures/${D}`);
      assert.equal(anon.status, 401);
      assert.equal(anon.headers.get("x-registry-supports-signatures"), "1");
      assert.match(anon.headers.get("www-authenticate") ?? "", /^Basic/);
      const ping = await fetch(`${reg.url}/v2/`);
      assert.equal(ping.status, 401);
      assert.equal(ping.headers.get("x-registry-supports-signatures"), "1", "advertised on the 401 ping too");

      process.env.DOCKYARD_REGISTRY_AUTH = "ci:s3cret";
      let digest: string;
      try {
        digest = await pushTestImage(reg.host, "team/app", "1");
      } finally {
        delete process.env.DOCKYARD_REGISTRY_AUTH;
      }
      assert.equal(
        (await cli(["trust", "key", "generate", "--format", "gpg", "--dir", dir, "k"], PASS)).code,
        0,
      );
      let r = await cli(
        ["trust", "sign", "--kind", "gpg", "--key", join(dir, "k.asc"), `${reg.host}/team/app:1`],
        PASS,
      );
      assert.notEqual(r.code, 0, "no credentials, no signing");
      r = await cli(
        ["trust", "sign", "--kind", "gpg", "--key", join(dir, "k.asc"), `${reg.host}/team/app:1`],
        AUTH,
      );
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["trust", "verify", "--key", join(dir, "k.pub.asc"), `${reg.host}/team/app:1`], AUTH);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(digest));
    } finally {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
