// Crash tests: the real `dockyard registry serve` process is killed with SIGKILL in the middle of
// uploads and manifest PUTs; after a restart nothing partial is visible, tags are intact, and
// upload sessions resume from their last acknowledged byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { startServer, removeDir, tempDir } from "./helpers.js";
import { pushBlob, pushImage, sha256, OCI_MANIFEST } from "./client.js";

/** Every visible blob's content hashes to its name. */
async function assertStoreConsistent(root: string): Promise<number> {
  let n = 0;
  for (const alg of ["sha256"]) {
    let prefixes: string[] = [];
    try {
      prefixes = await readdir(join(root, "blobs", alg));
    } catch {
      continue;
    }
    for (const p of prefixes.filter((x) => !x.startsWith(".")))
      for (const hex of (await readdir(join(root, "blobs", alg, p))).filter((x) => !x.startsWith("."))) {
        // A blob is visible only through its `data` file (renamed into place last): a kill between
        // the directory's mkdir and that rename leaves an empty directory, which serves as 404.
        const data = await readFile(join(root, "blobs", alg, p, hex, "data")).catch(
          (err: NodeJS.ErrnoException) => {
            if (err.code === "ENOENT") return undefined;
            throw err;
          },
        );
        if (data === undefined) continue;
        assert.equal(createHash(alg).update(data).digest("hex"), hex, `blob ${hex} is complete`);
        n++;
      }
  }
  return n;
}

/** Opens a socket, sends a request head and part of a body, and keeps the socket open. */
function partialRequest(port: number, head: string, part: Buffer): Promise<import("node:net").Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      s.write(head.replace(/\n/g, "\r\n") + "\r\n");
      s.write(part, () => resolve(s));
    });
    s.on("error", () => {});
    s.once("error", reject);
  });
}

test(
  "kill -9 mid-chunk: after restart the session resumes at its last acknowledged offset",
  { timeout: 60_000 },
  async () => {
    const data = await tempDir();
    let srv = await startServer({ data, args: ["--no-access-log"] });
    try {
      const blob = randomBytes(3_000_000);
      const post = await fetch(`${srv.url}/v2/crash/upload/blobs/uploads/`, { method: "POST" });
      const loc = post.headers.get("location")!;
      const r1 = await fetch(`${srv.url}${loc}`, {
        method: "PATCH",
        body: new Uint8Array(blob.subarray(0, 1_000_000)),
        headers: { "Content-Range": "0-999999" },
      });
      assert.equal(r1.status, 202);
      const sock = await partialRequest(
        srv.port,
        `PATCH ${loc} HTTP/1.1\nHost: x\nContent-Length: 2000000\nContent-Range: 1000000-2999999\n`,
        blob.subarray(1_000_000, 2_200_000),
      );
      await new Promise((r) => setTimeout(r, 300));
      await srv.kill();
      sock.destroy();
      srv = await startServer({ data, args: ["--no-access-log"] });
      const st = await fetch(`${srv.url}${loc}`);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get("range"), "0-999999", "the unfinished chunk was dropped");
      assert.equal(
        (await fetch(`${srv.url}/v2/crash/upload/blobs/${sha256(blob)}`, { method: "HEAD" })).status,
        404,
      );
      const r2 = await fetch(`${srv.url}${loc}`, {
        method: "PATCH",
        body: new Uint8Array(blob.subarray(1_000_000)),
        headers: { "Content-Range": "1000000-2999999" },
      });
      assert.equal(r2.status, 202);
      const done = await fetch(`${srv.url}${loc}?digest=${sha256(blob)}`, { method: "PUT" });
      assert.equal(done.status, 201);
      const g = await fetch(`${srv.url}/v2/crash/upload/blobs/${sha256(blob)}`);
      assert.equal(sha256(Buffer.from(await g.arrayBuffer())), sha256(blob));
      await assertStoreConsistent(data);
    } finally {
      await srv.kill();
      await removeDir(data);
    }
  },
);

