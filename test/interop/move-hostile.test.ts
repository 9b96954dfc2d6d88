import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { isDockyardError, LocalStore, importTarball, layers } from "../../src/image/index.js";
import { main } from "../../src/cli/main.js";
import { rawTar, tempDir } from "../image/helpers.js";

function capture() {
  let out = "";
  let err = "";
  const mk = (f: (s: string) => void) =>
    Object.assign(
      new Writable({
        write(c: Buffer, _e, cb) {
          f(String(c));
          cb();
        },
      }),
      { isTTY: false },
    );
  return {
    io: { stdout: mk((s) => (out += s)), stderr: mk((s) => (err += s)), stdin: Readable.from([]) },
    out: () => out,
    err: () => err,
  };
}

const hostile: [string, Buffer, RegExp][] = [
  [
    "path traversal",
    rawTar([
      { name: "ok.txt", body: "ok" },
      { name: "../../evil.txt", body: "x" },
    ]),
    /climbs out/,
  ],
  ["absolute name", rawTar([{ name: "/tmp/evil-abs.txt", body: "x" }]), /absolute path/],
  [
    "symlink escape",
    rawTar([
      { name: "link", type: "2", linkname: "/tmp" },
      { name: "link/evil-sym.txt", body: "x" },
    ]),
    /symlink link/,
  ],
  [
    "hardlink escape",
    rawTar([{ name: "hl", type: "1", linkname: "../../../etc/passwd" }]),
    /hard link .*outside/,
  ],
  ["device file", rawTar([{ name: "dev/sda", type: "3" }]), /device file/],
  ["huge size", rawTar([{ name: "big.bin", body: "abc", size: 10 * 2 ** 30 }], { end: false }), /./],
];

for (const [what, tar, why] of hostile) {
  test(`import refuses a tarball with ${what}, naming the problem; nothing is stored`, async () => {
    const home = await tempDir();
    const store = new LocalStore(home);
    await assert.rejects(importTarball(Readable.from([tar]), store, "move/hostile:1"), (e) => {
      assert.ok(isDockyardError(e), `typed error, got ${e}`);
      assert.match((e as Error).message, why);
      return true;
    });
    assert.deepEqual(await store.list(), []);
  });

  test(`extractLayer refuses a layer with ${what}; nothing escapes the root`, async () => {
    const dir = await tempDir();
    const root = join(dir, "root");
    await mkdir(root);
    await assert.rejects(layers.extractLayer(Readable.from([tar]), root, { maxEntrySize: 2 ** 30 }), (e) => {
      assert.ok(isDockyardError(e) || e instanceof Error);
      return true;
    });
    assert.equal(existsSync(join(dir, "evil.txt")), false);
    assert.equal(existsSync("/tmp/evil-abs.txt"), false);
    assert.equal(existsSync("/tmp/evil-sym.txt"), false);
    assert.deepEqual((await readdir(dir)).sort(), ["root"]);
  });
}

test("extractLayer applies whiteouts and opaque dirs over lower layers, relative symlinks inside work", async () => {
  const root = join(await tempDir(), "r");
  await layers.extractLayer(
    Readable.from([
      rawTar([
        { name: "a/", type: "5" },
        { name: "a/old.txt", body: "old" },
        { name: "gone.txt", body: "bye" },
        { name: "usr/lib/", type: "5" },
        { name: "lib", type: "2", linkname: "usr/lib" },
      ]),
    ]),
    root,
  );
  await layers.extractLayer(
    Readable.from([
      rawTar([
        { name: "a/", type: "5" },
        { name: "a/.wh..wh..opq" },
        { name: "a/new.txt", body: "new" },
        { name: ".wh.gone.txt" },
        { name: "lib/libx.so", body: "elf" },
      ]),
    ]),
    root,
  );
  assert.deepEqual((await readdir(join(root, "a"))).sort(), ["new.txt"]);
  assert.equal(existsSync(join(root, "gone.txt")), false);
  assert.ok(existsSync(join(root, "usr/lib/libx.so")));
});

test("load refuses archives whose manifest.json points outside, and truncated archives, naming the entry", async () => {
  const dir = await tempDir();
  const bad = join(dir, "bad.tar");
  await writeFile(
    bad,
    rawTar([
      {
        name: "manifest.json",
        body: JSON.stringify([{ Config: "c.json", RepoTags: ["x:1"], Layers: ["../../etc/passwd"] }]),
      },
      { name: "c.json", body: "{}" },
    ]),
  );
  process.env.DOCKYARD_HOME = join(dir, "home");
  const c = capture();
  assert.equal(await main(["load", "-i", bad, "--progress", "quiet"], c.io), 3);
  assert.match(c.err(), /outside the archive/);

  const trunc = join(dir, "trunc.tar");
  await writeFile(trunc, rawTar([{ name: "manifest.json", body: "[]", size: 5000 }], { end: false }));
  const c2 = capture();
  assert.equal(await main(["load", "-i", trunc, "--progress", "quiet"], c2.io), 3);
  assert.match(c2.err(), /entry "manifest.json" claims 5000 bytes/);
});

test("a failed save leaves no output and no temp files", async () => {
  const dir = await tempDir();
  process.env.DOCKYARD_HOME = join(dir, "home");
  const c = capture();
  const code = await main(["save", "move/none:1", "-o", join(dir, "out.tar"), "--progress", "quiet"], c.io);
  assert.equal(code, 4);
  assert.deepEqual(await readdir(dir), []);
});

test("an interrupted save (SIGINT) leaves neither the output nor temp files", async () => {
  const { randomBytes } = await import("node:crypto");
  const { spawn } = await import("node:child_process");
  const { digestOf, MediaType, serializeManifest } = await import("../../src/image/index.js");
  const dir = await tempDir();
  const home = join(dir, "home");
  const store = new LocalStore(home);
  const blob = randomBytes(48 << 20);
  const cfg = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [digestOf(blob)] },
    }),
  );
  const m = {
    schemaVersion: 2 as const,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(cfg), size: cfg.length },
    layers: [{ mediaType: MediaType.ociLayer, digest: digestOf(blob), size: blob.length }],
  };
  await store.writeBlob(m.config, Readable.from([cfg]));
  await store.writeBlob(m.layers[0]!, Readable.from([blob]));
  await store.writeManifest("move/big:1", serializeManifest(m), MediaType.ociManifest);
  const outDir = join(dir, "out");
  await mkdir(outDir);
  const p = spawn(
    join(process.cwd(), "bin", "dockyard"),
    ["save", "--gzip", "move/big:1", "-o", join(outDir, "big.tar.gz"), "--progress", "quiet"],
    {
      env: { ...process.env, DOCKYARD_HOME: home },
      stdio: "ignore",
    },
  );
  const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
  for (let i = 0; i < 200 && (await readdir(outDir)).length === 0; i++)
    await new Promise((r) => setTimeout(r, 25));
  assert.equal((await readdir(outDir)).length, 1, "a temp file while saving");
  assert.ok(!existsSync(join(outDir, "big.tar.gz")), "not under its final name yet");
  p.kill("SIGINT");
  assert.equal(await exited, 130);
  assert.deepEqual(await readdir(outDir), []);
  await rm(dir, { recursive: true, force: true });
});
