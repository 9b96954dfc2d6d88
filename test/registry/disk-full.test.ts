import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmdir } from "node:fs/promises";
import { startRegistry, pushBlob, errCode, sha256 } from "./client.js";
import { tempDir } from "./helpers.js";

function tryMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]).status === 0;
}

test("disk full: 507 STORAGE_FULL with a clear message, nothing partial visible, store usable afterwards", async (t) => {
  const dir = await tempDir();
  if (!tryMount(dir)) {
    await rmdir(dir);
    t.skip("needs root and a tmpfs mount");
    return;
  }
  const R = await startRegistry({ storage: { fsync: false } }, { data: dir });
  try {
    const big = randomBytes(3 * 1024 * 1024);
    const r = await fetch(`${R.url}/v2/full/test/blobs/uploads/?digest=${sha256(big)}`, {
      method: "POST",
      body: new Uint8Array(big),
    });
    assert.equal(r.status, 507);
    const body = (await r.clone().json()) as { errors: { message: string }[] };
    assert.match(body.errors[0]!.message, /storage is full/);
    assert.equal(await errCode(r), "STORAGE_FULL");
    assert.equal((await fetch(`${R.url}/v2/full/test/blobs/${sha256(big)}`, { method: "HEAD" })).status, 404);
    // chunked: the failed chunk is rolled back, the session keeps what it had
    const s = await fetch(`${R.url}/v2/full/test/blobs/uploads/`, { method: "POST" });
    const loc = s.headers.get("location")!;
    assert.equal(
      (await fetch(`${R.url}${loc}`, { method: "PATCH", body: "hello", headers: { "Content-Range": "0-4" } }))
        .status,
      202,
    );
    const p = await fetch(`${R.url}${loc}`, {
      method: "PATCH",
      body: new Uint8Array(big),
      headers: { "Content-Range": `5-${5 + big.length - 1}` },
    });
    assert.equal(p.status, 507);
    await p.arrayBuffer();
    const st = await fetch(`${R.url}${loc}`);
    assert.equal(st.headers.get("range"), "0-4");
    assert.equal((await fetch(`${R.url}${loc}?digest=${sha256("hello")}`, { method: "PUT" })).status, 201);
    // space was given back: small pushes still work
    await pushBlob(R.url, "full/test", "small after full");
  } finally {
    await R.close();
    spawnSync("umount", [dir]);
    await rmdir(dir).catch(() => {});
  }
});