test(
  "kill -9 during a monolithic PUT and a manifest PUT: nothing partial becomes visible",
  { timeout: 60_000 },
  async () => {
    const data = await tempDir();
    let srv = await startServer({ data, args: ["--no-access-log"] });
    try {
      const img = await pushImage(srv.url, "crash/manifest", "v1");
      const big = randomBytes(4_000_000);
      const s1 = await fetch(`${srv.url}/v2/crash/manifest/blobs/uploads/`, { method: "POST" });
      const loc = s1.headers.get("location")!;
      const blobSock = await partialRequest(
        srv.port,
        `PUT ${loc}?digest=${sha256(big)} HTTP/1.1\nHost: x\nContent-Length: ${big.length}\n`,
        big.subarray(0, 2_500_000),
      );
      const other = Buffer.from(img.bytes.toString().replace('"layers"', '"annotations":{"x":"y"},"layers"'));
      const manSock = await partialRequest(
        srv.port,
        `PUT /v2/crash/manifest/manifests/v1 HTTP/1.1\nHost: x\nContent-Type: ${OCI_MANIFEST}\nContent-Length: ${other.length}\n`,
        other.subarray(0, other.length - 10),
      );
      await new Promise((r) => setTimeout(r, 300));
      await srv.kill();
      blobSock.destroy();
      manSock.destroy();
      srv = await startServer({ data, args: ["--no-access-log"] });
      assert.equal(
        (await fetch(`${srv.url}/v2/crash/manifest/blobs/${sha256(big)}`, { method: "HEAD" })).status,
        404,
      );
      const g = await fetch(`${srv.url}/v2/crash/manifest/manifests/v1`);
      assert.equal(g.status, 200);
      assert.deepEqual(
        Buffer.from(await g.arrayBuffer()),
        img.bytes,
        "the tag still points at the old, complete manifest",
      );
      assert.equal(
        (await fetch(`${srv.url}/v2/crash/manifest/manifests/${sha256(other)}`, { method: "HEAD" })).status,
        404,
      );
      await assertStoreConsistent(data);
    } finally {
      await srv.kill();
      await removeDir(data);
    }
  },
);

test(
  "kill -9 at a random moment of a tag-moving, blob-pushing load: tags are never corrupt",
  { timeout: 90_000 },
  async () => {
    const data = await tempDir();
    let srv = await startServer({ data, args: ["--no-access-log"] });
    try {
      const a = await pushImage(srv.url, "crash/load", "a", { seed: "a" });
      const b = await pushImage(srv.url, "crash/load", "b", { seed: "b" });
      const known = new Map([
        [a.digest, a.bytes],
        [b.digest, b.bytes],
      ]);
      let stop = false;
      const workers = Array.from({ length: 8 }, async (_, w) => {
        let i = 0;
        while (!stop) {
          const m = (i + w) % 2 ? a : b;
          try {
            if (i % 3 === 0) await pushBlob(srv.url, "crash/load", randomBytes(64 * 1024));
            await fetch(`${srv.url}/v2/crash/load/manifests/moving${w % 3}`, {
              method: "PUT",
              body: new Uint8Array(m.bytes),
              headers: { "Content-Type": OCI_MANIFEST },
            });
          } catch {
            return;
          }
          i++;
        }
      });
      await new Promise((r) => setTimeout(r, 400 + Math.floor(Math.random() * 600)));
      await srv.kill();
      stop = true;
      await Promise.allSettled(workers);
      srv = await startServer({ data, args: ["--no-access-log"] });
      const tags = ((await (await fetch(`${srv.url}/v2/crash/load/tags/list`)).json()) as { tags: string[] })
        .tags;
      assert.ok(tags.includes("a") && tags.includes("b"));
      for (const t of tags) {
        const g = await fetch(`${srv.url}/v2/crash/load/manifests/${t}`);
        assert.equal(g.status, 200, t);
        const bytes = Buffer.from(await g.arrayBuffer());
        const d = sha256(bytes);
        assert.equal(g.headers.get("docker-content-digest"), d);
        assert.ok(known.has(d), `tag ${t} points at a complete, known manifest`);
      }
      assert.ok((await assertStoreConsistent(data)) >= 4);
    } finally {
      await srv.kill();
      await removeDir(data);
    }
  },
);

test("SIGTERM: an in-flight upload finishes, then the process exits 0", { timeout: 60_000 }, async () => {
  const srv = await startServer({ args: ["--no-access-log"] });
  try {
    const body = randomBytes(1_000_000);
    const post = await fetch(`${srv.url}/v2/term/test/blobs/uploads/`, { method: "POST" });
    const loc = post.headers.get("location")!;
    const sock = await partialRequest(
      srv.port,
      `PUT ${loc}?digest=${sha256(body)} HTTP/1.1\nHost: x\nContent-Length: ${body.length}\nConnection: close\n`,
      body.subarray(0, 400_000),
    );
    let reply = "";
    sock.on("data", (c) => (reply += c.toString()));
    const closed = new Promise((r) => sock.on("close", r));
    await new Promise((r) => setTimeout(r, 100));
    srv.proc.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    sock.write(body.subarray(400_000));
    await closed;
    assert.match(reply, /^HTTP\/1\.1 201/);
    assert.equal(await srv.exited, 0);
    assert.match(srv.stderr(), /"msg":"stopped"/);
  } finally {
    await srv.kill();
    await removeDir(srv.data);
  }
});
