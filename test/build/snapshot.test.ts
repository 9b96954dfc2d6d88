import { test } from "node:test";
import { createHash, randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, writeFile, rm, lstat, readFile, stat, symlink, utimes } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import * as tar from "tar-stream";
import {
  extractLayer,
  diffToLayer,
  looksIncompressible,
  mountOverlay,
  OPAQUE_XATTR,
} from "../../src/build/snapshot.js";
import { isDockyardError } from "../../src/image/errors.js";
import { hasCommand } from "../helpers/peers.js";

const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? "needs root (mknod, chown, overlay)"
  : !hasCommand("getfattr")
    ? "needs getfattr/setfattr (apt-get install attr)"
    : false;

type E = { name: string; type?: tar.Header["type"]; linkname?: string; body?: string; mode?: number };

async function tarOf(entries: E[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    const h = {
      name: e.name,
      type: e.type ?? "file",
      linkname: e.linkname,
      mode: e.mode ?? 0o644,
      mtime: new Date(1_600_000_000_000),
    } as tar.Header;
    await new Promise<void>((res, rej) =>
      pack.entry(h, e.type && e.type !== "file" ? Buffer.alloc(0) : Buffer.from(e.body ?? ""), (err) =>
        err ? rej(err) : res(),
      ),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

async function withDir<T>(fn: (d: string) => Promise<T>): Promise<T> {
  const d = await mkdtemp(join(tmpdir(), "dy-build-snap-"));
  try {
    return await fn(d);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}

async function expectEscape(entries: E[]) {
  await withDir(async (d) => {
    const dest = join(d, "layer");
    await assert.rejects(extractLayer(await tarOf(entries), dest), (err) =>
      isDockyardError(err, "PATH_ESCAPE"),
    );
    assert.equal(existsSync(join(d, "evil")), false, "nothing written beside the layer dir");
  });
}

test("extract: .. names are refused", { skip }, async () => {
  await expectEscape([{ name: "../evil", body: "x" }]);
  await expectEscape([{ name: "a/../../evil", body: "x" }]);
});

test("extract: absolute names stay inside the layer", { skip }, async () => {
  await withDir(async (d) => {
    await extractLayer(await tarOf([{ name: "/abs/file", body: "in" }]), join(d, "l"));
    assert.equal(await readFile(join(d, "l/abs/file"), "utf8"), "in");
  });
});

test("extract: writing through a symlink is refused (absolute and relative targets)", { skip }, async () => {
  await withDir(async (d) => {
    const outside = join(d, "outside");
    await mkdir(outside);
    await assert.rejects(
      extractLayer(
        await tarOf([
          { name: "link", type: "symlink", linkname: outside },
          { name: "link/pwned", body: "x" },
        ]),
        join(d, "l1"),
      ),
      (err) => isDockyardError(err, "PATH_ESCAPE"),
    );
    await assert.rejects(
      extractLayer(
        await tarOf([
          { name: "up", type: "symlink", linkname: "../.." },
          { name: "up/pwned", body: "x" },
        ]),
        join(d, "l2"),
      ),
      (err) => isDockyardError(err, "PATH_ESCAPE"),
    );
    assert.equal(existsSync(join(outside, "pwned")), false);
    assert.equal(existsSync(join(d, "pwned")), false);
  });
});

test("extract: hardlinks must point inside the layer at something in it", { skip }, async () => {
  await expectEscape([{ name: "h", type: "link", linkname: "../../etc/passwd" }]);
  // absolute: cleaned to etc/passwd inside the layer, which is not there: refused (never the host's)
  await expectEscape([{ name: "h", type: "link", linkname: "/etc/passwd" }]);
  await expectEscape([
    { name: "s", type: "symlink", linkname: "/etc" },
    { name: "h", type: "link", linkname: "s/passwd" },
  ]);
  await withDir(async (d) => {
    await extractLayer(
      await tarOf([
        { name: "a", body: "same" },
        { name: "b", type: "link", linkname: "a" },
      ]),
      join(d, "l"),
    );
    const [a, b] = await Promise.all([stat(join(d, "l/a")), stat(join(d, "l/b"))]);
    assert.equal(a.ino, b.ino);
  });
});

test("extract: whiteouts become overlay whiteouts (char 0/0) and opaque xattrs", { skip }, async () => {
  await withDir(async (d) => {
    const l = join(d, "l");
    await extractLayer(
      await tarOf([
        { name: "etc/", type: "directory", mode: 0o755 },
        { name: "etc/.wh.gone", body: "" },
        { name: "var/", type: "directory", mode: 0o755 },
        { name: "var/.wh..wh..opq", body: "" },
        { name: "var/new", body: "n" },
      ]),
      l,
    );
    const wh = await lstat(join(l, "etc/gone"));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
    assert.equal(existsSync(join(l, "etc/.wh.gone")), false);
    const x = execFileSync("getfattr", ["--only-values", "-n", OPAQUE_XATTR, join(l, "var")]).toString();
    assert.equal(x, "y");
  });
});

async function listTar(path: string): Promise<tar.Header[]> {
  const ex = tar.extract();
  const out: tar.Header[] = [];
  const feed = Readable.from([readFileSync(path)]).pipe(createGunzip());
  feed.pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    out.push(e.header);
    e.resume();
  }
  return out;
}

test(
  "diff: upper dir → sorted tar with .wh. whiteouts, opaque markers, hardlinks, clamped mtimes",
  { skip },
  async () => {
    await withDir(async (d) => {
      const up = join(d, "upper");
      await mkdir(join(up, "b/dir"), { recursive: true });
      await writeFile(join(up, "b/z"), "z");
      await writeFile(join(up, "a"), "a");
      execFileSync("ln", [join(up, "a"), join(up, "a-link")]);
      await symlink("a", join(up, "sym"));
      execFileSync("mknod", [join(up, "b/removed"), "c", "0", "0"]);
      execFileSync("setfattr", ["-n", OPAQUE_XATTR, "-v", "y", join(up, "b/dir")]);
      await utimes(join(up, "a"), new Date(2_000_000_000_000), new Date(2_000_000_000_000));
      const blob = await diffToLayer(up, join(d, "layer.tgz"), { epoch: 1_700_000_000 });
      const hs = await listTar(join(d, "layer.tgz"));
      assert.deepEqual(
        hs.map((h) => `${h.name} ${h.type}${h.linkname ? " " + h.linkname : ""}`),
        [
          "a file",
          "a-link link a",
          "b/ directory",
          "b/dir/ directory",
          "b/dir/.wh..wh..opq file",
          "b/.wh.removed file",
          "b/z file",
          "sym symlink a",
        ],
      );
      for (const h of hs) assert.ok(h.mtime!.getTime() <= 1_700_000_000_000, `${h.name} clamped`);
      assert.match(blob.diffID, /^sha256:[0-9a-f]{64}$/);
      // deterministic: same tree, same digests
      const again = await diffToLayer(up, join(d, "layer2.tgz"), { epoch: 1_700_000_000 });
      assert.equal(again.diffID, blob.diffID);
      assert.equal(again.digest, blob.digest);
    });
  },
);

test("diff: files that do not compress are stored, the rest deflated; same digests every time", async () => {
  await withDir(async (d) => {
    const up = join(d, "upper");
    await mkdir(join(up, "img"), { recursive: true });
    // deterministic noise (what PNGs and archives look like to deflate) and text
    const noise = Buffer.concat(
      Array.from({ length: 9375 }, (_, i) => createHash("sha256").update(String(i)).digest()),
    );
    const text = Buffer.from("const route = (req, res) => res.json({ ok: true });\n".repeat(6000));
    await writeFile(join(up, "img/a.png"), noise);
    await writeFile(join(up, "img/b.png"), noise.subarray(0, 100_000));
    await writeFile(join(up, "img/c.txt"), text.subarray(0, 2000));
    await writeFile(join(up, "z.js"), text);
    await writeFile(join(up, "small.png"), noise.subarray(0, 1000));
    assert.equal(looksIncompressible(noise), true);
    assert.equal(looksIncompressible(text), false);
    const blob = await diffToLayer(up, join(d, "l1.tgz"), { gzipLevel: 1 });
    const again = await diffToLayer(up, join(d, "l2.tgz"), { gzipLevel: 1 });
    assert.equal(again.digest, blob.digest, "reproducible");
    assert.equal(again.diffID, blob.diffID);
    // the noise is stored (a little larger than itself), the text deflated to a sliver
    const raw = noise.length + 100_000 + text.length;
    assert.ok(blob.size > 400_000 && blob.size < 400_000 + text.length / 10, `${blob.size} of ${raw}`);
    // the two noise files only: c.txt after them compresses, so it deflates again, and small.png
    // after it is too small to switch to stored
    assert.equal(blob.stored, 400_000, "stored, not deflated");
    const gz = readFileSync(join(d, "l1.tgz"));
    assert.ok(!gz.includes(text.subarray(1000, 1064)), "the text is deflated");
    // and it is one valid gzip stream of the whole tar
    const tarBytes = gunzipSync(readFileSync(join(d, "l1.tgz")));
    assert.equal(tarBytes.length, blob.uncompressedSize);
    const names = (await listTar(join(d, "l1.tgz"))).map((h) => h.name);
    assert.deepEqual(names, ["img/", "img/a.png", "img/b.png", "img/c.txt", "small.png", "z.js"]);
    assert.ok(tarBytes.includes(text) && tarBytes.includes(noise), "the contents are intact");
    // GNU tar and gzip read it too (CRC and size in the trailer checked)
    const listed = execFileSync("tar", ["-tzf", join(d, "l1.tgz")], { encoding: "utf8" });
    assert.deepEqual(listed.trim().split("\n"), names);
  });
});

test("diff: a blob that cannot be written fails the diff (it does not hang on backpressure)", async () => {
  await withDir(async (d) => {
    const up = join(d, "upper");
    await mkdir(up);
    // 8 MB that is stored, not deflated: far more than the streams buffer
    await writeFile(
      join(up, "big.bin"),
      Buffer.concat(Array.from({ length: 128 }, () => randomBytes(1 << 16))),
    );
    await writeFile(join(up, "text.txt"), "x".repeat(100_000));
    await assert.rejects(diffToLayer(up, join(d, "no", "such", "dir", "layer.tgz")), /ENOENT/);
  });
});

test("overlay: mount, whiteout a lower file, release leaves no mount and no dirs", { skip }, async () => {
  await withDir(async (d) => {
    const lower = join(d, "lower");
    await mkdir(join(lower, "etc"), { recursive: true });
    await writeFile(join(lower, "etc/old"), "old");
    const m = await mountOverlay([lower], join(d, "work"));
    await rm(join(m.merged, "etc/old"));
    await writeFile(join(m.merged, "etc/new"), "new");
    const st = await lstat(join(m.upper, "etc/old"));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, "overlay made a whiteout");
    await m.release();
    assert.equal(readFileSync("/proc/mounts", "utf8").includes(m.merged), false);
    assert.equal(existsSync(m.dir), false);
  });
});
