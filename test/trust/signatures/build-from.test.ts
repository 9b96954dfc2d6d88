import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, pushTestImage, startSignatureRegistry } from "./harness.js";

const ENV = {
  DOCKYARD_SIGNING_PASSPHRASE: "pw",
  COSIGN_PASSWORD: undefined,
  DOCKYARD_SIGNING_KEY: undefined,
};

test(
  "build: FROM follows the client trust policy (unsigned base refused, signed base built; by digest)",
  { timeout: 90_000 },
  async () => {
    const reg = await startSignatureRegistry();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-from-"));
    try {
      const digest = await pushTestImage(reg.host, "base/app", "1", "base layer");
      assert.equal(
        (await cli(["trust", "key", "generate", "--format", "sigstore", "--dir", dir, "cosign"], ENV)).code,
        0,
      );
      await writeFile(
        join(dir, "policy.yaml"),
        `rules:\n  - repositories: ["base/**"]\n    signedBy:\n      - kind: sigstore\n        keys: [cosign.pub]\n`,
      );
      const ctx = join(dir, "ctx");
      await mkdir(ctx);
      await writeFile(join(ctx, "Dockerfile"), `FROM ${reg.host}/base/app:1\nLABEL signed=yes\n`);
      const env = { ...ENV, DOCKYARD_POLICY: join(dir, "policy.yaml"), DOCKYARD_HOME: join(dir, "home") };
      let r = await cli(["build", "--progress", "plain", "-t", "from-test:1", ctx], env);
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /does not satisfy the trust policy.*no cosign signature exists/);
      assert.equal(
        (
          await cli(
            [
              "trust",
              "sign",
              "--kind",
              "sigstore",
              "--key",
              join(dir, "cosign.key"),
              `${reg.host}/base/app:1`,
            ],
            ENV,
          )
        ).code,
        0,
      );
      r = await cli(["build", "--progress", "plain", "-t", "from-test:1", ctx], env);
      assert.equal(r.code, 0, r.stderr);
      void digest;
    } finally {
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
