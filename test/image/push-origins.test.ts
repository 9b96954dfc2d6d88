// Pushing from the local store: blob origins recorded on pull and push let a push mount instead
// of upload (and skip existence checks the record answers), and loopback registries' schemes
// are remembered so a known registry is not probed. Against the reference registry
// (distribution), through a proxy that logs every request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Readable } from "node:stream";
import {
  copy,
  digestOf,
  LocalStore,
  MediaType,
  OciLayout,
  RegistryClient,
  closeRegistryClients,
  schemeMemoryPath,
  serializeManifest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from "../../src/image/index.js";
import { BUILT_ANNOTATION } from "../../src/image/transports/store.js";
import { REF_NAME } from "../../src/image/transports/oci-layout.js";
import type { Progress } from "../../src/util/progress.js";
import { StoreResolver } from "../../src/build/image.js";
import { needPeers } from "../helpers/peers.js";
import { BIN } from "../registry/helpers.js";
import { makeTls } from "../trust/tls.js";
import {
  makeImage,
  putImage,
  startAuthProxy,
  startReferenceRegistry,
  tarOf,
  tempDir,
  type AuthProxy,
  type RunningRegistry,
  type TestImage,
} from "./helpers.js";

const skip = needPeers("docker-registry");
let reg: RunningRegistry;
let proxy: AuthProxy;
let work: string;
let base: TestImage;
const savedHome = process.env.DOCKYARD_HOME;

before(async () => {
  work = await tempDir();
  // the shared clients (the builder's) remember schemes under DOCKYARD_HOME: keep it private
  process.env.DOCKYARD_HOME = join(work, "default-home");
  if (skip) return;
  reg = await startReferenceRegistry();
  proxy = await startAuthProxy(reg.host);
  base = await makeImage(1, { seed: "base" });
  const layout = new OciLayout(join(work, "base-layout"));
  await putImage(layout, base, "1");
  const c = new RegistryClient(reg.host, { stateDir: false });
  await copy(layout, "1", c.repository("move/base", { push: true }), "1");
  c.close();
});
after(async () => {
  closeRegistryClients();
  if (savedHome === undefined) delete process.env.DOCKYARD_HOME;
  else process.env.DOCKYARD_HOME = savedHome;
  await proxy?.close();
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A progress reporter that keeps each task's final status: "layer 1a2b…: mounted from x". */
function recorder(): Progress & { finished: Map<string, string> } {
  const finished = new Map<string, string>();
  return {
    mode: "plain",
    finished,
    task: (id) => ({ advance() {}, finish: (s = "done") => void finished.set(id, s), fail() {} }),
    info() {},
    close() {},
  };
}

/** An image on top of `base`'s layer (one new layer), written into `store` as `ref`. */
async function derivedImage(
  store: LocalStore,
  ref: string,
  seed: string,
  annotations?: Record<string, string>,
) {
  const baseManifest = JSON.parse(Buffer.from(base.manifest).toString()) as ImageManifest;
  const tar = await tarOf([{ name: "app.txt", body: `app ${seed}\n` }]);
  const gz = gzipSync(tar);
  const cfg: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [digestOf(base.layers[0]!.tar), digestOf(tar)] },
  };
  const config = Buffer.from(JSON.stringify(cfg));
  const layer: Descriptor = { mediaType: MediaType.dockerLayerGzip, digest: digestOf(gz), size: gz.length };
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: digestOf(config), size: config.length },
    layers: [baseManifest.layers[0]!, layer],
  };
  await store.writeBlob(m.config, Readable.from([config]));
  await store.writeBlob(layer, Readable.from([gz]));
  const bytes = serializeManifest(m);
  const desc = await store.writeManifest(
    ref,
    bytes,
    MediaType.dockerManifest,
    annotations ? { annotations } : {},
  );
  return {
    desc,
    baseLayer: baseManifest.layers[0]!,
    layer,
    config: m.config,
    uploaded: gz.length + config.length,
  };
}

