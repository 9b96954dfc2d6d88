// The OCI distribution-spec conformance workflows (conformance/0{1..4}_*.go: pull, push, content
// discovery, content management) walked request by request with the same assertions, against
// a real dockyard server. The Go suite cannot be fetched here; this is its TypeScript twin.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startRegistry, sha256, OCI_MANIFEST, OCI_INDEX, type TestRegistry } from "./client.js";

const ERROR_CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
];

let R: TestRegistry;
const NAME = "conformance/oci-test";
const CROSSMOUNT = "conformance/other";
const dummyDigest = sha256("dummy " + Date.now());

interface Blob {
  content: Buffer;
  digest: string;
  length: string;
}
function blob(content: Buffer | string): Blob {
  const b = Buffer.from(content);
  return { content: b, digest: sha256(b), length: String(b.length) };
}
const configs = [0, 1, 2, 3, 4].map((i) =>
  blob(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      n: i,
      r: randomBytes(8).toString("hex"),
    }),
  ),
);
const layer = blob(randomBytes(2048));
const emptyJSON = blob("{}");
function manifestFor(cfg: Blob, extra: Record<string, unknown> = {}): Blob {
  return blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: cfg.digest,
        size: cfg.content.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: layer.digest,
          size: layer.content.length,
        },
      ],
      ...extra,
    }),
  );
}
const manifests = configs.map((c) => manifestFor(c));
const emptyLayerManifest = blob(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configs[1]!.digest,
      size: configs[1]!.content.length,
    },
    layers: [],
  }),
);

