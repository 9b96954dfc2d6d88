import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePolicy } from "../../../src/trust/policy-file.js";
import { generateCosignKeyPair } from "../../../src/trust/signatures/cosign-keys.js";
import { generateGpgKey } from "../../../src/trust/signatures/gpg.js";
import { signImage } from "../../../src/trust/signatures/operations.js";
import { writeFile } from "node:fs/promises";
import { pushTestImage, startSignatureRegistry } from "./harness.js";

const ACCEPT = "application/vnd.oci.image.manifest.v1+json";

test(
  "registry policy: unsigned tags under a require rule are refused by tag, signed ones served; signed tags are not replaced",
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-pol-"));
    const cosign = await generateCosignKeyPair("pw");
    const gpg = await generateGpgKey({ name: "release" });
    await writeFile(join(dir, "cosign.key"), cosign.privateKeyPem);
    await writeFile(join(dir, "cosign.pub"), cosign.publicKeyPem);
    await writeFile(join(dir, "release.asc"), gpg.privateKey);
    await writeFile(join(dir, "release.pub.asc"), gpg.publicKey);
    const policy = parsePolicy(
      {
        rules: [
          {
            repositories: ["prod/**"],
            require: "any",
            signedBy: [
              { kind: "sigstore", keys: ["cosign.pub"] },
              { kind: "gpg", keys: ["release.pub.asc"] },
            ],
          },
          { repositories: ["open/*"], require: "none" },
        ],
      },
      { baseDir: dir },
    );
    const reg = await startSignatureRegistry({ policy });
    const env = process.env.DOCKYARD_SIGNING_PASSPHRASE;
    process.env.DOCKYARD_SIGNING_PASSPHRASE = "pw";
    try {
      const get = (path: string) => fetch(`${reg.url}/v2/${path}`, { headers: { Accept: ACCEPT } });
      const d1 = await pushTestImage(reg.host, "prod/app", "1", "one");
      await pushTestImage(reg.host, "open/app", "1", "one");
      let res = await get("prod/app/manifests/1");
      assert.equal(res.status, 403);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]!.code, "DENIED");
      assert.match(
        body.errors[0]!.message,
        /trust policy refuses prod\/app:1 .*no cosign signature exists.*no GPG simple signature exists/,
      );
      assert.equal((await fetch(`${reg.url}/v2/prod/app/manifests/1`, { method: "HEAD" })).status, 403);
      assert.equal((await get(`prod/app/manifests/${d1}`)).status, 200, "by digest is content-addressed");
      assert.equal((await get("open/app/manifests/1")).status, 200, "no rule, no requirement");

      // Signed with cosign → served by tag.
      await signImage(`${reg.host}/prod/app:1@${d1}`, { keyFile: join(dir, "cosign.key") });
      res = await get("prod/app/manifests/1");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("docker-content-digest"), d1);

      // A GPG signature satisfies the rule too (any).
      const d2 = await pushTestImage(reg.host, "prod/web", "1", "two");
      assert.equal((await get("prod/web/manifests/1")).status, 403);
      await signImage(`${reg.host}/prod/web:1@${d2}`, { keyFile: join(dir, "release.asc") });
      assert.equal((await get("prod/web/manifests/1")).status, 200);

      // A signature by a key the policy does not list does not count.
      const stranger = await generateCosignKeyPair("pw");
      await writeFile(join(dir, "stranger.key"), stranger.privateKeyPem);
      const d3 = await pushTestImage(reg.host, "prod/other", "1", "three");
      await assert.rejects(
        signImage(`${reg.host}/prod/other:1`, { keyFile: join(dir, "stranger.key") }),
        /name its digest too/,
      );
      await signImage(`${reg.host}/prod/other:1@${d3}`, { keyFile: join(dir, "stranger.key") });
      res = await get("prod/other/manifests/1");
      assert.equal(res.status, 403);
      assert.match(await res.text(), /does not verify with any of|does not verify with key/);

      // Replacing a signed tag with unsigned content is refused; the signature tag itself may move.
      await assert.rejects(
        pushTestImage(reg.host, "prod/app", "1", "evil"),
        /access denied .*prod\/app:1 is signed .*refuses to replace it/,
      );
      res = await get(`prod/app/manifests/1`);
      assert.equal(res.headers.get("docker-content-digest"), d1, "the tag still names the signed digest");
    } finally {
      if (env === undefined) delete process.env.DOCKYARD_SIGNING_PASSPHRASE;
      else process.env.DOCKYARD_SIGNING_PASSPHRASE = env;
      await reg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
