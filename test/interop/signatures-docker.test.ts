import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCKER_CLI, needPeers } from "../helpers/peers.js";
import { parsePolicy } from "../../src/trust/policy-file.js";
import { generateCosignKeyPair } from "../../src/trust/signatures/cosign-keys.js";
import { signImage } from "../../src/trust/signatures/operations.js";
import { pushTestImage, startSignatureRegistry } from "../trust/signatures/harness.js";

const run = promisify(execFile);
const skip = needPeers("dockerd");

test(
  "docker pull: an unsigned tag under a require rule fails with a clear error; once signed it pulls",
  { skip, timeout: 120_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-docker-"));
    const keys = await generateCosignKeyPair("pw");
    await writeFile(join(dir, "cosign.key"), keys.privateKeyPem);
    await writeFile(join(dir, "cosign.pub"), keys.publicKeyPem);
    const policy = parsePolicy(
      {
        rules: [
          { repositories: ["signatures-test/**"], signedBy: [{ kind: "sigstore", keys: ["cosign.pub"] }] },
        ],
      },
      { baseDir: dir },
    );
    const reg = await startSignatureRegistry({ policy });
    const image = `${reg.host}/signatures-test/app:1`;
    try {
      const digest = await pushTestImage(reg.host, "signatures-test/app", "1", `docker-pull ${Date.now()}`);
      const failed = await run(DOCKER_CLI, ["pull", image]).then(
        () => undefined,
        (e: Error & { stderr?: string }) => e.stderr ?? e.message,
      );
      assert.ok(failed, "docker pull of the unsigned tag must fail");
      assert.match(
        failed,
        /denied: trust policy refuses signatures-test\/app:1 .*no cosign signature exists/,
      );

      await signImage(`${image}@${digest}`, {
        keyFile: join(dir, "cosign.key"),
        passphrase: async () => "pw",
      });
      const { stdout } = await run(DOCKER_CLI, ["pull", image]);
      assert.match(stdout, new RegExp(digest));
    } finally {
      await run(DOCKER_CLI, ["rmi", "-f", image]).catch(() => undefined);
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
