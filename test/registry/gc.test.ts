import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { runGc } from "../../src/registry/gc.js";
import { FilesystemDriver } from "../../src/registry/storage/filesystem.js";
import { startRegistry, pushBlob, pushImage, sha256, OCI_MANIFEST, type TestRegistry } from "./client.js";
import { BIN } from "./helpers.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function blobOk(R: TestRegistry, repo: string, digest: string): Promise<boolean> {
  const r = await fetch(`${R.url}/v2/${repo}/blobs/${digest}`);
  if (r.status !== 200) return false;
  return sha256(Buffer.from(await r.arrayBuffer())) === digest;
}

test(
  "gc: dry run deletes nothing; gc deletes unreferenced blobs; --delete-untagged deletes unreachable manifests",
  { timeout: 60_000 },
  async () => {
    const R = await startRegistry();
    try {
      const a = await pushImage(R.url, "gc/app", "keep", { seed: "a" });
      const b = await pushImage(R.url, "gc/app", "moving", { seed: "b" });
      // move the tag away from b: b is now untagged
      await fetch(`${R.url}/v2/gc/app/manifests/moving`, {
        method: "PUT",
        body: new Uint8Array(a.bytes),
        headers: { "Content-Type": OCI_MANIFEST },
      });
      // a signature-like referrer of a (untagged, but reachable through its subject)
      const empty = await pushBlob(R.url, "gc/app", "{}");
      const sig = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: "application/vnd.example.sig",
          config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 },
          layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 }],
          subject: { mediaType: OCI_MANIFEST, digest: a.digest, size: a.bytes.length },
        }),
      );
      assert.equal(
        (
          await fetch(`${R.url}/v2/gc/app/manifests/${sha256(sig)}`, {
            method: "PUT",
            body: new Uint8Array(sig),
            headers: { "Content-Type": OCI_MANIFEST },
          })
        ).status,
        201,
      );
      const orphan = await pushBlob(R.url, "gc/app", randomBytes(5000));
      await sleep(1100); // gc adds a 1 s margin for filesystem timestamp granularity
      const driver = new FilesystemDriver(R.data);

      const dry = await runGc(driver, { dryRun: true, graceMs: 0 });
      assert.equal(dry.deletedBlobs, 1);
      assert.ok(await blobOk(R, "gc/app", orphan), "dry run deletes nothing");

      // a young orphan is kept by the grace period
      const young = await runGc(driver, { graceMs: 3600_000 });
      assert.equal(young.deletedBlobs, 0);
      assert.ok(young.keptYoung >= 1);

      const r1 = await runGc(driver, { graceMs: 0 });
      assert.equal(r1.deletedBlobs, 1);
      assert.equal(r1.deletedManifests, 0);
      await sleep(2500); // the server follows gc/journal.json
      assert.equal(await blobOk(R, "gc/app", orphan), false);
      for (const d of [a.config, a.layer, b.config, b.layer]) assert.ok(await blobOk(R, "gc/app", d));

      // the CLI, with --delete-untagged: b (manifest, config, layer) goes, a and its referrer stay
      const cli = spawnSync(
        process.execPath,
        [BIN, "registry", "gc", "--data", R.data, "--delete-untagged", "--grace", "0s"],
        { encoding: "utf8" },
      );
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /deleted 3 blob\(s\), \d+ bytes, 1 manifest\(s\)/);
      await sleep(2500);
      assert.equal((await fetch(`${R.url}/v2/gc/app/manifests/${b.digest}`)).status, 404);
      assert.equal(await blobOk(R, "gc/app", b.layer), false);
      assert.equal((await fetch(`${R.url}/v2/gc/app/manifests/keep`)).status, 200);
      assert.equal((await fetch(`${R.url}/v2/gc/app/manifests/${sha256(sig)}`)).status, 200);
      for (const d of [a.config, a.layer, empty]) assert.ok(await blobOk(R, "gc/app", d));
    } finally {
      await R.close();
    }
  },
);

async function pushLoad(
  R: TestRegistry,
  workers: number,
  untilMs: number,
): Promise<{ ok: { repo: string; digest: string; config: string; layer: string }[]; failed: string[] }> {
  const ok: { repo: string; digest: string; config: string; layer: string }[] = [];
  const failed: string[] = [];
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let i = 0;
      while (Date.now() < untilMs) {
        const repo = `gc/load${w}`;
        try {
          const img = await pushImage(R.url, repo, `t${i}`, {
            seed: `${w}-${i}-${randomBytes(4).toString("hex")}`,
          });
          ok.push({ repo, ...img });
        } catch (err) {
          failed.push(String((err as Error).message));
        }
        i++;
      }
    }),
  );
  return { ok, failed };
}

