import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Digest } from "../../src/image/digest.js";
import { parseReference } from "../../src/image/reference.js";
import { needPeers } from "../helpers/peers.js";
import { readPublicKeys, readSigningKey, signGpg, verifyGpg } from "../../src/trust/signatures/gpg.js";
import { SignatureRegistryClient } from "../../src/trust/signatures/registry-client.js";
import { cli, makeGnupgHome, makeOciLayout, startSignatureRegistry } from "../trust/signatures/harness.js";

const run = promisify(execFile);
const skip = needPeers("skopeo", "gpg");

/**
 * skopeo (containers/image) against the registry's signatures API extension: `--sign-by` stores
 * a simple signature through X-Registry-Supports-Signatures, a `signedBy` policy verifies it, and
 * tampering is caught; dockyard and skopeo accept each other's signatures.
 */
test(
  "skopeo --sign-by stores in the registry, signedBy verifies, tampering fails; dockyard ⇄ skopeo",
  { skip, timeout: 180_000 },
  async () => {
    const reg = await startSignatureRegistry();
    const gpg = await makeGnupgHome();
    const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-skopeo-"));
    try {
      const env = { ...process.env, GNUPGHOME: gpg.home };
      await mkdir(join(dir, "registries.d"));
      const common = ["--registries.d", join(dir, "registries.d")];
      const { manifestDigest } = await makeOciLayout(join(dir, "img"), "v1", "signed content");
      const ref = `${reg.host}/sigtest/app:v1`;
      await run(
        "skopeo",
        [
          ...common,
          "copy",
          "--dest-tls-verify=false",
          "--sign-by",
          gpg.fingerprint,
          `oci:${join(dir, "img")}:v1`,
          `docker://${ref}`,
        ],
        { env },
      );

      // The signature is in the registry, through the API extension.
      const client = new SignatureRegistryClient(reg.host);
      assert.equal(await client.supportsSignatureExtension(), true);
      const stored = await client.getSimpleSignatures("sigtest/app", manifestDigest);
      assert.equal(stored.length, 1);
      assert.match(stored[0]!.name, new RegExp(`^${manifestDigest}@[0-9a-f]{32}$`));

      // dockyard verifies skopeo's signature.
      const keys = await readPublicKeys(gpg.publicKey);
      const v = await verifyGpg(stored[0]!.content, keys, { manifestDigest, image: parseReference(ref) });
      assert.equal(v.fingerprint, gpg.fingerprint);
      assert.equal(v.payload.dockerReference, ref);

      // …and so does the CLI, with the binary key gpg exported.
      await writeFile(join(dir, "pub.gpg"), gpg.publicKey);
      const r = await cli(["trust", "verify", "--key", join(dir, "pub.gpg"), ref]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`gpg: signed by ${gpg.fingerprint} as ${ref}`));

      // skopeo verifies with a signedBy policy.
      const policy = (keyPath: string) => ({
        default: [{ type: "reject" }],
        transports: {
          docker: { [reg.host]: [{ type: "signedBy", keyType: "GPGKeys", keyPath }] },
          dir: { "": [{ type: "insecureAcceptAnything" }] },
        },
      });
      await writeFile(join(dir, "policy.json"), JSON.stringify(policy(join(dir, "pub.gpg"))));
      const pull = (src: string, out: string) =>
        run(
          "skopeo",
          [
            ...common,
            "--policy",
            join(dir, "policy.json"),
            "copy",
            "--src-tls-verify=false",
            `docker://${src}`,
            `dir:${join(dir, out)}`,
          ],
          { env },
        );
      await pull(ref, "out1");

      // Tamper with the image: the tag now names different content with no signature.
      const { manifestDigest: other } = await makeOciLayout(join(dir, "img2"), "v1", "tampered content");
      await run(
        "skopeo",
        [...common, "copy", "--dest-tls-verify=false", `oci:${join(dir, "img2")}:v1`, `docker://${ref}`],
        { env },
      );
      await assert.rejects(pull(ref, "out2"), (e: Error & { stderr?: string }) =>
        /A signature was required, but no signature exists/.test(e.stderr ?? e.message),
      );

      // Tamper with the signature: skopeo's signature for the first digest is stored for the second.
      // The registry refuses it (its payload names another digest)…
      const mismatch = await fetch(`http://${reg.host}/extensions/v2/sigtest/app/signatures/${other}`, {
        method: "PUT",
        body: JSON.stringify({
          schemaVersion: 2,
          name: `${other}@${"0".repeat(32)}`,
          type: "atomic",
          content: Buffer.from(stored[0]!.content).toString("base64"),
        }),
      });
      assert.equal(mismatch.status, 400);
      assert.match(await mismatch.text(), /is for manifest sha256:[0-9a-f]{64}, not sha256/);
      // …and a good signature with one flipped bit in its signature value (the last bytes of an
      // uncompressed message; skopeo's own output is compressed, where a flip breaks parsing and
      // the registry refuses it) is stored, and makes skopeo fail.
      const ref0 = `${reg.host}/sigtest/flip:v1`;
      const flipKey = await readSigningKey(gpg.secretKeyArmored, async () => "");
      const flipped = Buffer.from(await signGpg(flipKey, ref0, manifestDigest));
      flipped[flipped.length - 2]! ^= 0x01;
      await run(
        "skopeo",
        [...common, "copy", "--dest-tls-verify=false", `oci:${join(dir, "img")}:v1`, `docker://${ref0}`],
        { env },
      );
      await reg.core.add(reg.ctx, "sigtest/flip", manifestDigest, flipped);
      assert.equal((await client.getSimpleSignatures("sigtest/flip", manifestDigest)).length, 1);
      await assert.rejects(pull(ref0, "out3"), (e: Error & { stderr?: string }) =>
        /Invalid GPG signature/.test(e.stderr ?? e.message),
      );

      // dockyard's signature is accepted by skopeo (same key, exported secret key).
      const dref = `${reg.host}/sigtest/dockyard:v1`;
      await run(
        "skopeo",
        [...common, "copy", "--dest-tls-verify=false", `oci:${join(dir, "img")}:v1`, `docker://${dref}`],
        { env },
      );
      const signing = await readSigningKey(gpg.secretKeyArmored, async () => "");
      await client.putSimpleSignature(
        "sigtest/dockyard",
        manifestDigest,
        await signGpg(signing, dref, manifestDigest),
      );
      await pull(dref, "out4");
      assert.ok((await readFile(join(dir, "out4", "manifest.json"))).length > 0);
      // …and refused by skopeo for another identity (dockyard signed "…/dockyard:v1", pulled as ":v2").
      await run(
        "skopeo",
        [
          ...common,
          "copy",
          "--dest-tls-verify=false",
          `oci:${join(dir, "img")}:v1`,
          `docker://${reg.host}/sigtest/dockyard:v2`,
        ],
        { env },
      );
      await assert.rejects(
        pull(`${reg.host}/sigtest/dockyard:v2`, "out5"),
        (e: Error & { stderr?: string }) =>
          /Signature for identity \S+\/sigtest\/dockyard:v1 is not accepted/.test(e.stderr ?? e.message),
      );
      void (other as Digest);
    } finally {
      await reg.stop();
      await gpg.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