const mountQuery = (digest: string, from: string) =>
  `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;

test(
  "a push from the store mounts what a pull brought from that registry; the next push mounts all",
  { skip },
  async () => {
    const store = new LocalStore(join(work, "home1"));
    const client = new RegistryClient(proxy.host, { stateDir: false });
    await copy(client.repository("move/base"), "1", store, `${proxy.host}/move/base:1`);
    const img = await derivedImage(store, "app:1", "one");
    assert.deepEqual(await store.blobOrigins(img.baseLayer, proxy.host), [
      { registry: proxy.host, repository: "move/base" },
    ]);

    proxy.requests.length = 0;
    proxy.uploadedBytes = 0;
    const progress = recorder();
    const r1 = await copy(store, "app:1", client.repository("move/app1", { push: true }), "1", { progress });
    assert.equal(r1.blobsMounted, 1);
    assert.equal(r1.blobsCopied, 2);
    assert.equal(progress.finished.get(img.baseLayer.digest), "mounted from move/base");
    assert.equal(proxy.uploadedBytes, img.uploaded, "the base layer's bytes are not sent");
    assert.ok(
      proxy.requests.includes(
        `POST /v2/move/app1/blobs/uploads/${mountQuery(img.baseLayer.digest, "move/base")}`,
      ),
      proxy.requests.join("\n"),
    );
    // Nothing is recorded in move/app1 yet, so nothing is asked: no existence checks.
    assert.equal(proxy.requests.filter((q) => q.startsWith("HEAD")).length, 0, proxy.requests.join("\n"));
    // POST (the mount answers 201) + POST/PUT for the config and the new layer + the manifest.
    assert.equal(proxy.requests.length, 6, proxy.requests.join("\n"));

    // The push recorded move/app1 for every blob: a push to a new repository mounts them all.
    proxy.requests.length = 0;
    proxy.uploadedBytes = 0;
    const r2 = await copy(store, "app:1", client.repository("move/app2", { push: true }), "1");
    assert.equal(r2.blobsMounted, 3);
    assert.equal(proxy.uploadedBytes, 0);
    assert.equal(proxy.requests.length, 4, proxy.requests.join("\n"));
    assert.equal((await client.repository("move/app2").resolve("1")).digest, img.desc.digest);

    // Pushed there before: the record says so, the existence checks answer, nothing is sent.
    proxy.requests.length = 0;
    const r3 = await copy(store, "app:1", client.repository("move/app2", { push: true }), "again");
    assert.equal(r3.blobsSkipped, 3);
    assert.deepEqual(
      proxy.requests.map((q) => q.split(" ")[0]),
      ["HEAD", "HEAD", "HEAD", "PUT"],
      proxy.requests.join("\n"),
    );
    client.close();
  },
);

test(
  "a store without records (pulled by an older dockyard) mounts from the repository an image is tagged with",
  { skip },
  async () => {
    const home = join(work, "home5");
    const store = new LocalStore(home);
    const client = new RegistryClient(proxy.host, { stateDir: false });
    await copy(client.repository("move/base"), "1", store, `${proxy.host}/move/base:1`);
    await rm(join(home, "blob-origins"), { recursive: true, force: true });
    const img = await derivedImage(store, "app:5", "five");
    proxy.requests.length = 0;
    proxy.uploadedBytes = 0;
    const progress = recorder();
    const r = await copy(store, "app:5", client.repository("move/app5", { push: true }), "1", { progress });
    assert.equal(r.blobsMounted, 1);
    assert.equal(progress.finished.get(img.baseLayer.digest), "mounted from move/base");
    assert.equal(proxy.uploadedBytes, img.uploaded);
    client.close();
  },
);

test(
  "a built image's tag is no hint: it is not mounted from the repository it is named after",
  { skip },
  async () => {
    const store = new LocalStore(join(work, "home7"));
    const client = new RegistryClient(proxy.host, { stateDir: false });
    await copy(client.repository("move/base"), "1", store, `${proxy.host}/move/base:1`);
    // built here and tagged for the registry, never pushed there (as `build -t host/app:1`)
    const img = await derivedImage(store, `${proxy.host}/move/built:1`, "seven", {
      [BUILT_ANNOTATION]: "true",
    });
    // …and `dockyard tag` keeps the mark
    await store.tag(`${proxy.host}/move/built:1`, `${proxy.host}/move/built:2`);
    proxy.requests.length = 0;
    const progress = recorder();
    const r = await copy(
      store,
      `${proxy.host}/move/built:2`,
      client.repository("move/app7", { push: true }),
      "1",
      {
        progress,
      },
    );
    assert.equal(r.blobsMounted, 1, "the base layer, from where it was pulled");
    assert.equal(progress.finished.get(img.baseLayer.digest), "mounted from move/base");
    assert.equal(r.blobsCopied, 2);
    assert.ok(
      !proxy.requests.some((q) => q.includes("from=move%2Fbuilt")),
      `no mount from the tag's repository:\n${proxy.requests.join("\n")}`,
    );
    // one POST per blob (the base's mount; the others' upload sessions) + 2 PUTs + the manifest
    assert.equal(proxy.requests.length, 6, proxy.requests.join("\n"));
    client.close();
  },
);

