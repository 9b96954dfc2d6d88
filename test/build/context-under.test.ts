// BuildContext.under (binary search over the sorted entries) against the plain definition, on
// names that sort between "a" and "a/…" ("a b", "a-b", "a.b", "a0"…), and digestOf's answer for
// a context whose stat cache answers everything equals the one it computed reading every file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildContext } from "../../src/build/context.js";

const NAMES = [
  "a",
  "a b",
  "a-b",
  "a.b",
  "a0",
  "a/b",
  "a/b c",
  "a/b-c",
  "a/b/c",
  "a/b/c/d",
  "a/b0",
  "a/c",
  "ab",
  "b",
  "é",
  "é/x",
];

test("context.under: same entries and order as filtering every entry; digestOf stable across the stat cache", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dy-build-under-"));
  try {
    const root = join(dir, "ctx");
    const dirs = new Set(NAMES.filter((n) => NAMES.some((m) => m.startsWith(n + "/"))));
    for (const n of NAMES) {
      if (dirs.has(n)) await mkdir(join(root, n), { recursive: true });
      else {
        await mkdir(join(root, n, ".."), { recursive: true });
        await writeFile(join(root, n), `content of ${n}\n`);
      }
    }
    const cacheDir = join(dir, "cache");
    await mkdir(cacheDir);
    const ctx = await BuildContext.load(root, { cacheDir });
    const all = [...ctx.entries.values()];
    const plain = (rel: string) =>
      all
        .filter((e) => rel === "" || e.rel === rel || e.rel.startsWith(rel + "/"))
        .map((e) => e.rel)
        .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const rel of ["", ...NAMES, "a/b/c/d/e", "missing", "a/", "é"]) {
      assert.deepEqual(
        ctx.under(rel).map((e) => e.rel),
        plain(rel),
        `under(${JSON.stringify(rel)})`,
      );
    }
    assert.deepEqual(
      ctx.under("a").map((e) => e.rel),
      ["a", "a/b", "a/b c", "a/b-c", "a/b/c", "a/b/c/d", "a/b0", "a/c"],
    );
    const rels = ["", "a", "a/b", "é", "a b"];
    const first = await Promise.all(rels.map((r) => ctx.digestOf([r])));
    assert.equal(ctx.hashedFiles, NAMES.length - dirs.size, "every file read once");
    await ctx.save();
    const again = await BuildContext.load(root, { cacheDir });
    assert.deepEqual(await Promise.all(rels.map((r) => again.digestOf([r]))), first);
    assert.equal(again.hashedFiles, 0, "the stat cache answered every file");
    // a content change is seen even when the cache holds the old digest (size changes)
    await writeFile(join(root, "a/b/c/d"), "changed content, longer\n");
    const changed = await BuildContext.load(root, { cacheDir });
    assert.notEqual(await changed.digestOf(["a"]), first[1]);
    assert.equal(await changed.digestOf(["b"]), await again.digestOf(["b"]));
    assert.equal(changed.hashedFiles, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
