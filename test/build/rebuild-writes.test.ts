// What a rebuild writes: a no-change rebuild leaves the local store's index alone (same bytes, same
// inode: no rewrite, no fsync), a changed build moves the tag, and a tag whose image lost a blob
// is written again rather than trusted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile, appendFile } from "node:fs/promises";
import { join } from "node:path";
import { dockyard, removeDir, tempDir, writeContext } from "./fixtures.js";

const isRoot = process.getuid?.() === 0;

interface IndexJson {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

const tagged = (idx: IndexJson, name: string) =>
  idx.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === name)?.digest;

test(
  "rebuilds: an unchanged tag is not rewritten, a changed image moves it, a missing blob rewrites it",
  {
    skip: isRoot ? false : "overlay mounts need root",
  },
  async () => {
    const dir = await tempDir("dy-build-rewrite-");
    try {
      const home = join(dir, "home");
      const ctx = await writeContext(join(dir, "ctx"), "FROM scratch\nCOPY a.txt /a.txt\n", {
        "a.txt": "one\n",
      });
      const build = async () => {
        const r = await dockyard(home, [
          "build",
          "--progress",
          "quiet",
          "-t",
          "rw/app:1",
          "-t",
          "rw/app:2",
          ctx,
        ]);
        assert.equal(r.code, 0, r.stderr);
      };
      const indexPath = join(home, "store", "index.json");
      await build();
      const first = await readFile(indexPath, "utf8");
      const st1 = await stat(indexPath, { bigint: true });
      const idx1 = JSON.parse(first) as IndexJson;
      const d1 = tagged(idx1, "docker.io/rw/app:1");
      assert.ok(d1, first);
      assert.equal(tagged(idx1, "docker.io/rw/app:2"), d1);
      // marked as built here (a push takes no mount hint from the tag)
      for (const m of idx1.manifests.filter((e) => e.digest === d1))
        assert.equal(m.annotations?.["org.dockyard.image.built"], "true", first);

      await build(); // nothing changed
      const st2 = await stat(indexPath, { bigint: true });
      assert.equal(await readFile(indexPath, "utf8"), first, "the index changed on a no-change rebuild");
      assert.equal(st2.ino, st1.ino, "the index was replaced on a no-change rebuild");
      assert.equal(st2.mtimeNs, st1.mtimeNs);

      await appendFile(join(ctx, "a.txt"), "two\n"); // a content change: a new image, the tags move
      await build();
      const idx3 = JSON.parse(await readFile(indexPath, "utf8")) as IndexJson;
      const d3 = tagged(idx3, "docker.io/rw/app:1");
      assert.ok(d3 && d3 !== d1, "the tag did not move to the changed image");
      assert.equal(tagged(idx3, "docker.io/rw/app:2"), d3);

      // the tagged image's config blob is gone: the next build must write it (and the entry) again
      const manifest = JSON.parse(
        await readFile(join(home, "store", "blobs", "sha256", d3!.slice(7)), "utf8"),
      ) as { config: { digest: string } };
      const cfgPath = join(home, "store", "blobs", "sha256", manifest.config.digest.slice(7));
      await rm(cfgPath);
      // (by mtime, not inode: ext4 may hand a file replaced twice its old inode number back)
      const before = (await stat(indexPath, { bigint: true })).mtimeNs;
      await build();
      assert.ok((await stat(cfgPath)).isFile(), "the missing config blob was not written again");
      assert.notEqual(
        (await stat(indexPath, { bigint: true })).mtimeNs,
        before,
        "the index entry was trusted despite a missing blob",
      );
      await writeFile(join(ctx, "a.txt"), "one\n");
    } finally {
      await removeDir(dir);
    }
  },
);