test("gc while pushes keep coming: nothing pushed is lost; old orphans go", { timeout: 90_000 }, async () => {
  const R = await startRegistry();
  try {
    const orphans = await Promise.all(
      [1, 2, 3].map((i) => pushBlob(R.url, "gc/orphans", `orphan ${i} ${randomBytes(8).toString("hex")}`)),
    );
    await sleep(2200); // older than grace (1 s) + the 1 s timestamp margin
    const driver = new FilesystemDriver(R.data);
    const until = Date.now() + 4000;
    const load = pushLoad(R, 4, until);
    let runs = 0;
    let deleted = 0;
    while (Date.now() < until) {
      const r = await runGc(driver, { graceMs: 1000 });
      deleted += r.deletedBlobs;
      runs++;
    }
    const { ok, failed } = await load;
    assert.ok(runs >= 2, `gc ran ${runs} times`);
    assert.deepEqual(failed, [], "no push failed while gc ran with a 1 s grace period");
    assert.ok(ok.length > 20, `${ok.length} images pushed during gc`);
    assert.ok(deleted >= 3, "the old orphans were collected");
    await runGc(driver, { graceMs: 0 });
    await sleep(2500);
    for (const o of orphans) assert.equal(await blobOk(R, "gc/orphans", o), false);
    for (const img of ok) {
      const m = await fetch(`${R.url}/v2/${img.repo}/manifests/${img.digest}`);
      assert.equal(m.status, 200);
      assert.ok(await blobOk(R, img.repo, img.config), `config of ${img.repo}@${img.digest}`);
      assert.ok(await blobOk(R, img.repo, img.layer), `layer of ${img.repo}@${img.digest}`);
    }
  } finally {
    await R.close();
  }
});

test(
  "gc with no grace racing pushes: every push either completes intact or fails cleanly",
  { timeout: 90_000 },
  async () => {
    const R = await startRegistry();
    try {
      const driver = new FilesystemDriver(R.data);
      const until = Date.now() + 3000;
      const load = pushLoad(R, 4, until);
      const gcLog: string[] = [];
      while (Date.now() < until) {
        const t0 = Date.now();
        await runGc(driver, { graceMs: 0, log: (l) => gcLog.push(`${t0} ${Date.now()} ${l}`) });
      }
      const { ok, failed } = await load;
      for (const f of failed) assert.match(f, /MANIFEST_BLOB_UNKNOWN|PUT 404|BLOB_UNKNOWN/, f);
      await sleep(2500);
      // what succeeded and is still referenced is intact: nothing half-deleted is served
      for (const img of ok) {
        const m = await fetch(`${R.url}/v2/${img.repo}/manifests/${img.digest}`);
        assert.equal(m.status, 200);
        for (const d of [img.config, img.layer])
          assert.ok(
            await blobOk(R, img.repo, d),
            `${img.repo}@${img.digest}: ${d} lost\n${gcLog.filter((l) => l.includes(d.slice(7, 30))).join("\n")}`,
          );
      }
    } finally {
      await R.close();
    }
  },
);

test("gc: removes old blob directories that lost their data file (a kill between mkdir and rename), keeps young ones and real blobs", async () => {
  const { mkdtemp, mkdir, writeFile, utimes, rm, stat } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const root = await mkdtemp(join(tmpdir(), "dockyard-gc-empty-"));
  try {
    const dirOf = (hex: string): string => join(root, "blobs", "sha256", hex.slice(0, 2), hex);
    const oldEmpty = randomBytes(32).toString("hex");
    const youngEmpty = randomBytes(32).toString("hex");
    const content = randomBytes(100);
    const real = sha256(content).slice("sha256:".length);
    for (const hex of [oldEmpty, youngEmpty, real]) await mkdir(dirOf(hex), { recursive: true });
    await writeFile(join(dirOf(real), "data"), content);
    const past = new Date(Date.now() - 2 * 3600_000);
    for (const p of [dirOf(oldEmpty), dirOf(real), join(dirOf(real), "data")]) await utimes(p, past, past);
    const driver = new FilesystemDriver(root);

    const dry = await runGc(driver, { dryRun: true });
    assert.equal(dry.removedEmptyDirs, 1);
    assert.ok((await stat(dirOf(oldEmpty))).isDirectory(), "a dry run removes nothing");

    const r = await runGc(driver);
    assert.equal(r.removedEmptyDirs, 1);
    await assert.rejects(stat(dirOf(oldEmpty)), { code: "ENOENT" });
    assert.ok((await stat(dirOf(youngEmpty))).isDirectory(), "a young directory may be a write in progress");
    assert.ok(
      (await stat(join(dirOf(real), "data"))).isFile(),
      "a directory with its data is a blob, not debris",
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
