import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  startRegistry,
  pushBlob,
  pushImage,
  sha256,
  errCode,
  rawRequest,
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  type TestRegistry,
} from "./client.js";

let R: TestRegistry;
let U: string;
before(async () => {
  R = await startRegistry({
    uploads: { chunkMinLength: 0, purgeAfterSeconds: 0, purgeIntervalSeconds: 3600 },
  });
  U = R.url;
});
after(async () => R.close());

async function head(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${U}${path}`, { method: "HEAD", headers });
}

async function blobVisible(repo: string, digest: string): Promise<boolean> {
  return (await head(`/v2/${repo}/blobs/${digest}`)).status === 200;
}

/** Every file under the store's blobs/ tree hashes to its own name (nothing partial is visible). */
async function assertBlobStoreConsistent(root: string): Promise<void> {
  const base = join(root, "blobs", "sha256");
  let prefixes: string[] = [];
  try {
    prefixes = await readdir(base);
  } catch {
    return;
  }
  const { readFile } = await import("node:fs/promises");
  for (const p of prefixes) {
    if (p.startsWith(".")) continue;
    for (const hex of await readdir(join(base, p))) {
      if (hex.startsWith(".")) continue;
      const files = await readdir(join(base, p, hex));
      assert.deepEqual(
        files.filter((f) => !f.startsWith(".")),
        ["data"],
      );
      const data = await readFile(join(base, p, hex, "data"));
      assert.equal(
        createHash("sha256").update(data).digest("hex"),
        hex,
        `blob ${hex} content matches its name`,
      );
    }
  }
}

describe("base and routing", () => {
  test("GET /v2/ is 200 with the API version header", async () => {
    const r = await fetch(`${U}/v2/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("docker-distribution-api-version"), "registry/2.0");
  });
  test("/healthz answers ok", async () => {
    const r = await fetch(`${U}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: "ok" });
  });
  test("unknown endpoints are 404 with a JSON error", async () => {
    const r = await fetch(`${U}/v2/foo/bar`);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.ok((await r.json()).errors);
  });
  test("unsupported method is 405 UNSUPPORTED", async () => {
    const r = await fetch(`${U}/v2/a/tags/list`, { method: "POST" });
    assert.equal(r.status, 405);
    assert.equal(await errCode(r), "UNSUPPORTED");
  });
});

describe("names", () => {
  test("nested names up to 255 characters work; 256 is NAME_INVALID", async () => {
    const long = ("abcdefghij/".repeat(23) + "abcdefghijklmnopqrstuvwxyz0").slice(0, 255).replace(/\/$/, "x");
    assert.equal(long.length, 255);
    await pushBlob(U, long, "long name");
    const r = await fetch(`${U}/v2/${long}x/blobs/uploads/`, { method: "POST" });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "NAME_INVALID");
  });
  test("names with .. , uppercase or empty components are NAME_INVALID and create nothing", async () => {
    const raw = await rawRequest(
      R.port,
      "POST /v2/a/../b/blobs/uploads/ HTTP/1.1\nHost: x\nContent-Length: 0\nConnection: close\n",
    );
    assert.equal(raw.status, 400);
    assert.match(raw.text, /NAME_INVALID/);
    for (const bad of ["Upper/case", "a//b", "a/-b", "_a"]) {
      const r = await fetch(`${U}/v2/${bad}/blobs/uploads/`, { method: "POST" });
      assert.equal(r.status, 400, bad);
      assert.equal(await errCode(r), "NAME_INVALID");
    }
    const cat = (await (await fetch(`${U}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(!cat.repositories.some((n) => n.includes("..") || n.startsWith("b")));
  });
});