let U = "";
async function req(
  method: string,
  path: string,
  opts: { body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(path.startsWith("http") ? path : `${U}${path}`, {
    method,
    body:
      opts.body === undefined
        ? undefined
        : typeof opts.body === "string"
          ? opts.body
          : new Uint8Array(opts.body),
    headers: opts.headers,
  });
}
const ok2xx = (s: number): boolean => s >= 200 && s < 300;
async function pushBlob(b: Blob, name = NAME): Promise<number> {
  const r = await req("POST", `/v2/${name}/blobs/uploads/`);
  await r.arrayBuffer();
  const loc = r.headers.get("location")!;
  const p = await req("PUT", `${loc}${loc.includes("?") ? "&" : "?"}digest=${b.digest}`, {
    body: b.content,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": b.length },
  });
  await p.arrayBuffer();
  return p.status;
}
async function putManifest(ref: string, m: Blob, ct = OCI_MANIFEST): Promise<Response> {
  return req("PUT", `/v2/${NAME}/manifests/${ref}`, { body: m.content, headers: { "Content-Type": ct } });
}

before(async () => {
  R = await startRegistry();
  U = R.url;
});
after(async () => R.close());

describe("Pull", () => {
  before(async () => {
    for (const b of [configs[0]!, configs[1]!, layer]) assert.ok(ok2xx(await pushBlob(b)));
    assert.ok(ok2xx((await putManifest("tagtest0", manifests[0]!)).status));
    assert.ok(ok2xx((await putManifest(manifests[1]!.digest, manifests[1]!)).status));
  });
  test("HEAD request to nonexistent blob should result in 404 response", async () => {
    assert.equal((await req("HEAD", `/v2/${NAME}/blobs/${dummyDigest}`)).status, 404);
  });
  test("HEAD request to existing blob should yield 200 (Docker-Content-Digest if present matches)", async () => {
    const r = await req("HEAD", `/v2/${NAME}/blobs/${configs[0]!.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("docker-content-digest"), configs[0]!.digest);
  });
  test("GET nonexistent blob should result in 404 response", async () => {
    assert.equal((await req("GET", `/v2/${NAME}/blobs/${dummyDigest}`)).status, 404);
  });
  test("GET request to existing blob URL should yield 200", async () => {
    const r = await req("GET", `/v2/${NAME}/blobs/${configs[0]!.digest}`);
    assert.equal(r.status, 200);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), configs[0]!.content);
  });
  test("HEAD request to nonexistent manifest should return 404", async () => {
    assert.equal((await req("HEAD", `/v2/${NAME}/manifests/.INVALID_MANIFEST_NAME`)).status, 404);
    assert.equal((await req("HEAD", `/v2/${NAME}/manifests/nonexistent`)).status, 404);
  });
  test("HEAD/GET manifest[0], manifest[1] by digest and by tag should yield 200", async () => {
    for (const [ref, m] of [
      [manifests[0]!.digest, manifests[0]!],
      [manifests[1]!.digest, manifests[1]!],
      ["tagtest0", manifests[0]!],
    ] as const) {
      const h = await req("HEAD", `/v2/${NAME}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(h.status, 200);
      assert.equal(h.headers.get("docker-content-digest"), m.digest);
      const g = await req("GET", `/v2/${NAME}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(g.status, 200);
      assert.deepEqual(Buffer.from(await g.arrayBuffer()), m.content);
    }
  });
  test("GET nonexistent manifest should return 404", async () => {
    assert.equal((await req("GET", `/v2/${NAME}/manifests/.INVALID_MANIFEST_NAME`)).status, 404);
  });
  test("400 response body should contain OCI-conforming JSON message", async () => {
    const r = await req("GET", `/v2/${NAME}/manifests/sha256:totallywrong`, {
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.ok([400, 404].includes(r.status));
    if (r.status === 400) {
      const j = (await r.json()) as { errors: { code: string }[] };
      assert.ok(j.errors.length > 0);
      assert.ok(ERROR_CODES.includes(j.errors[0]!.code), j.errors[0]!.code);
    }
  });
  test("Teardown: delete manifests then blobs (2xx, or 405 when deletes are off)", async () => {
    for (const m of [manifests[0]!, manifests[1]!]) {
      const r = await req("DELETE", `/v2/${NAME}/manifests/${m.digest}`);
      assert.ok(ok2xx(r.status) || r.status === 405);
    }
    for (const b of [configs[0]!, configs[1]!, layer]) {
      const r = await req("DELETE", `/v2/${NAME}/blobs/${b.digest}`);
      assert.ok(ok2xx(r.status) || r.status === 404 || r.status === 405);
    }
  });
});

describe("Push", () => {
  const testBlobA = blob(randomBytes(1024));
  const blobB = randomBytes(4096);
  const chunk1 = blobB.subarray(0, 2048);
  const chunk2 = blobB.subarray(2048);
  const blobBDigest = sha256(blobB);
  let last: Response;
  let prev: Response;
  test("Blob Upload Streamed: PATCH with blob in body → 202; PUT with digest → 201", async () => {
    const p = await req("POST", `/v2/${NAME}/blobs/uploads/`);
    assert.ok(p.headers.get("location"));
    const r = await req("PATCH", p.headers.get("location")!, {
      body: testBlobA.content,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.equal(r.status, 202);
    const put = await req("PUT", `${r.headers.get("location")}?digest=${testBlobA.digest}`, {
      headers: { "Content-Type": "application/octet-stream", "Content-Length": "0" },
    });
    assert.equal(put.status, 201);
    assert.ok(put.headers.get("location"));
  });
  test("Blob Upload Monolithic: GET nonexistent 404; POST ?digest= with body 201/202 and GET accordingly", async () => {
    assert.equal((await req("GET", `/v2/${NAME}/blobs/${dummyDigest}`)).status, 404);
    const r = await req("POST", `/v2/${NAME}/blobs/uploads/?digest=${configs[1]!.digest}`, {
      body: configs[1]!.content,
      headers: { "Content-Type": "application/octet-stream", "Content-Length": configs[1]!.length },
    });
    assert.ok(r.headers.get("location"));
    assert.ok([201, 202].includes(r.status));
    const g = await req("GET", `/v2/${NAME}/blobs/${configs[1]!.digest}`);
    assert.equal(g.status, r.status === 202 ? 404 : 200);
  });
  test("Blob Upload Monolithic: POST session then PUT the blob → 201; GET → 200; layer blob too", async () => {
    assert.equal(await pushBlob(configs[1]!), 201);
    assert.equal((await req("GET", `/v2/${NAME}/blobs/${configs[1]!.digest}`)).status, 200);
    assert.equal(await pushBlob(layer), 201);
    assert.equal((await req("GET", `/v2/${NAME}/blobs/${layer.digest}`)).status, 200);
  });
  test("Blob Upload Chunked: out-of-order chunk → 416", async () => {
    const p = await req("POST", `/v2/${NAME}/blobs/uploads/`, { headers: { "Content-Length": "0" } });
    assert.equal(p.headers.get("oci-chunk-min-length"), null);
    const r = await req("PATCH", p.headers.get("location")!, {
      body: chunk2,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(chunk2.length),
        "Content-Range": `2048-4095`,
      },
    });
    assert.equal(r.status, 416);
  });
  test("Blob Upload Chunked: first chunk → 202 with Range; retry of it → 416; GET stale upload → 204 Range+Location", async () => {
    prev = await req("POST", `/v2/${NAME}/blobs/uploads/`, { headers: { "Content-Length": "0" } });
    last = await req("PATCH", prev.headers.get("location")!, {
      body: chunk1,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": "2048",
        "Content-Range": "0-2047",
      },
    });
    assert.equal(last.status, 202);
    assert.equal(last.headers.get("range"), "0-2047");
    const retry = await req("PATCH", prev.headers.get("location")!, {
      body: chunk1,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": "2048",
        "Content-Range": "0-2047",
      },
    });
    assert.equal(retry.status, 416);
    const st = await req("GET", prev.headers.get("location")!);
    assert.equal(st.status, 204);
    assert.ok(st.headers.get("location"));
    assert.equal(st.headers.get("range"), "0-2047");
    last = st;
  });
  test("Blob Upload Chunked: second chunk → 202; PUT with digest → 201", async () => {
    const r = await req("PATCH", last.headers.get("location")!, {
      body: chunk2,
      headers: {
        "Content-Length": "2048",
        "Content-Range": "2048-4095",
        "Content-Type": "application/octet-stream",
      },
    });
    assert.equal(r.status, 202);
    assert.ok(r.headers.get("location"));
    const put = await req("PUT", `${r.headers.get("location")}?digest=${blobBDigest}`, {
      headers: { "Content-Length": "0", "Content-Type": "application/octet-stream" },
    });
    assert.equal(put.status, 201);
    assert.ok(put.headers.get("location"));
  });
  test("Cross-Repository Blob Mount", async () => {
    let r = await req("POST", `/v2/${CROSSMOUNT}/blobs/uploads/?mount=${dummyDigest}`);
    assert.equal(r.status, 202);
    assert.ok(r.headers.get("location"));
    r = await req("POST", `/v2/${CROSSMOUNT}/blobs/uploads/?mount=${testBlobA.digest}&from=${NAME}`);
    assert.ok([201, 202].includes(r.status));
    assert.equal(r.status, 201, "dockyard mounts");
    assert.equal(r.headers.get("location"), `/v2/${CROSSMOUNT}/blobs/${testBlobA.digest}`);
    assert.equal((await req("GET", r.headers.get("location")!)).status, 200);
    // automatic content discovery (mount without from) is enabled in dockyard
    r = await req("POST", `/v2/${CROSSMOUNT}/blobs/uploads/?mount=${testBlobA.digest}`);
    assert.equal(r.status, 201);
  });
  test("Manifest Upload: GET nonexistent → 404; PUT 4 tags → 201 with Location; no-layer manifest; GET by digest 200", async () => {
    assert.equal((await req("GET", `/v2/${NAME}/manifests/nonexistent`)).status, 404);
    for (let i = 0; i < 4; i++) {
      const r = await putManifest(`test${i}`, manifests[1]!);
      assert.equal(r.status, 201);
      assert.ok(r.headers.get("location"));
    }
    const e = await putManifest("emptylayer", emptyLayerManifest);
    assert.equal(e.status, 201);
    assert.ok(e.headers.get("location"));
    const g = await req("GET", `/v2/${NAME}/manifests/${manifests[1]!.digest}`, {
      headers: { Accept: OCI_MANIFEST },
    });
    assert.equal(g.status, 200);
  });
  test("Teardown: delete manifests and blobs", async () => {
    for (const d of [manifests[1]!.digest, emptyLayerManifest.digest]) {
      const r = await req("DELETE", `/v2/${NAME}/manifests/${d}`);
      assert.ok(ok2xx(r.status) || r.status === 405);
    }
    for (const d of [configs[1]!.digest, layer.digest, testBlobA.digest, blobBDigest]) {
      const r = await req("DELETE", `/v2/${NAME}/blobs/${d}`);
      assert.ok(ok2xx(r.status) || r.status === 404 || r.status === 405);
    }
  });
});

describe("Content Discovery", () => {
  const annotationKey = "org.opencontainers.conformance.test";
  const values = new Map<string, string>();
  const typeA = "application/vnd.nhl.peanut.butter.bagel";
  const typeB = "application/vnd.nba.strawberry.jam.croissant";
  let subject: Blob;
  let missingSubject: Blob;
  let refC: Blob;
  before(async () => {
    assert.ok(ok2xx(await pushBlob(configs[2]!)));
    assert.ok(ok2xx(await pushBlob(layer)));
    for (let i = 0; i < 4; i++) assert.ok(ok2xx((await putManifest(`test${i}`, manifests[2]!)).status));
    assert.equal(emptyJSON.digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    assert.ok(ok2xx(await pushBlob(emptyJSON)));
    const refBlobA = blob("NHL Peanut Butter on my NHL bagel");
    const refBlobB = blob("NBA Strawberry Jam on my NBA croissant");
    assert.ok(ok2xx(await pushBlob(refBlobA)));
    subject = manifests[4]!;
    missingSubject = manifests[3]!;
    const subjDesc = (m: Blob): Record<string, unknown> => ({
      mediaType: OCI_MANIFEST,
      digest: m.digest,
      size: m.content.length,
    });
    const configArtifact = (type: string, b: Blob, ann: string, subj: Blob): Blob =>
      blob(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: type, digest: emptyJSON.digest, size: 2 },
          layers: [
            { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: b.digest, size: b.content.length },
          ],
          subject: subjDesc(subj),
          annotations: { [annotationKey]: ann },
        }),
      );
    const layerArtifact = (type: string, b: Blob, ann: string, subj: Blob): Blob =>
      blob(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: type,
          config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyJSON.digest, size: 2 },
          layers: [
            { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: b.digest, size: b.content.length },
          ],
          subject: subjDesc(subj),
          annotations: { [annotationKey]: ann },
        }),
      );
    const refA1 = configArtifact(typeA, refBlobA, "test config a", subject);
    const refA2 = layerArtifact(typeA, refBlobA, "test layer a", subject);
    for (const [m, ann] of [
      [refA1, "test config a"],
      [refA2, "test layer a"],
    ] as const) {
      values.set(m.digest, ann);
      const r = await putManifest(m.digest, m);
      assert.ok(ok2xx(r.status));
      assert.equal(r.headers.get("oci-subject"), subject.digest);
    }
    const index = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        artifactType: "application/vnd.food.stand",
        manifests: [
          { mediaType: OCI_MANIFEST, digest: refA1.digest, size: refA1.content.length },
          { mediaType: OCI_MANIFEST, digest: refA2.digest, size: refA2.content.length },
        ],
        subject: subjDesc(subject),
        annotations: { [annotationKey]: "test index" },
      }),
    );
    values.set(index.digest, "test index");
    let r = await putManifest(index.digest, index, OCI_INDEX);
    assert.ok(ok2xx(r.status));
    assert.equal(r.headers.get("oci-subject"), subject.digest);
    assert.ok(ok2xx(await pushBlob(configs[4]!)));
    assert.ok(ok2xx((await putManifest("tagtest0", subject)).status));
    assert.ok(ok2xx(await pushBlob(refBlobB)));
    const refB1 = configArtifact(typeB, refBlobB, "test config b", subject);
    const refB2 = layerArtifact(typeB, refBlobB, "test layer b", subject);
    for (const [m, ann] of [
      [refB1, "test config b"],
      [refB2, "test layer b"],
    ] as const) {
      values.set(m.digest, ann);
      r = await putManifest(m.digest, m);
      assert.ok(ok2xx(r.status));
      assert.equal(r.headers.get("oci-subject"), subject.digest);
    }
    refC = layerArtifact(typeA, refBlobA, "test layer c", missingSubject);
    r = await putManifest(refC.digest, refC);
    assert.ok(ok2xx(r.status));
    assert.equal(r.headers.get("oci-subject"), missingSubject.digest);
  });
  let tagList: string[] = [];
  test("GET request to list tags should yield 200 response", async () => {
    const r = await req("GET", `/v2/${NAME}/tags/list`);
    assert.equal(r.status, 200);
    tagList = ((await r.json()) as { tags: string[] }).tags;
    assert.ok(tagList.length >= 4);
  });
  test("GET number of tags should be limitable by `n`; start set by `last`", async () => {
    const n = Math.floor(tagList.length / 2);
    let r = await req("GET", `/v2/${NAME}/tags/list?n=${n}`);
    assert.equal(r.status, 200);
    const first = ((await r.json()) as { tags: string[] }).tags;
    assert.equal(first.length, n);
    r = await req("GET", `/v2/${NAME}/tags/list?n=${n}&last=${first[n - 1]}`);
    assert.equal(r.status, 200);
    const next = ((await r.json()) as { tags: string[] }).tags;
    assert.ok(next.length <= n);
    assert.ok(!next.includes(first[n - 1]!));
    assert.deepEqual([...first, ...next], tagList.slice(0, first.length + next.length));
  });
  test("referrers of a nonexistent digest: empty 200 index", async () => {
    const r = await req("GET", `/v2/${NAME}/referrers/${dummyDigest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), OCI_INDEX);
    assert.equal(((await r.json()) as { manifests: unknown[] }).manifests.length, 0);
  });
  test("referrers of the subject: 5 manifests, each with its annotation", async () => {
    const r = await req("GET", `/v2/${NAME}/referrers/${subject.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), OCI_INDEX);
    const idx = (await r.json()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(idx.manifests.length, 5);
    assert.notEqual(idx.manifests[0]!.digest, idx.manifests[1]!.digest);
    for (const m of idx.manifests) {
      assert.equal(Object.keys(m.annotations).length, 1);
      assert.equal(m.annotations[annotationKey], values.get(m.digest));
    }
  });
  test("referrers with artifactType filter: OCI-Filters-Applied and 2 manifests", async () => {
    const r = await req(
      "GET",
      `/v2/${NAME}/referrers/${subject.digest}?artifactType=${encodeURIComponent(typeA)}`,
    );
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("oci-filters-applied"), "artifactType");
    const idx = (await r.json()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(idx.manifests.length, 2);
    for (const m of idx.manifests) assert.equal(m.annotations[annotationKey], values.get(m.digest));
  });
  test("referrers of a missing manifest list the referrer pushed to it", async () => {
    const r = await req("GET", `/v2/${NAME}/referrers/${missingSubject.digest}`);
    assert.equal(r.status, 200);
    const idx = (await r.json()) as { manifests: { digest: string }[] };
    assert.equal(idx.manifests.length, 1);
    assert.equal(idx.manifests[0]!.digest, refC.digest);
  });
});

describe("Content Management", () => {
  const name = "conformance/mgmt";
  const m = manifestFor(configs[3]!);
  before(async () => {
    assert.ok(ok2xx(await pushBlob(configs[3]!, name)));
    assert.ok(ok2xx(await pushBlob(layer, name)));
    for (const t of ["tagtest0", "tagtest1"]) {
      const r = await req("PUT", `/v2/${name}/manifests/${t}`, {
        body: m.content,
        headers: { "Content-Type": OCI_MANIFEST },
      });
      assert.equal(r.status, 201);
    }
  });
  test("DELETE a tag → 202 (or 400/405 when unsupported); GET of it → 404 afterwards", async () => {
    const r = await req("DELETE", `/v2/${name}/manifests/tagtest0`);
    assert.ok([202, 400, 405].includes(r.status));
    assert.equal(r.status, 202);
    assert.equal((await req("GET", `/v2/${name}/manifests/tagtest0`)).status, 404);
    const tags = (await (await req("GET", `/v2/${name}/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ["tagtest1"]);
  });
  test("DELETE manifest by digest → 202; GET → 404; tags list no longer has its tags", async () => {
    const r = await req("DELETE", `/v2/${name}/manifests/${m.digest}`);
    assert.equal(r.status, 202);
    assert.equal((await req("GET", `/v2/${name}/manifests/${m.digest}`)).status, 404);
    const t = await req("GET", `/v2/${name}/tags/list`);
    assert.ok([200, 404].includes(t.status));
    if (t.status === 200) assert.deepEqual(((await t.json()) as { tags: string[] }).tags, []);
  });
  test("DELETE blobs → 202; GET → 404", async () => {
    for (const b of [configs[3]!, layer]) {
      const r = await req("DELETE", `/v2/${name}/blobs/${b.digest}`);
      assert.equal(r.status, 202);
      assert.equal((await req("GET", `/v2/${name}/blobs/${b.digest}`)).status, 404);
    }
  });
  test("DELETE of an unknown manifest / blob → 404", async () => {
    assert.equal((await req("DELETE", `/v2/${name}/manifests/${dummyDigest}`)).status, 404);
    assert.equal((await req("DELETE", `/v2/${name}/blobs/${dummyDigest}`)).status, 404);
  });
});