test(
  "thousands of tags of one registry: the tag hints are read a few at a time, and still found under a low fd limit",
  { skip: skip ?? needPeers("prlimit") },
  async () => {
    const home = join(work, "home-many");
    const store = new LocalStore(home);
    const client = new RegistryClient(proxy.host, { stateDir: false });
    await copy(client.repository("move/base"), "1", store, `${proxy.host}/move/base:1`);
    await rm(join(home, "blob-origins"), { recursive: true, force: true }); // hints from tags only
    const img = await derivedImage(store, "app:many", "many");
    // 1,500 tags of the same registry before the base's (in an OCI layout's index, as the store
    // keeps its tags): the base's tag, read last, is the only hint for the base layer. Fillers
    // name a JSON blob with no layers (the base's config), so they hint at nothing.
    const indexPath = join(home, "store", "index.json");
    const index = JSON.parse(await readFile(indexPath, "utf8")) as { manifests: Descriptor[] };
    const isBase = (d: Descriptor) => d.annotations?.[REF_NAME]?.endsWith("/move/base:1") === true;
    const baseEntry = index.manifests.find(isBase)!;
    const baseConfig = (JSON.parse(Buffer.from(base.manifest).toString()) as ImageManifest).config;
    index.manifests = [
      ...index.manifests.filter((d) => !isBase(d)),
      ...Array.from({ length: 1500 }, (_, i) => ({
        ...baseEntry,
        digest: baseConfig.digest,
        size: baseConfig.size,
        annotations: { [REF_NAME]: `${proxy.host}/move/filler-${i}:1` },
      })),
      baseEntry,
    ];
    await writeFile(indexPath, JSON.stringify(index));
    client.close();
    // 96 descriptors: Node and the push need ~30; 1,500 reads at once would fail with EMFILE
    // spawned, not spawnSync: the proxy it pushes through runs in this process
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const args = [
        "--nofile=96",
        BIN,
        "push",
        "--progress",
        "plain",
        "app:many",
        `docker://${proxy.host}/move/app-many:1`,
      ];
      const child = spawn("prlimit", args, { env: { ...process.env, DOCKYARD_HOME: home } });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c));
      child.stderr.on("data", (c: Buffer) => (out += c));
      child.on("close", (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`${img.baseLayer.digest.slice(7, 19)}: mounted from move/base`));
  },
);

test("a mount the registry refuses, or opens an upload for, falls back to uploading", { skip }, async () => {
  // 1. Refused (403): upload instead; the record that misled is dropped.
  const refusing = await startAuthProxy(reg.host, { refuseMount: 403 });
  try {
    const store = new LocalStore(join(work, "home2"));
    const client = new RegistryClient(refusing.host, { stateDir: false });
    await copy(client.repository("move/base"), "1", store, `${refusing.host}/move/base:1`);
    const img = await derivedImage(store, "app:2", "two");
    const r = await copy(store, "app:2", client.repository("move/refused", { push: true }), "1");
    assert.equal(r.blobsMounted, 0);
    assert.equal(r.blobsCopied, 3);
    assert.ok(
      refusing.requests.some((q) => q.includes("?mount=")),
      "a mount was tried",
    );
    assert.equal((await client.repository("move/refused").resolve("1")).digest, img.desc.digest);
    // the pull recorded move/base, the refusal dropped it, the upload recorded move/refused
    const file = JSON.parse(await readFile(store.originPath(img.baseLayer.digest), "utf8")) as {
      origins: { repository: string }[];
    };
    assert.deepEqual(
      file.origins.map((o) => o.repository),
      ["move/refused"],
    );
    client.close();
  } finally {
    await refusing.close();
  }

  // 2. Recorded in a repository that does not have it: the registry answers 202 with an upload
  // session, which the upload then uses (one POST per blob, not two); the record is dropped.
  const store = new LocalStore(join(work, "home3"));
  const img = await derivedImage(store, "app:3", "three");
  await store.writeBlob(img.baseLayer, Readable.from([base.layers[0]!.gz]));
  const gone = { registry: proxy.host, repository: "move/gone" };
  await store.recordBlobOrigins([img.baseLayer.digest, img.layer.digest, img.config.digest], gone);
  const client = new RegistryClient(proxy.host, { stateDir: false });
  proxy.requests.length = 0;
  const r = await copy(store, "app:3", client.repository("move/app3", { push: true }), "1");
  assert.equal(r.blobsMounted, 0);
  assert.equal(r.blobsCopied, 3);
  const posts = proxy.requests.filter((q) => q.startsWith("POST"));
  assert.equal(posts.length, 3, proxy.requests.join("\n"));
  assert.ok(
    posts.every((q) => q.includes("&from=move%2Fgone")),
    posts.join("\n"),
  );
  assert.equal((await client.repository("move/app3").resolve("1")).digest, img.desc.digest);
  assert.deepEqual(await store.blobOrigins(img.layer, proxy.host), [
    { registry: proxy.host, repository: "move/app3" },
  ]);
  client.close();
});