describe("blobs", () => {
  const repo = "blobs/test";
  let digest: string;
  const data = randomBytes(1000);
  before(async () => {
    digest = await pushBlob(U, repo, data);
  });
  test("GET returns the bytes with digest and length headers; HEAD has no body", async () => {
    const r = await fetch(`${U}/v2/${repo}/blobs/${digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("docker-content-digest"), digest);
    assert.equal(r.headers.get("content-length"), "1000");
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data);
    const h = await head(`/v2/${repo}/blobs/${digest}`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-length"), "1000");
  });
  test("Range requests: 206 with Content-Range, suffix ranges, 416 when unsatisfiable", async () => {
    let r = await fetch(`${U}/v2/${repo}/blobs/${digest}`, { headers: { Range: "bytes=10-19" } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get("content-range"), "bytes 10-19/1000");
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(10, 20));
    r = await fetch(`${U}/v2/${repo}/blobs/${digest}`, { headers: { Range: "bytes=-5" } });
    assert.equal(r.status, 206);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(995));
    r = await fetch(`${U}/v2/${repo}/blobs/${digest}`, { headers: { Range: "bytes=990-" } });
    assert.equal(r.status, 206);
    assert.equal((await r.arrayBuffer()).byteLength, 10);
    r = await fetch(`${U}/v2/${repo}/blobs/${digest}`, { headers: { Range: "bytes=1000-1001" } });
    assert.equal(r.status, 416);
    assert.equal(r.headers.get("content-range"), "bytes */1000");
    await r.arrayBuffer();
  });
  test("unknown blob is 404 BLOB_UNKNOWN; another repository cannot read an unlinked blob", async () => {
    const r = await fetch(`${U}/v2/${repo}/blobs/${sha256("nope")}`);
    assert.equal(r.status, 404);
    assert.equal(await errCode(r), "BLOB_UNKNOWN");
    const other = await fetch(`${U}/v2/blobs/other/blobs/${digest}`);
    assert.equal(other.status, 404);
    assert.equal(await errCode(other), "BLOB_UNKNOWN");
  });
  test("malformed digests and unknown algorithms are 400 DIGEST_INVALID", async () => {
    for (const d of [
      "sha256:xyz",
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:" + "A".repeat(64),
      "nodigest",
    ]) {
      const r = await fetch(`${U}/v2/${repo}/blobs/${d}`);
      assert.equal(r.status, 400, d);
      assert.equal(await errCode(r), "DIGEST_INVALID");
    }
  });
  test("sha512 digests are accepted end to end", async () => {
    const body = "sha512 content";
    const d = `sha512:${createHash("sha512").update(body).digest("hex")}`;
    const r = await fetch(`${U}/v2/${repo}/blobs/uploads/?digest=${d}`, { method: "POST", body });
    assert.equal(r.status, 201);
    const g = await fetch(`${U}/v2/${repo}/blobs/${d}`);
    assert.equal(await g.text(), body);
    assert.equal(g.headers.get("docker-content-digest"), d);
  });
  test("DELETE removes the link (202), then 404; content stays for other repositories", async () => {
    const d = await pushBlob(U, "blobs/del1", "shared content");
    await pushBlob(U, "blobs/del2", "shared content");
    const r = await fetch(`${U}/v2/blobs/del1/blobs/${d}`, { method: "DELETE" });
    assert.equal(r.status, 202);
    assert.equal(await blobVisible("blobs/del1", d), false);
    assert.equal(await blobVisible("blobs/del2", d), true);
    const again = await fetch(`${U}/v2/blobs/del1/blobs/${d}`, { method: "DELETE" });
    assert.equal(again.status, 404);
  });
  test("an empty blob can be pushed and read", async () => {
    const d = await pushBlob(U, repo, "");
    const r = await fetch(`${U}/v2/${repo}/blobs/${d}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-length"), "0");
    assert.equal((await r.arrayBuffer()).byteLength, 0);
  });
});

describe("uploads", () => {
  const repo = "uploads/test";
  async function start(): Promise<string> {
    const r = await fetch(`${U}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get("range"), "0-0");
    assert.ok(r.headers.get("docker-upload-uuid"));
    return r.headers.get("location")!;
  }
  test("single-request monolithic POST ?digest= is 201", async () => {
    const body = "monolithic in one";
    const r = await fetch(`${U}/v2/${repo}/blobs/uploads/?digest=${sha256(body)}`, { method: "POST", body });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("location"), `/v2/${repo}/blobs/${sha256(body)}`);
    assert.ok(await blobVisible(repo, sha256(body)));
  });
  test("chunked PATCH with Content-Range, status GET, final PUT with the last chunk", async () => {
    const data = randomBytes(300_000);
    let loc = await start();
    let r = await fetch(`${U}${loc}`, {
      method: "PATCH",
      body: data.subarray(0, 100_000),
      headers: { "Content-Range": "0-99999", "Content-Type": "application/octet-stream" },
    });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get("range"), "0-99999");
    loc = r.headers.get("location")!;
    r = await fetch(`${U}${loc}`, {
      method: "PATCH",
      body: data.subarray(100_000, 200_000),
      headers: { "Content-Range": "100000-199999" },
    });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get("range"), "0-199999");
    const st = await fetch(`${U}${loc}`);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get("range"), "0-199999");
    assert.ok(st.headers.get("location"));
    const d = sha256(data);
    r = await fetch(`${U}${loc}?digest=${d}`, {
      method: "PUT",
      body: data.subarray(200_000),
      headers: { "Content-Range": "200000-299999" },
    });
    assert.equal(r.status, 201);
    const g = await fetch(`${U}/v2/${repo}/blobs/${d}`);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), data);
  });
  test("streamed PATCH without Content-Range, then PUT with empty body", async () => {
    const data = randomBytes(50_000);
    const loc = await start();
    let r = await fetch(`${U}${loc}`, { method: "PATCH", body: data.subarray(0, 20_000) });
    assert.equal(r.status, 202);
    r = await fetch(`${U}${loc}`, { method: "PATCH", body: data.subarray(20_000) });
    assert.equal(r.headers.get("range"), "0-49999");
    r = await fetch(`${U}${loc}?digest=${sha256(data)}`, { method: "PUT" });
    assert.equal(r.status, 201);
  });
  test("out-of-order chunk is 416 with the current Range, and changes nothing", async () => {
    const loc = await start();
    await fetch(`${U}${loc}`, { method: "PATCH", body: "0123456789", headers: { "Content-Range": "0-9" } });
    let r = await fetch(`${U}${loc}`, {
      method: "PATCH",
      body: "abcdefghij",
      headers: { "Content-Range": "20-29" },
    });
    assert.equal(r.status, 416);
    await r.arrayBuffer();
    // a retry of the same (already acknowledged) chunk is also out of order
    r = await fetch(`${U}${loc}`, {
      method: "PATCH",
      body: "0123456789",
      headers: { "Content-Range": "0-9" },
    });
    assert.equal(r.status, 416);
    await r.arrayBuffer();
    const st = await fetch(`${U}${loc}`);
    assert.equal(st.headers.get("range"), "0-9");
    r = await fetch(`${U}${loc}?digest=${sha256("0123456789")}`, { method: "PUT" });
    assert.equal(r.status, 201);
  });
  test("a body longer than its Content-Range is refused and rolled back", async () => {
    const loc = await start();
    await fetch(`${U}${loc}`, { method: "PATCH", body: "abc", headers: { "Content-Range": "0-2" } });
    const r = await fetch(`${U}${loc}`, {
      method: "PATCH",
      body: "defghij",
      headers: { "Content-Range": "3-5" },
    });
    assert.equal(r.status, 416);
    await r.arrayBuffer();
    const st = await fetch(`${U}${loc}`);
    assert.equal(st.headers.get("range"), "0-2");
  });
  test("a body longer than its Content-Length: only the declared bytes count, the rest is a bad request", async () => {
    const loc = await start();
    const path = loc;
    const raw = await rawRequest(
      R.port,
      `PATCH ${path} HTTP/1.1\nHost: x\nContent-Length: 4\nContent-Range: 0-3\n`,
      "abcdEXTRA-GARBAGE\r\n\r\n",
    );
    // HTTP framing: only the declared 4 bytes are the body; the rest is an invalid next request
    // (400 from the parser, which may cut the connection before the PATCH answer is written).
    assert.ok([202, 400].includes(raw.status), raw.text);
    await new Promise((r) => setTimeout(r, 100));
    const st = await fetch(`${U}${loc}`);
    const range = st.headers.get("range");
    assert.ok(range === "0-3" || range === "0-0", `range ${range}`);
    const expect = range === "0-3" ? "abcd" : "";
    const put = await fetch(`${U}${loc}?digest=${sha256(expect)}`, { method: "PUT" });
    assert.equal(put.status, 201, "the session holds exactly the declared bytes, never the extra ones");
  });
  test("a truncated body (client hangs up mid-chunk) leaves the session at its last acknowledged offset", async () => {
    const loc = await start();
    await fetch(`${U}${loc}`, { method: "PATCH", body: "12345", headers: { "Content-Range": "0-4" } });
    const raw = await rawRequest(
      R.port,
      `PATCH ${loc} HTTP/1.1\nHost: x\nContent-Length: 100000\nContent-Range: 5-100004\n`,
      Buffer.alloc(30_000, 1),
      { hangUp: true, waitMs: 200 },
    );
    assert.equal(raw.status, 0);
    await new Promise((r) => setTimeout(r, 100));
    const st = await fetch(`${U}${loc}`);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get("range"), "0-4");
    // the upload resumes from there
    const r = await fetch(`${U}${loc}?digest=${sha256("1234567")}`, {
      method: "PUT",
      body: "67",
      headers: { "Content-Range": "5-6" },
    });
    assert.equal(r.status, 201);
  });
  test("a truncated monolithic PUT stores nothing", async () => {
    const loc = await start();
    const body = Buffer.alloc(50_000, 7);
    const d = sha256(body);
    await rawRequest(
      R.port,
      `PUT ${loc}?digest=${d} HTTP/1.1\nHost: x\nContent-Length: 50000\n`,
      body.subarray(0, 20_000),
      {
        hangUp: true,
        waitMs: 200,
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await blobVisible(repo, d), false);
    await assertBlobStoreConsistent(R.data);
  });
  test("PUT with the wrong digest is 400 DIGEST_INVALID and stores nothing under either digest", async () => {
    const loc = await start();
    const wrong = sha256("something else");
    const r = await fetch(`${U}${loc}?digest=${wrong}`, { method: "PUT", body: "actual content" });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "DIGEST_INVALID");
    assert.equal(await blobVisible(repo, wrong), false);
    assert.equal(await blobVisible(repo, sha256("actual content")), false);
    // the session survives and can still be completed correctly
    const st = await fetch(`${U}${loc}`);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get("range"), "0-0");
  });
  test("PUT without digest, or with a malformed one, is 400 DIGEST_INVALID", async () => {
    const loc = await start();
    for (const q of ["", "?digest=sha256:123", "?digest=md5:abc"]) {
      const r = await fetch(`${U}${loc}${q}`, { method: "PUT", body: "x" });
      assert.equal(r.status, 400, q);
      assert.equal(await errCode(r), "DIGEST_INVALID");
    }
  });
  test("DELETE cancels (204); then GET/PATCH/PUT are 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const loc = await start();
    const r = await fetch(`${U}${loc}`, { method: "DELETE" });
    assert.equal(r.status, 204);
    for (const method of ["GET", "PATCH", "PUT"]) {
      const x = await fetch(`${U}${loc}${method === "PUT" ? `?digest=${sha256("")}` : ""}`, {
        method,
        body: method === "GET" ? undefined : "",
      });
      assert.equal(x.status, 404, method);
      assert.equal(await errCode(x), "BLOB_UPLOAD_UNKNOWN");
    }
  });
  test("an upload id from another repository is unknown", async () => {
    const loc = await start();
    const id = loc.split("/").pop();
    const r = await fetch(`${U}/v2/uploads/elsewhere/blobs/uploads/${id}`);
    assert.equal(r.status, 404);
    assert.equal(await errCode(r), "BLOB_UPLOAD_UNKNOWN");
    const junk = await fetch(`${U}/v2/${repo}/blobs/uploads/not-a-uuid`);
    assert.equal(junk.status, 404);
  });
  test("concurrent uploads of the same blob all succeed and the content is intact", async () => {
    const data = randomBytes(200_000);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pushBlob(U, `uploads/same${i % 2}`, data)),
    );
    assert.ok(results.every((d) => d === sha256(data)));
    for (const r of ["uploads/same0", "uploads/same1"]) {
      const g = await fetch(`${U}/v2/${r}/blobs/${sha256(data)}`);
      assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(data));
    }
    await assertBlobStoreConsistent(R.data);
  });
  test("concurrent PATCHes on one session: one wins, the other is 416, nothing is interleaved", async () => {
    const loc = await start();
    const a = Buffer.alloc(2_000_000, 1);
    const b = Buffer.alloc(2_000_000, 2);
    const [ra, rb] = await Promise.all([
      fetch(`${U}${loc}`, { method: "PATCH", body: a, headers: { "Content-Range": "0-1999999" } }),
      fetch(`${U}${loc}`, { method: "PATCH", body: b, headers: { "Content-Range": "0-1999999" } }),
    ]);
    const codes = [ra.status, rb.status].sort();
    assert.deepEqual(codes, [202, 416]);
    const winner = ra.status === 202 ? a : b;
    const r = await fetch(`${U}${loc}?digest=${sha256(winner)}`, { method: "PUT" });
    assert.equal(r.status, 201);
  });
});

describe("cross-repository mount", () => {
  test("mount with from → 201 and readable; missing blob → 202 session; without from → 201 when readable elsewhere", async () => {
    const d = await pushBlob(U, "mount/src", "mountable");
    assert.equal(await blobVisible("mount/dst", d), false);
    let r = await fetch(`${U}/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`, { method: "POST" });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("location"), `/v2/mount/dst/blobs/${d}`);
    assert.equal(await blobVisible("mount/dst", d), true);
    r = await fetch(`${U}/v2/mount/dst2/blobs/uploads/?mount=${sha256("not there")}&from=mount/src`, {
      method: "POST",
    });
    assert.equal(r.status, 202);
    assert.match(r.headers.get("location")!, /^\/v2\/mount\/dst2\/blobs\/uploads\//);
    // from a repository that does not have it: no mount
    const other = await pushBlob(U, "mount/other", "other content");
    r = await fetch(`${U}/v2/mount/dst3/blobs/uploads/?mount=${other}&from=mount/src`, { method: "POST" });
    assert.equal(r.status, 202);
    assert.equal(await blobVisible("mount/dst3", other), false);
    r = await fetch(`${U}/v2/mount/dst4/blobs/uploads/?mount=${d}`, { method: "POST" });
    assert.equal(r.status, 201);
    r = await fetch(`${U}/v2/mount/dst5/blobs/uploads/?mount=${sha256("nowhere")}`, { method: "POST" });
    assert.equal(r.status, 202);
  });
});

describe("manifests", () => {
  const repo = "manifests/test";
  test("PUT by tag, GET/HEAD by tag and digest return the exact bytes and headers", async () => {
    for (const mt of [OCI_MANIFEST, DOCKER_MANIFEST]) {
      const tag = mt === OCI_MANIFEST ? "oci" : "docker";
      const img = await pushImage(U, repo, tag, { mediaType: mt });
      for (const ref of [tag, img.digest]) {
        const g = await fetch(`${U}/v2/${repo}/manifests/${ref}`, { headers: { Accept: mt } });
        assert.equal(g.status, 200);
        assert.equal(g.headers.get("content-type"), mt);
        assert.equal(g.headers.get("docker-content-digest"), img.digest);
        assert.deepEqual(Buffer.from(await g.arrayBuffer()), img.bytes);
        const h = await head(`/v2/${repo}/manifests/${ref}`);
        assert.equal(h.status, 200);
        assert.equal(h.headers.get("content-length"), String(img.bytes.length));
        assert.equal(h.headers.get("docker-content-digest"), img.digest);
      }
    }
  });
  test("PUT by digest; a body not matching the digest is DIGEST_INVALID", async () => {
    const img = await pushImage(U, repo, "bydigest");
    const again = await fetch(`${U}/v2/${repo}/manifests/${img.digest}`, {
      method: "PUT",
      body: new Uint8Array(img.bytes),
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get("location"), `/v2/${repo}/manifests/${img.digest}`);
    const bad = await fetch(`${U}/v2/${repo}/manifests/${sha256("other")}`, {
      method: "PUT",
      body: new Uint8Array(img.bytes),
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.equal(bad.status, 400);
    assert.equal(await errCode(bad), "DIGEST_INVALID");
    assert.equal((await head(`/v2/${repo}/manifests/${sha256("other")}`)).status, 404);
  });
  test("unknown manifests: 404 MANIFEST_UNKNOWN with application/json; malformed reference 400", async () => {
    const r = await fetch(`${U}/v2/${repo}/manifests/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(await errCode(r), "MANIFEST_UNKNOWN");
    const d = await fetch(`${U}/v2/${repo}/manifests/${sha256("x")}`);
    assert.equal(d.status, 404);
    const bad = await fetch(`${U}/v2/${repo}/manifests/sha256:totallywrong`);
    assert.equal(bad.status, 400);
    assert.equal(await errCode(bad), "DIGEST_INVALID");
  });
  test("malformed JSON, wrong schema and media-type mismatch are MANIFEST_INVALID and store nothing", async () => {
    const cases: [string, string][] = [
      ["{not json", OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 1 }), OCI_MANIFEST],
      [
        JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: {}, layers: [] }),
        OCI_MANIFEST,
      ],
      [
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: "x", digest: "bad", size: 1 },
          layers: [],
        }),
        OCI_MANIFEST,
      ],
      [
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: "x", digest: sha256("c"), size: -1 },
          layers: [],
        }),
        OCI_MANIFEST,
      ],
      [JSON.stringify([1, 2]), OCI_MANIFEST],
    ];
    for (const [body, ct] of cases) {
      const r = await fetch(`${U}/v2/${repo}/manifests/invalid`, {
        method: "PUT",
        body,
        headers: { "Content-Type": ct },
      });
      assert.equal(r.status, 400, body);
      assert.equal(await errCode(r), "MANIFEST_INVALID", body);
    }
    assert.equal((await head(`/v2/${repo}/manifests/invalid`)).status, 404);
  });
  test("schema1 manifests are refused", async () => {
    const r = await fetch(`${U}/v2/${repo}/manifests/s1`, {
      method: "PUT",
      body: JSON.stringify({ schemaVersion: 1, name: repo, tag: "s1", fsLayers: [] }),
      headers: { "Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws" },
    });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "MANIFEST_INVALID");
  });
  test("referenced blobs must exist in the repository: MANIFEST_BLOB_UNKNOWN", async () => {
    const cfg = await pushBlob(U, "manifests/elsewhere", "{}");
    const m = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: cfg, size: 2 },
      layers: [],
    });
    const r = await fetch(`${U}/v2/${repo}/manifests/missing`, {
      method: "PUT",
      body: m,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "MANIFEST_BLOB_UNKNOWN");
    assert.equal((await head(`/v2/${repo}/manifests/missing`)).status, 404);
  });
  test("indexes and manifest lists: children must exist; served with their media type", async () => {
    const a = await pushImage(U, repo, "child-a", { seed: "a" });
    const b = await pushImage(U, repo, "child-b", { seed: "b" });
    for (const mt of [OCI_INDEX, DOCKER_LIST]) {
      const childType = mt === OCI_INDEX ? OCI_MANIFEST : OCI_MANIFEST;
      const idx = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mt,
          manifests: [
            {
              mediaType: childType,
              digest: a.digest,
              size: a.bytes.length,
              platform: { architecture: "amd64", os: "linux" },
            },
            {
              mediaType: childType,
              digest: b.digest,
              size: b.bytes.length,
              platform: { architecture: "arm64", os: "linux" },
            },
          ],
        }),
      );
      const tag = mt === OCI_INDEX ? "index" : "list";
      const r = await fetch(`${U}/v2/${repo}/manifests/${tag}`, {
        method: "PUT",
        body: idx,
        headers: { "Content-Type": mt },
      });
      assert.equal(r.status, 201);
      const g = await fetch(`${U}/v2/${repo}/manifests/${tag}`);
      assert.equal(g.headers.get("content-type"), mt);
      assert.deepEqual(Buffer.from(await g.arrayBuffer()), idx);
    }
    const missing = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("no child"), size: 10 }],
    });
    const r = await fetch(`${U}/v2/${repo}/manifests/badindex`, {
      method: "PUT",
      body: missing,
      headers: { "Content-Type": OCI_INDEX },
    });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "MANIFEST_BLOB_UNKNOWN");
  });
  test("Accept negotiation: a list by tag falls back to linux/amd64 for schema2-only clients; OCI not accepted → 404", async () => {
    const r2 = "manifests/accept";
    const amd = await pushImage(U, r2, "amd", { mediaType: DOCKER_MANIFEST, seed: "amd" });
    const arm = await pushImage(U, r2, "arm", { mediaType: DOCKER_MANIFEST, seed: "arm" });
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [
          {
            mediaType: DOCKER_MANIFEST,
            digest: arm.digest,
            size: arm.bytes.length,
            platform: { architecture: "arm64", os: "linux" },
          },
          {
            mediaType: DOCKER_MANIFEST,
            digest: amd.digest,
            size: amd.bytes.length,
            platform: { architecture: "amd64", os: "linux" },
          },
        ],
      }),
    );
    await fetch(`${U}/v2/${r2}/manifests/multi`, {
      method: "PUT",
      body: new Uint8Array(list),
      headers: { "Content-Type": DOCKER_LIST },
    });
    let g = await fetch(`${U}/v2/${r2}/manifests/multi`, { headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(g.status, 200);
    assert.equal(g.headers.get("docker-content-digest"), amd.digest);
    assert.equal(g.headers.get("content-type"), DOCKER_MANIFEST);
    g = await fetch(`${U}/v2/${r2}/manifests/multi`, {
      headers: { Accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` },
    });
    assert.equal(g.headers.get("docker-content-digest"), sha256(list));
    g = await fetch(`${U}/v2/${r2}/manifests/multi`, { headers: { Accept: "*/*" } });
    assert.equal(g.headers.get("content-type"), DOCKER_LIST);
    const oci = await pushImage(U, r2, "oci");
    g = await fetch(`${U}/v2/${r2}/manifests/oci`, { headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(g.status, 404);
    assert.equal(await errCode(g), "MANIFEST_UNKNOWN");
    g = await fetch(`${U}/v2/${r2}/manifests/oci`);
    assert.equal(g.headers.get("docker-content-digest"), oci.digest);
  });
  test("manifests over 4 MiB are refused with 413", async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
    const r = await fetch(`${U}/v2/${repo}/manifests/huge`, {
      method: "PUT",
      body: big,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.equal(r.status, 413);
    assert.equal(await errCode(r), "SIZE_INVALID");
  });
  test("invalid tags are TAG_INVALID", async () => {
    const r = await fetch(`${U}/v2/${repo}/manifests/-bad`, {
      method: "PUT",
      body: "{}",
      headers: { "Content-Type": OCI_MANIFEST },
    });
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), "TAG_INVALID");
  });
  test("DELETE by tag removes only the tag; by digest removes the revision and its tags", async () => {
    const img = await pushImage(U, "manifests/del", "one");
    await fetch(`${U}/v2/manifests/del/manifests/two`, {
      method: "PUT",
      body: new Uint8Array(img.bytes),
      headers: { "Content-Type": OCI_MANIFEST },
    });
    let r = await fetch(`${U}/v2/manifests/del/manifests/two`, { method: "DELETE" });
    assert.equal(r.status, 202);
    assert.equal((await head(`/v2/manifests/del/manifests/two`)).status, 404);
    assert.equal((await head(`/v2/manifests/del/manifests/one`)).status, 200);
    r = await fetch(`${U}/v2/manifests/del/manifests/${img.digest}`, { method: "DELETE" });
    assert.equal(r.status, 202);
    assert.equal((await head(`/v2/manifests/del/manifests/one`)).status, 404);
    assert.equal((await head(`/v2/manifests/del/manifests/${img.digest}`)).status, 404);
    r = await fetch(`${U}/v2/manifests/del/manifests/${img.digest}`, { method: "DELETE" });
    assert.equal(r.status, 404);
    assert.equal(await errCode(r), "MANIFEST_UNKNOWN");
  });
});

describe("tags and catalog", () => {
  test("tags/list is lexical, paginates with n/last and Link", async () => {
    const img = await pushImage(U, "tags/test", "1.0");
    for (const t of ["2.0", "1.1", "latest", "0.9"])
      await fetch(`${U}/v2/tags/test/manifests/${t}`, {
        method: "PUT",
        body: new Uint8Array(img.bytes),
        headers: { "Content-Type": OCI_MANIFEST },
      });
    let r = await fetch(`${U}/v2/tags/test/tags/list`);
    assert.deepEqual(await r.json(), { name: "tags/test", tags: ["0.9", "1.0", "1.1", "2.0", "latest"] });
    r = await fetch(`${U}/v2/tags/test/tags/list?n=2`);
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ["0.9", "1.0"]);
    const link = r.headers.get("link")!;
    assert.match(link, /^<\/v2\/tags\/test\/tags\/list\?n=2&last=1\.0>; rel="next"$/);
    const all: string[] = [];
    let next: string | undefined = "/v2/tags/test/tags/list?n=2";
    while (next) {
      const p: Response = await fetch(`${U}${next}`);
      all.push(...((await p.json()) as { tags: string[] }).tags);
      next = /<([^>]+)>/.exec(p.headers.get("link") ?? "")?.[1];
    }
    assert.deepEqual(all, ["0.9", "1.0", "1.1", "2.0", "latest"]);
    r = await fetch(`${U}/v2/tags/test/tags/list?n=2&last=1.1`);
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ["2.0", "latest"]);
    r = await fetch(`${U}/v2/tags/test/tags/list?n=0`);
    assert.deepEqual(((await r.json()) as { tags: string[] }).tags, []);
    r = await fetch(`${U}/v2/tags/test/tags/list?n=abc`);
    assert.equal(r.status, 400);
  });
  test("tags/list of an unknown repository is 404 NAME_UNKNOWN", async () => {
    const r = await fetch(`${U}/v2/no/such/repo/tags/list`);
    assert.equal(r.status, 404);
    assert.equal(await errCode(r), "NAME_UNKNOWN");
  });
  test("_catalog lists repositories sorted with n/last/Link", async () => {
    for (const n of ["cat/b", "cat/a", "cat/c"]) await pushBlob(U, n, n);
    const r = await fetch(`${U}/v2/_catalog`);
    const repos = ((await r.json()) as { repositories: string[] }).repositories;
    assert.deepEqual([...repos].sort(), repos);
    assert.ok(["cat/a", "cat/b", "cat/c"].every((x) => repos.includes(x)));
    const p = await fetch(`${U}/v2/_catalog?n=2&last=cat/a`);
    assert.deepEqual(((await p.json()) as { repositories: string[] }).repositories, ["cat/b", "cat/c"]);
    assert.match(p.headers.get("link") ?? "", /rel="next"/);
  });
});

describe("referrers", () => {
  test("lists manifests with a subject, filters by artifactType, OCI-Subject header on PUT", async () => {
    const repo = "refs/test";
    const subject = await pushImage(U, repo, "subject");
    const desc = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length };
    const empty = await pushBlob(U, repo, "{}");
    const mk = (artifactType: string, n: number): Buffer =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType,
          config: { mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 },
          layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: empty, size: 2 }],
          subject: desc,
          annotations: { n: String(n) },
        }),
      );
    const sigs = [
      mk("application/vnd.example.sig", 1),
      mk("application/vnd.example.sbom", 2),
      mk("application/vnd.example.sig", 3),
    ];
    for (const s of sigs) {
      const r = await fetch(`${U}/v2/${repo}/manifests/${sha256(s)}`, {
        method: "PUT",
        body: new Uint8Array(s),
        headers: { "Content-Type": OCI_MANIFEST },
      });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get("oci-subject"), subject.digest);
    }
    let r = await fetch(`${U}/v2/${repo}/referrers/${subject.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), OCI_INDEX);
    let idx = (await r.json()) as {
      manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[];
    };
    assert.equal(idx.manifests.length, 3);
    assert.ok(idx.manifests.every((m) => m.annotations.n));
    r = await fetch(`${U}/v2/${repo}/referrers/${subject.digest}?artifactType=application/vnd.example.sig`);
    assert.equal(r.headers.get("oci-filters-applied"), "artifactType");
    idx = (await r.json()) as typeof idx;
    assert.equal(idx.manifests.length, 2);
    assert.ok(idx.manifests.every((m) => m.artifactType === "application/vnd.example.sig"));
    r = await fetch(`${U}/v2/${repo}/referrers/${sha256("nothing")}`);
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { manifests: unknown[] }).manifests, []);
    r = await fetch(`${U}/v2/${repo}/referrers/sha256:bad`);
    assert.equal(r.status, 400);
    // deleting a referrer removes it from the list
    await fetch(`${U}/v2/${repo}/manifests/${sha256(sigs[1]!)}`, { method: "DELETE" });
    r = await fetch(`${U}/v2/${repo}/referrers/${subject.digest}`);
    assert.equal(((await r.json()) as { manifests: unknown[] }).manifests.length, 2);
  });
});

