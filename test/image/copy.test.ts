import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  copy,
  digestOf,
  isDockyardError,
  LocalStore,
  MediaType,
  OciLayout,
  RegistryClient,
  serializeManifest,
  closeRegistryClients,
  type ImageIndex,
} from "../../src/image/index.js";
import { needPeers } from "../helpers/peers.js";
import {
  makeImage,
  putImage,
  startAuthProxy,
  startReferenceRegistry,
  tempDir,
  type RunningRegistry,
} from "./helpers.js";

const skip = needPeers("docker-registry");
let reg: RunningRegistry;
let work: string;

before(async () => {
  work = await tempDir();
  if (!skip) reg = await startReferenceRegistry();
});
after(async () => {
  closeRegistryClients();
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

test(
  "oci layout → registry → store → oci layout keeps the manifest digest; second push skips",
  { skip },
  async () => {
    const img = await makeImage(3);
    const src = new OciLayout(join(work, "src1"));
    await putImage(src, img, "v1");
    const client = new RegistryClient(reg.host);
    const repo = client.repository("move/app", { push: true });
    const r1 = await copy(src, "v1", repo, "v1");
    assert.equal(r1.descriptor.digest, img.manifestDesc.digest);
    assert.equal(r1.blobsCopied, 4);
    const r2 = await copy(src, "v1", repo, "v1again");
    assert.equal(r2.blobsCopied, 0);
    assert.equal(r2.blobsSkipped, 4);
    const resolved = await repo.resolve("v1again");
    assert.equal(resolved.digest, img.manifestDesc.digest);
    assert.equal(resolved.mediaType, MediaType.dockerManifest);

    const store = new LocalStore(join(work, "home"));
    const r3 = await copy(client.repository("move/app"), "v1", store, `${reg.host}/move/app:v1`);
    assert.equal(r3.descriptor.digest, img.manifestDesc.digest);
    const listed = await store.list();
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.reference, `${reg.host}/move/app:v1`);
    assert.equal(listed[0]!.id, digestOf(img.config));

    const out = new OciLayout(join(work, "out1"));
    const r4 = await copy(store, `${reg.host}/move/app:v1`, out, "final");
    assert.equal(r4.descriptor.digest, img.manifestDesc.digest);
    assert.deepEqual(await out.fetchManifest(await out.resolve("final")), img.manifest);
    assert.equal(await repo.listTags().then((t) => t.sort().join(",")), "v1,v1again");
    client.close();
  },
);

test("cross-repository mount sends no layer bytes; chunked uploads work", { skip }, async () => {
  const proxy = await startAuthProxy(reg.host);
  try {
    const img = await makeImage(2);
    const src = new OciLayout(join(work, "src2"));
    await putImage(src, img, undefined);
    const chunked = new RegistryClient(proxy.host, { uploadMode: "chunked", chunkSize: 100 });
    await copy(src, undefined, chunked.repository("move/one", { push: true }), "a");
    const total = img.layers.reduce((a, l) => a + l.gz.length, 0) + img.config.length;
    assert.equal(proxy.uploadedBytes, total);
    assert.ok(proxy.requests.filter((r) => r.startsWith("PATCH")).length > 3, "several chunks");
    chunked.close();

    proxy.uploadedBytes = 0;
    const client = new RegistryClient(proxy.host);
    const res = await copy(
      client.repository("move/one"),
      "a",
      client.repository("move/two", { push: true }),
      "b",
    );
    assert.equal(res.blobsMounted, 3);
    assert.equal(proxy.uploadedBytes, 0, "mounted blobs send no bytes");
    assert.equal((await client.repository("move/two").resolve("b")).digest, img.manifestDesc.digest);
    // Layers already in the target: nothing is uploaded at all (counted at the wire).
    proxy.requests.length = 0;
    const again = await copy(src, undefined, client.repository("move/two", { push: true }), "c");
    assert.equal(again.blobsSkipped, 3);
    assert.equal(proxy.uploadedBytes, 0, "existing blobs send no bytes");
    assert.equal(proxy.requests.filter((r) => r.startsWith("PUT") && r.includes("/blobs/")).length, 0);
    client.close();
  } finally {
    await proxy.close();
  }
});

test(
  "token auth: Bearer challenge → token endpoint with credentials from config.json",
  { skip },
  async () => {
    const proxy = await startAuthProxy(reg.host, { user: "alice", password: "s3cret" });
    const cfgDir = join(work, "dockercfg");
    await mkdir(cfgDir, { recursive: true });
    const saved = process.env.DOCKER_CONFIG;
    try {
      const img = await makeImage(1);
      const src = new OciLayout(join(work, "src3"));
      await putImage(src, img, "x");
      // No credentials: a clear UNAUTHORIZED.
      process.env.DOCKER_CONFIG = join(work, "nocfg");
      const anon = new RegistryClient(proxy.host);
      await assert.rejects(copy(src, "x", anon.repository("move/auth", { push: true }), "x"), (e) =>
        isDockyardError(e, "UNAUTHORIZED"),
      );
      anon.close();
      await writeFile(
        join(cfgDir, "config.json"),
        JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from("alice:s3cret").toString("base64") } } }),
      );
      process.env.DOCKER_CONFIG = cfgDir;
      const client = new RegistryClient(proxy.host);
      const r = await copy(src, "x", client.repository("move/auth", { push: true }), "x");
      assert.equal(r.descriptor.digest, img.manifestDesc.digest);
      assert.ok(proxy.tokensIssued >= 1);
      assert.equal((await client.repository("move/auth").resolve("x")).digest, img.manifestDesc.digest);
      client.close();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      await proxy.close();
    }
  },
);

