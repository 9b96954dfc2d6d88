// The external cache's format and its import checks, without a runtime: a BuildStore with real
// gzip layer blobs, exported to an OCI layout and imported back (digest, size and diff ID checked).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BuildStore, type LayerRecord } from "../../src/build/cache.js";
import {
  CACHE_CONFIG_MEDIA_TYPE,
  CacheImporter,
  buildCacheConfig,
  cacheManifest,
  exportCache,
  type ExportedStep,
} from "../../src/build/cache-remote.js";
import { parseCacheSpec } from "../../src/build/options.js";
import type { BuildReporter } from "../../src/build/progress.js";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}` as const;

function reporter(lines: string[]): BuildReporter {
  return {
    plan() {},
    step: () => ({ output() {}, done() {}, fail() {} }),
    info: (m) => void lines.push(m),
    close() {},
  };
}

async function layer(store: BuildStore, content: string): Promise<LayerRecord> {
  const tar = Buffer.from(content.padEnd(1024, "\0"));
  const gz = gzipSync(tar);
  const digest = sha(gz);
  const tmp = join(store.tmp, `l-${Math.random()}`);
  await writeFile(tmp, gz);
  await store.adoptBlob(tmp, digest);
  return {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest,
    size: gz.length,
    diffID: sha(tar),
  };
}

test("--cache-from/--cache-to specs: registry (bare ref too), local, modes, errors", () => {
  assert.deepEqual(parseCacheSpec("reg:5000/app:cache", "from"), {
    type: "registry",
    mode: "min",
    ignoreError: false,
    attrs: { ref: "reg:5000/app:cache" },
    ref: "reg:5000/app:cache",
  });
  const to = parseCacheSpec("type=registry,ref=r/a:c,mode=max,ignore-error=true", "to");
  assert.equal(to.mode, "max");
  assert.equal(to.ignoreError, true);
  assert.equal(parseCacheSpec("type=local,dest=/tmp/c", "to").dir, "/tmp/c");
  assert.equal(parseCacheSpec("type=local,src=/tmp/c,tag=v1", "from").tag, "v1");
  assert.throws(() => parseCacheSpec("type=gha", "to"), /type=gha is not supported/);
  assert.throws(() => parseCacheSpec("type=registry,mode=all,ref=x", "to"), /mode=all/);
  assert.throws(() => parseCacheSpec("type=local,dest=/x", "from"), /needs src=DIR/);
  assert.throws(() => parseCacheSpec("type=registry", "to"), /needs ref=/);
  assert.equal(parseCacheSpec("type=inline", "to").type, "inline");
  assert.throws(() => parseCacheSpec("type=inline", "from"), /type=inline is not supported/);
});

test("cacheconfig: BuildKit's shape — layers with parent chains, records with results and input links, empty steps", () => {
  const l1 = {
    mediaType: "m",
    digest: "sha256:" + "1".repeat(64),
    size: 1,
    diffID: "sha256:" + "a".repeat(64),
  };
  const l2 = {
    mediaType: "m",
    digest: "sha256:" + "2".repeat(64),
    size: 2,
    diffID: "sha256:" + "b".repeat(64),
  };
  const steps: ExportedStep[] = [
    { key: "k1", parent: "from", rec: { v: 1, layer: l1 as LayerRecord, created: "t1" } },
    { key: "k2", parent: "k1", rec: { v: 1, created: "t2" } },
    { key: "k3", parent: "k2", rec: { v: 1, layer: l2 as LayerRecord, created: "t3" } },
    { key: "k3", parent: "k2", rec: { v: 1, layer: l2 as LayerRecord, created: "t3" } },
  ];
  const { config, layers } = buildCacheConfig(steps);
  assert.deepEqual(
    layers.map((l) => l.digest),
    [l1.digest, l2.digest],
  );
  assert.deepEqual(
    config.layers!.map((l) => [l.blob, l.parent]),
    [
      [l1.digest, -1],
      [l2.digest, 0], // l2's parent is l1 (through the empty step k2)
    ],
  );
  assert.deepEqual(config.records, [
    { digest: "k1", layers: [{ layer: 0, createdAt: "t1" }] },
    { digest: "k2", emptyLayer: true, createdAt: "t2", inputs: [[{ link: 0 }]] },
    { digest: "k3", layers: [{ layer: 1, createdAt: "t3" }], inputs: [[{ link: 1 }]] },
  ]);
  const m = JSON.parse(Buffer.from(cacheManifest(steps).manifest).toString());
  assert.equal(m.mediaType, "application/vnd.oci.image.manifest.v1+json");
  assert.equal(m.config.mediaType, CACHE_CONFIG_MEDIA_TYPE);
  assert.equal(m.layers[1].annotations["containerd.io/uncompressed"], l2.diffID);
});

test("export to an OCI layout, import on a fresh store: records found, layers pulled and checked; a lying diff ID is refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dy-cachecfg-"));
  try {
    const a = new BuildStore(join(dir, "a"));
    await a.init();
    const l1 = await layer(a, "one");
    const l2 = await layer(a, "two");
    const steps: ExportedStep[] = [
      {
        key: "sha256:k1",
        parent: "sha256:from",
        rec: { v: 1, layer: l1, created: "2023-11-14T22:13:20.000Z" },
      },
      { key: "sha256:k2", parent: "sha256:k1", rec: { v: 1, created: "2023-11-14T22:13:20.000Z" } },
      {
        key: "sha256:k3",
        parent: "sha256:k2",
        rec: { v: 1, layer: l2, created: "2023-11-14T22:13:20.000Z" },
      },
    ];
    const layout = join(dir, "cache");
    const lines: string[] = [];
    const r = await exportCache(steps, parseCacheSpec(`type=local,dest=${layout}`, "to"), {
      store: a,
      reporter: reporter(lines),
    });
    assert.equal(r.pushed, 3); // two layers and the config
    const again = await exportCache(steps, parseCacheSpec(`type=local,dest=${layout}`, "to"), {
      store: a,
      reporter: reporter(lines),
    });
    assert.equal(again.existed, 3);
    assert.equal(again.digest, r.digest);

    const b = new BuildStore(join(dir, "b"));
    await b.init();
    const imp = new CacheImporter([parseCacheSpec(`type=local,src=${layout}`, "from")], {
      store: b,
      reporter: reporter(lines),
    });
    assert.equal(await imp.lookup("sha256:nope"), undefined);
    assert.deepEqual(await imp.lookup("sha256:k2"), steps[1]!.rec);
    assert.deepEqual(await imp.lookup("sha256:k3"), steps[2]!.rec);
    await imp.ready(l2.digest);
    assert.deepEqual(await readFile(b.blobPath(l2.digest)), await readFile(a.blobPath(l2.digest)));
    assert.deepEqual(await b.getStep("sha256:k3"), steps[2]!.rec, "the local step cache has it now");
    assert.equal(await b.hasBlob(l1.digest), false, "only what a step needed is pulled");

    // a cache whose diff ID does not match the layer's content: the pull fails, nothing is kept
    const bad: ExportedStep[] = [
      { key: "sha256:kb", rec: { v: 1, layer: { ...l1, diffID: l2.diffID }, created: "x" } },
    ];
    const badLayout = join(dir, "bad");
    await exportCache(bad, parseCacheSpec(`type=local,dest=${badLayout}`, "to"), {
      store: a,
      reporter: reporter(lines),
    });
    const c = new BuildStore(join(dir, "c"));
    await c.init();
    const imp2 = new CacheImporter([parseCacheSpec(`type=local,src=${badLayout}`, "from")], {
      store: c,
      reporter: reporter(lines),
    });
    assert.ok(await imp2.lookup("sha256:kb"));
    await assert.rejects(imp2.settle(), /its content is sha256:[0-9a-f]+, the cache says/);
    assert.equal(await c.hasBlob(l1.digest), false);
    assert.equal(await c.getStep("sha256:kb"), undefined);
    assert.deepEqual(await c.tempEntries(), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