describe("modes and persistence", () => {
  test("read-only mode refuses writes with 405 UNSUPPORTED and still serves reads", async () => {
    const w = await startRegistry();
    const img = await pushImage(w.url, "ro/test", "v1");
    await w.reg.close(100);
    const ro = await startRegistry({ readOnly: true }, { data: w.data });
    try {
      const g = await fetch(`${ro.url}/v2/ro/test/manifests/v1`);
      assert.equal(g.status, 200);
      assert.equal(sha256(Buffer.from(await g.arrayBuffer())), img.digest);
      for (const [method, path] of [
        ["POST", "/v2/ro/test/blobs/uploads/"],
        ["PUT", "/v2/ro/test/manifests/v2"],
        ["DELETE", `/v2/ro/test/manifests/${img.digest}`],
      ] as const) {
        const r = await fetch(`${ro.url}${path}`, {
          method,
          body: method === "PUT" ? new Uint8Array(img.bytes) : undefined,
        });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(await errCode(r), "UNSUPPORTED");
      }
    } finally {
      await ro.reg.close(100);
      const { rm } = await import("node:fs/promises");
      await rm(w.data, { recursive: true, force: true });
    }
  });
  test("deletes are refused with 405 when disabled", async () => {
    const d = await startRegistry({ storage: { delete: { enabled: false } } });
    try {
      const img = await pushImage(d.url, "nodel/test", "v1");
      const r = await fetch(`${d.url}/v2/nodel/test/manifests/${img.digest}`, { method: "DELETE" });
      assert.equal(r.status, 405);
      const b = await fetch(`${d.url}/v2/nodel/test/blobs/${img.layer}`, { method: "DELETE" });
      assert.equal(b.status, 405);
    } finally {
      await d.close();
    }
  });
  test("OCI-Chunk-Min-Length is advertised when configured", async () => {
    const c = await startRegistry({ uploads: { chunkMinLength: 1024 } });
    try {
      const r = await fetch(`${c.url}/v2/chunk/test/blobs/uploads/`, { method: "POST" });
      assert.equal(r.headers.get("oci-chunk-min-length"), "1024");
    } finally {
      await c.close();
    }
  });
  test("a restart reloads tags, manifests, links, referrers and upload sessions from disk", async () => {
    const a = await startRegistry();
    const img = await pushImage(a.url, "persist/test", "v1");
    const s = await fetch(`${a.url}/v2/persist/test/blobs/uploads/`, { method: "POST" });
    const loc = s.headers.get("location")!;
    await fetch(`${a.url}${loc}`, { method: "PATCH", body: "part1", headers: { "Content-Range": "0-4" } });
    await a.reg.close(100);
    const b = await startRegistry({}, { data: a.data });
    try {
      const g = await fetch(`${b.url}/v2/persist/test/manifests/v1`);
      assert.equal(g.status, 200);
      assert.deepEqual(Buffer.from(await g.arrayBuffer()), img.bytes);
      assert.equal(
        (await fetch(`${b.url}/v2/persist/test/blobs/${img.layer}`, { method: "HEAD" })).status,
        200,
      );
      const t = await fetch(`${b.url}/v2/persist/test/tags/list`);
      assert.deepEqual(((await t.json()) as { tags: string[] }).tags, ["v1"]);
      const st = await fetch(`${b.url}${loc}`);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get("range"), "0-4");
      const done = await fetch(`${b.url}${loc}?digest=${sha256("part1part2")}`, {
        method: "PUT",
        body: "part2",
      });
      assert.equal(done.status, 201);
    } finally {
      await b.reg.close(100);
      const { rm } = await import("node:fs/promises");
      await rm(a.data, { recursive: true, force: true });
    }
  });
  test("purge removes abandoned upload sessions only", async () => {
    const s1 = await fetch(`${U}/v2/purge/test/blobs/uploads/`, { method: "POST" });
    const loc = s1.headers.get("location")!;
    assert.equal(await R.reg.store.purgeUploads(60_000), 0);
    assert.equal((await fetch(`${U}${loc}`)).status, 204);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok((await R.reg.store.purgeUploads(1)) >= 1);
    const gone = await fetch(`${U}${loc}`);
    assert.equal(gone.status, 404);
  });
});