test("basic auth registries get the credentials directly", { skip }, async () => {
  const proxy = await startAuthProxy(reg.host, { user: "bob", password: "pw", basic: true });
  try {
    const img = await makeImage(1);
    const src = new OciLayout(join(work, "src4"));
    await putImage(src, img, "x");
    const client = new RegistryClient(proxy.host, { credentials: { username: "bob", password: "pw" } });
    const r = await copy(src, "x", client.repository("move/basic", { push: true }), "x");
    assert.equal(r.descriptor.digest, img.manifestDesc.digest);
    const bad = new RegistryClient(proxy.host, { credentials: { username: "bob", password: "nope" } });
    await assert.rejects(bad.repository("move/basic").resolve("x"), (e) =>
      isDockyardError(e, "UNAUTHORIZED"),
    );
    client.close();
    bad.close();
  } finally {
    await proxy.close();
  }
});

test(
  "multi-platform index: all platforms keep the index digest; one platform picks its manifest",
  { skip },
  async () => {
    const amd = await makeImage(1, { oci: true, arch: "amd64" });
    const arm = await makeImage(1, { oci: true, arch: "arm64" });
    const src = new OciLayout(join(work, "src5"));
    await putImage(src, amd, undefined);
    await putImage(src, arm, undefined);
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        { ...amd.manifestDesc, platform: { os: "linux", architecture: "amd64" } },
        { ...arm.manifestDesc, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      ],
    };
    const bytes = serializeManifest(index);
    await src.writeManifest("multi", bytes, MediaType.ociIndex);
    const client = new RegistryClient(reg.host);
    const repo = client.repository("move/multi", { push: true });
    const all = await copy(src, "multi", repo, "all", { allPlatforms: true });
    assert.equal(all.descriptor.digest, digestOf(bytes));
    assert.equal(all.manifests.length, 2);
    const one = await copy(repo, "all", new OciLayout(join(work, "arm")), "arm", {
      platform: { os: "linux", architecture: "arm64" },
    });
    assert.equal(one.descriptor.digest, arm.manifestDesc.digest);
    await assert.rejects(
      copy(repo, "all", new OciLayout(join(work, "none")), "x", {
        platform: { os: "linux", architecture: "s390x" },
      }),
      (e) =>
        isDockyardError(e, "MANIFEST_UNKNOWN") && /linux\/amd64, linux\/arm64/.test((e as Error).message),
    );
    client.close();
  },
);

test("a blob whose bytes do not match its digest never becomes visible", async () => {
  const dir = join(work, "bad");
  const layout = new OciLayout(dir);
  const body = Buffer.from("hello");
  await assert.rejects(
    layout.writeBlob({ mediaType: "x", digest: digestOf("other"), size: 5 }, Readable.from([body])),
    (e) => isDockyardError(e, "DIGEST_INVALID"),
  );
  const files = await readdir(join(dir, "blobs", "sha256"));
  assert.deepEqual(files, []);
  await assert.rejects(
    layout.writeBlob({ mediaType: "x", digest: digestOf(body), size: 4 }, Readable.from([body])),
    (e) => isDockyardError(e, "SIZE_INVALID"),
  );
  assert.deepEqual(await readdir(join(dir, "blobs", "sha256")), []);
  assert.ok((await readFile(join(dir, "oci-layout"), "utf8")).includes("1.0.0"));
});

test("retries with backoff on 503 and dropped connections, then succeeds", async () => {
  const http = await import("node:http");
  let hits = 0;
  const digest = digestOf("{}");
  const server = http.createServer((req, res) => {
    hits++;
    if (hits === 1) {
      req.socket.destroy(); // a dropped connection
      return;
    }
    if (hits <= 3) {
      res.writeHead(503).end();
      return;
    }
    res
      .writeHead(200, {
        "Docker-Content-Digest": digest,
        "Content-Type": MediaType.ociManifest,
        "Content-Length": "2",
      })
      .end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    // Loopback: the first exchange probes HTTPS, then falls back to plain HTTP.
    const client = new RegistryClient(`127.0.0.1:${port}`, { retries: 5 });
    const d = await client.repository("move/r").resolve("1");
    assert.equal(d.digest, digest);
    assert.ok(hits >= 4, `retried (${hits} requests)`);
    client.close();
    hits = 100; // always 503 from now on
    server.removeAllListeners("request");
    server.on("request", (_q, res) => res.writeHead(503).end());
    const c2 = new RegistryClient(`127.0.0.1:${port}`, { retries: 2 });
    await assert.rejects(c2.repository("move/r").resolve("1"), (e) => isDockyardError(e, "NETWORK"));
    c2.close();
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
