// COPY's file copy (copyEntrySync): content of every size (empty, one buffer, several buffers),
// modes with set-id bits kept across --chown, --chmod, mtimes, preserved owners (COPY --from),
// a symlink or file already at the destination replaced (never followed), and the same through an
// overlay mount (the path a build takes, where copyFileSync's FICLONE fails).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyEntrySync } from "../../src/build/copy.js";
import { parseChmod } from "../../src/dockerfile/chmod.js";

const isRoot = process.getuid?.() === 0;

async function withDir<T>(fn: (d: string) => Promise<T>): Promise<T> {
  const d = await mkdtemp(join(tmpdir(), "dy-build-copy-"));
  try {
    return await fn(d);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}

const mtime = new Date("2021-03-04T05:06:07.000Z");

/** A source tree: files of 0 B, 10 B, exactly 1 MiB and 2.5 MiB + 3 B, a setuid file, a link, a subdir. */
async function makeSource(src: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ["empty", Buffer.alloc(0)],
    ["small.txt", Buffer.from("hello\nworld")],
    ["one-mib.bin", randomBytes(1 << 20)],
    ["sub/big.bin", randomBytes((5 << 19) + 3)],
    ["sub/suid", Buffer.from("#!/bin/sh\n")],
  ]);
  await mkdir(join(src, "sub"));
  for (const [rel, data] of files) {
    await writeFile(join(src, rel), data);
    await chmod(join(src, rel), 0o640);
    await utimes(join(src, rel), mtime, mtime);
  }
  await chmod(join(src, "sub/suid"), 0o4755);
  await symlink("small.txt", join(src, "link"));
  if (isRoot) await chown(join(src, "small.txt"), 1234, 4321);
  await utimes(join(src, "sub"), mtime, mtime);
  return files;
}

async function checkCopy(
  dst: string,
  files: Map<string, Buffer>,
  owner: { uid: number; gid: number },
  subCreated = true,
) {
  for (const [rel, data] of files) {
    const got = await readFile(join(dst, rel));
    assert.ok(got.equals(data), `${rel}: content differs (${got.length} vs ${data.length} bytes)`);
    const st = lstatSync(join(dst, rel));
    assert.equal(st.mode & 0o7777, rel === "sub/suid" ? 0o4755 : 0o640, `${rel}: mode`);
    assert.equal(st.mtime.getTime(), mtime.getTime(), `${rel}: mtime`);
    if (isRoot) assert.deepEqual([st.uid, st.gid], [owner.uid, owner.gid], `${rel}: owner`);
  }
  assert.equal(readlinkSync(join(dst, "link")), "small.txt");
  // a directory the copy created gets the source's mtime; one that existed keeps its own
  if (subCreated) assert.equal(lstatSync(join(dst, "sub")).mtime.getTime(), mtime.getTime());
}

test("copyEntrySync copies content of every size with modes (set-id kept across --chown), mtimes, owners", async () => {
  await withDir(async (d) => {
    const src = join(d, "src");
    await mkdir(src);
    const files = await makeSource(src);
    const owner = { uid: 1000, gid: 1001 };
    const n = copyEntrySync(src, join(d, "dst"), { root: d, owner });
    assert.equal(n, 8); // 5 files + link + 2 dirs
    await checkCopy(join(d, "dst"), files, owner);
  });
});

test("copyEntrySync: --chmod, preserved source owner, replacing a file or symlink at the destination", async () => {
  await withDir(async (d) => {
    const src = join(d, "src");
    await mkdir(src);
    await makeSource(src);
    const dst = join(d, "dst");
    await mkdir(dst);
    // a symlink pointing outside, where the copy lands: it must be replaced, not written through
    const outside = join(d, "outside");
    await writeFile(outside, "keep");
    await symlink(outside, join(dst, "small.txt"));
    await writeFile(join(dst, "empty"), "old content");
    copyEntrySync(src, dst, { root: d, chmod: parseChmod("go-r,u+x") }, undefined, "", true);
    assert.equal(readFileSync(outside, "utf8"), "keep");
    assert.ok(lstatSync(join(dst, "small.txt")).isFile());
    assert.equal(readFileSync(join(dst, "small.txt"), "utf8"), "hello\nworld");
    assert.equal(readFileSync(join(dst, "empty"), "utf8"), "");
    assert.equal(lstatSync(join(dst, "small.txt")).mode & 0o7777, 0o700);
    assert.equal(lstatSync(join(dst, "sub/suid")).mode & 0o7777, 0o4711);
    if (isRoot) {
      const st = lstatSync(join(dst, "small.txt"));
      assert.deepEqual([st.uid, st.gid], [1234, 4321]);
    }
  });
});

test(
  "copyEntrySync through an overlay mount: same files, over lower files and directories",
  { skip: isRoot ? false : "needs root (overlay mount)" },
  async () => {
    await withDir(async (d) => {
      const src = join(d, "src");
      await mkdir(src);
      const files = await makeSource(src);
      for (const x of ["lower/app/sub", "upper", "work", "merged"])
        await mkdir(join(d, x), { recursive: true });
      await writeFile(join(d, "lower/app/small.txt"), "lower version");
      await writeFile(join(d, "lower/app/sub/other"), "stays");
      const opts = `lowerdir=${d}/lower,upperdir=${d}/upper,workdir=${d}/work`;
      try {
        execFileSync("mount", ["-t", "overlay", "overlay", "-o", opts, join(d, "merged")]);
      } catch (err) {
        return void console.log(`# overlay mount unavailable: ${(err as Error).message}`);
      }
      try {
        const owner = { uid: 0, gid: 0 };
        copyEntrySync(src, join(d, "merged/app"), { root: join(d, "merged"), owner });
        await checkCopy(join(d, "merged/app"), files, owner, false);
        assert.equal(readFileSync(join(d, "merged/app/sub/other"), "utf8"), "stays");
        assert.equal(readFileSync(join(d, "lower/app/small.txt"), "utf8"), "lower version");
      } finally {
        execFileSync("umount", [join(d, "merged")]);
      }
      // the upper directory holds exactly what was copied
      assert.equal(readFileSync(join(d, "upper/app/small.txt"), "utf8"), "hello\nworld");
      assert.ok(readFileSync(join(d, "upper/app/sub/big.bin")).equals(files.get("sub/big.bin")!));
    });
  },
);
