import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignatureRegistryClient } from "../../../src/trust/signatures/registry-client.js";
import { signatureTag } from "../../../src/trust/signatures/cosign.js";
import { cli, pushTestImage, startSignatureRegistry } from "./harness.js";

const ENV = {
  DOCKYARD_SIGNING_PASSPHRASE: "pw",
  COSIGN_PASSWORD: undefined,
  DOCKYARD_SIGNING_KEY: undefined,
  DOCKYARD_POLICY: undefined,
  DOCKYARD_CONTENT_TRUST: undefined,
};

test(
  "copy carries every signature (gpg and cosign, tag and referrer) and verification at the destination passes; --remove-signatures drops them; pull --verify follows the policy",
  { timeout: 90_000 },
  async () => {
    const a = await startSignatureRegistry();
    const b = await startSignatureRegistry();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-copy-"));
    try {
      const digest = await pushTestImage(a.host, "src/app", "1", "carry me");
      const srcRef = `${a.host}/src/app:1`;
      for (const [fmt, name] of [
        ["gpg", "release"],
        ["sigstore", "cosign"],
      ]) {
        assert.equal(
          (await cli(["trust", "key", "generate", "--format", fmt!, "--dir", dir, name!], ENV)).code,
          0,
        );
      }
      assert.equal(
        (await cli(["trust", "sign", "--kind", "gpg", "--key", join(dir, "release.asc"), srcRef], ENV)).code,
        0,
      );
      assert.equal(
        (await cli(["trust", "sign", "--kind", "sigstore", "--key", join(dir, "cosign.key"), srcRef], ENV))
          .code,
        0,
      );

      let r = await cli(
        ["copy", "--progress", "plain", `docker://${srcRef}`, `docker://${b.host}/dst/app:1`],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /carried 1 GPG signature\(s\) and 2 cosign signature manifest\(s\)/);
      const dst = new SignatureRegistryClient(b.host);
      assert.equal((await dst.getSimpleSignatures("dst/app", digest)).length, 1);
      const srcSig = await new SignatureRegistryClient(a.host).getManifest("src/app", signatureTag(digest));
      const dstSig = await dst.getManifest("dst/app", signatureTag(digest));
      assert.equal(dstSig?.digest, srcSig?.digest, "the .sig manifest is copied byte for byte");
      assert.equal(
        (await dst.referrers("dst/app", digest, "application/vnd.dev.cosign.artifact.sig.v1+json"))?.length,
        1,
      );

      const dstRef = `${b.host}/dst/app:1`;
      // cosign ignores the identity: verifies as is. gpg names the source: accept it explicitly.
      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), dstRef], ENV);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["trust", "verify", "--key", join(dir, "release.pub.asc"), dstRef], ENV);
      assert.equal(r.code, 7, "the gpg identity names the source registry");
      assert.match(r.stderr, new RegExp(`the signature is for "${a.host}/src/app:1"`));
      r = await cli(
        ["trust", "verify", "--key", join(dir, "release.pub.asc"), "--signed-identity", srcRef, dstRef],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      // A policy at the destination with remapIdentity does the same for pulls.
      const policy = join(dir, "policy.yaml");
      await writeFile(
        policy,
        [
          "rules:",
          `  - repositories: ["dst/**"]`,
          "    require: all",
          "    signedBy:",
          "      - kind: gpg",
          "        keys: [release.pub.asc]",
          `        signedIdentity: { type: remapIdentity, prefix: "${b.host}/dst", signedPrefix: "${a.host}/src" }`,
          "      - kind: sigstore",
          "        keys: [cosign.pub]",
          "",
        ].join("\n"),
      );
      r = await cli(["trust", "verify", "--policy", policy, dstRef], ENV);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["pull", "--verify", "--progress", "plain", dstRef], {
        ...ENV,
        DOCKYARD_POLICY: policy,
        DOCKYARD_HOME: join(dir, "home"),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /satisfies .*policy.yaml/);

      // push --sign with the configured key ($DOCKYARD_SIGNING_KEY, a cosign key here).
      r = await cli(["push", "--sign", "--progress", "plain", dstRef, `docker://${b.host}/signed/app:1`], {
        ...ENV,
        DOCKYARD_HOME: join(dir, "home"),
        DOCKYARD_SIGNING_KEY: join(dir, "cosign.key"),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /signed .*sigstore key [0-9a-f]{16}/);
      r = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), `${b.host}/signed/app:1`], ENV);
      assert.equal(r.code, 0, r.stderr);

      // --remove-signatures: none at the destination, and the policy then refuses the pull.
      r = await cli(
        [
          "copy",
          "--remove-signatures",
          "--progress",
          "plain",
          `docker://${srcRef}`,
          `docker://${b.host}/dst/bare:1`,
        ],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await dst.getSimpleSignatures("dst/bare", digest)).length, 0);
      assert.equal(await dst.getManifest("dst/bare", signatureTag(digest)), undefined);
      r = await cli(["pull", "--verify", "--progress", "plain", `${b.host}/dst/bare:1`], {
        ...ENV,
        DOCKYARD_POLICY: policy,
        DOCKYARD_HOME: join(dir, "home"),
      });
      assert.equal(r.code, 7);
      assert.match(r.stderr, /does not satisfy the trust policy.*no GPG simple signature exists/);
      r = await cli(
        [
          "copy",
          "--verify",
          "--progress",
          "plain",
          `docker://${b.host}/dst/bare:1`,
          `oci:${join(dir, "layout")}:1`,
        ],
        { ...ENV, DOCKYARD_POLICY: policy },
      );
      assert.equal(r.code, 7, "copy --verify applies the policy too");
    } finally {
      await a.stop();
      await b.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "build --push --sign: every pushed tag carries a signature that verifies with the public key",
  { timeout: 90_000 },
  async () => {
    const reg = await startSignatureRegistry();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-build-"));
    try {
      assert.equal(
        (await cli(["trust", "key", "generate", "--format", "sigstore", "--dir", dir, "cosign"], ENV)).code,
        0,
      );
      const ctx = join(dir, "ctx");
      const { mkdir } = await import("node:fs/promises");
      await mkdir(ctx);
      await writeFile(join(ctx, "hello.txt"), "signed at build time\n");
      await writeFile(join(ctx, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\n");
      const tags = [`${reg.host}/built/app:1`, `${reg.host}/built/app:latest`];
      const env = { ...ENV, DOCKYARD_HOME: join(dir, "home"), DOCKYARD_SIGNING_KEY: join(dir, "cosign.key") };
      const r = await cli(
        ["build", "--progress", "plain", ...tags.flatMap((t) => ["-t", t]), "--push", "--sign", ctx],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      for (const t of tags) {
        assert.match(r.stderr + r.stdout, new RegExp(`signed: ${t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
        const v = await cli(["trust", "verify", "--key", join(dir, "cosign.pub"), t], ENV);
        assert.equal(v.code, 0, v.stderr);
      }
      // The signature belongs to the pushed digest: an unsigned tag in the same repository fails.
      await pushTestImage(reg.host, "built/app", "unsigned", "not built here");
      const bad = await cli(
        ["trust", "verify", "--key", join(dir, "cosign.pub"), `${reg.host}/built/app:unsigned`],
        ENV,
      );
      assert.notEqual(bad.code, 0);
    } finally {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