test(
  "with token auth a push from the store mounts and uploads; parallel requests share tokens",
  { skip },
  async () => {
    const auth = await startAuthProxy(reg.host, { user: "alice", password: "s3cret" });
    try {
      const store = new LocalStore(join(work, "home6"));
      const creds = { username: "alice", password: "s3cret" };
      const client = new RegistryClient(auth.host, {
        stateDir: join(work, "registries6"),
        credentials: creds,
      });
      await copy(client.repository("move/base"), "1", store, `${auth.host}/move/base:1`);
      const img = await derivedImage(store, "app:6", "six");
      client.close();
      // a new client (a new command) that knows the scheme: no probe, the 401s come on the blobs
      const pusher = new RegistryClient(auth.host, {
        stateDir: join(work, "registries6"),
        credentials: creds,
      });
      auth.tokensIssued = 0;
      auth.requests.length = 0;
      const r = await copy(store, "app:6", pusher.repository("move/app6", { push: true }), "1");
      assert.equal(r.blobsMounted, 1);
      assert.equal(r.blobsCopied, 2);
      assert.ok(!auth.requests.includes("GET /v2/"), auth.requests.join("\n"));
      // two scope sets (push; push + pull of move/base for the mount): two tokens, however many requests
      assert.equal(auth.tokensIssued, 2, auth.requests.join("\n"));
      assert.equal((await pusher.repository("move/app6").resolve("1")).digest, img.desc.digest);
      pusher.close();
    } finally {
      await auth.close();
    }
  },
);

test("the builder's pull of a FROM image records where its blobs came from", { skip }, async () => {
  const store = new LocalStore(join(work, "home4"));
  const resolver = new StoreResolver({ store });
  const b = await resolver.resolve(`${proxy.host}/move/base:1`, { os: "linux", architecture: "amd64" });
  assert.equal(b.layers.length, 1);
  const layer = b.layers[0]!;
  const origins = await store.blobOrigins(
    { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
    proxy.host,
  );
  assert.deepEqual(origins[0], { registry: proxy.host, repository: "move/base" });
  const file = JSON.parse(await readFile(store.originPath(layer.digest), "utf8")) as {
    origins: { repository: string }[];
  };
  assert.equal(file.origins[0]!.repository, "move/base", "recorded, not only inferred from the tag");
});

test("a loopback registry's scheme is remembered, and probed again when it is wrong", { skip }, async () => {
  const stateDir = join(work, "registries");
  const memory = schemeMemoryPath(stateDir, proxy.host);
  const resolveWith = async (host: string) => {
    const c = new RegistryClient(host, { stateDir });
    try {
      return (await c.repository("move/base").resolve("1")).digest;
    } finally {
      c.close();
    }
  };
  proxy.requests.length = 0;
  assert.equal(await resolveWith(proxy.host), base.manifestDesc.digest);
  assert.deepEqual(proxy.requests, ["GET /v2/", "HEAD /v2/move/base/manifests/1"], "probed");
  assert.deepEqual(JSON.parse(await readFile(memory, "utf8")), { scheme: "http" });

  proxy.requests.length = 0;
  assert.equal(await resolveWith(proxy.host), base.manifestDesc.digest);
  assert.deepEqual(proxy.requests, ["HEAD /v2/move/base/manifests/1"], "not probed: remembered");

  // Remembered wrong (HTTPS, the server speaks plain HTTP): the request fails, a probe finds HTTP.
  await writeFile(memory, JSON.stringify({ scheme: "https" }));
  assert.equal(await resolveWith(proxy.host), base.manifestDesc.digest);
  assert.deepEqual(JSON.parse(await readFile(memory, "utf8")), { scheme: "http" });

  // Remembered plain HTTP, the registry now speaks TLS: found again over HTTPS.
  const certs = join(work, "certs");
  await mkdir(certs, { recursive: true });
  const tls = makeTls(certs);
  const secure = await startAuthProxy(reg.host, { tls });
  try {
    const secureMemory = schemeMemoryPath(stateDir, secure.host);
    await writeFile(secureMemory, JSON.stringify({ scheme: "http" }));
    assert.equal(await resolveWith(secure.host), base.manifestDesc.digest);
    assert.deepEqual(JSON.parse(await readFile(secureMemory, "utf8")), { scheme: "https" });
    // and a push over it works (upload locations keep the scheme)
    const c = new RegistryClient(secure.host, { stateDir });
    const layout = new OciLayout(join(work, "base-layout"));
    const r = await copy(layout, "1", c.repository("move/tls", { push: true }), "1");
    assert.equal(r.descriptor.digest, base.manifestDesc.digest);
    c.close();
  } finally {
    await secure.close();
  }
});
