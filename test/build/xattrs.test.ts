// Extended attributes in layers: the diff of an upper dir carries them as PAX SCHILY.xattr.*
// records (as Docker and BuildKit write them), unpacking a layer sets them again, and the tar
// reader keeps binary PAX values intact. GNU tar (--xattrs) is the peer on both sides.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, mkdir, writeFile, rm, symlink, readFile } from "node:fs/promises";
import { createReadStream, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { diffToLayer, extractLayer } from "../../src/build/snapshot.js";
import { copyEntry, flushXattrs, XattrCopy } from "../../src/build/copy.js";
import { readTar } from "../../src/build/tarreader.js";
import { parsePaxRecords } from "../../src/image/layers/tar-header.js";
import { paxRecord } from "../../src/build/tarwriter.js";
import { hasCommand, needPeers } from "../helpers/peers.js";
import { dockyard, ensureBases } from "./fixtures.js";

const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? "needs root (chown, setcap, trusted.* attributes)"
  : !hasCommand("getfattr") || !hasCommand("setcap") || !hasCommand("tar")
    ? "needs getfattr/setfattr (attr), setcap (libcap2-bin) and GNU tar"
    : false;

async function withDir<T>(fn: (d: string) => Promise<T>): Promise<T> {
  const d = await mkdtemp(join(tmpdir(), "dy-build-xattr-"));
  try {
    return await fn(d);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}

/** name → hex value of every attribute of `path` (getfattr, the reference reader). */
function attrsOf(path: string): Record<string, string> {
  const out = execFileSync("getfattr", ["-h", "--absolute-names", "-d", "-m", "-", "-e", "hex", path], {
    encoding: "utf8",
  });
  const r: Record<string, string> = {};
  for (const l of out.split("\n")) {
    const i = l.indexOf("=");
    if (i > 0 && !l.startsWith("#")) r[l.slice(0, i)] = l.slice(i + 1);
  }
  return r;
}

// cap_net_raw,cap_net_bind_service+ep as the kernel stores it (VFS_CAP_REVISION_2): bytes ≥ 0x80
// would not survive a UTF-8 decode; 0x2000 (cap_net_raw) | 0x0400 (bind) in the first word
const CAPS = "cap_net_raw,cap_net_bind_service+ep";

test(
  "xattrs: a layer diff carries user.* and security.capability as PAX SCHILY.xattr records; GNU tar restores them",
  { skip },
  async () => {
    await withDir(async (d) => {
      const upper = join(d, "upper");
      await mkdir(join(upper, "bin"), { recursive: true });
      await writeFile(join(upper, "f"), "hello\n");
      await writeFile(join(upper, "bin/ping"), "#!/bin/sh\n", { mode: 0o755 });
      await symlink("f", join(upper, "link"));
      execFileSync("setfattr", ["-n", "user.test", "-v", "1", join(upper, "f")]);
      execFileSync("setfattr", ["-n", "user.bin", "-v", "0x00ff80fe0a3d", join(upper, "f")]);
      execFileSync("setfattr", ["-n", "user.dir", "-v", "d", join(upper, "bin")]);
      execFileSync("setfattr", ["-n", "trusted.overlay.origin", "-v", "0x00fb", join(upper, "f")]);
      execFileSync("setcap", [CAPS, join(upper, "bin/ping")]);
      const want = attrsOf(join(upper, "bin/ping"))["security.capability"];
      assert.ok(want?.startsWith("0x"), "setcap set security.capability");

      const blob = await diffToLayer(upper, join(d, "layer.tar.gz"));
      const tarPath = join(d, "layer.tar");
      execFileSync("sh", ["-c", `gzip -dc "$1" > "$2"`, "_", blob.path, tarPath]);

      // the PAX records, read raw
      const seen = new Map<string, [string, Buffer][]>();
      for await (const e of readTar(createReadStream(tarPath))) seen.set(e.header.name, e.header.xattrs);
      const f = new Map(seen.get("f"));
      assert.equal(f.get("user.test")?.toString(), "1");
      assert.equal(f.get("user.bin")?.toString("hex"), "00ff80fe0a3d");
      assert.equal(f.has("trusted.overlay.origin"), false, "overlayfs bookkeeping is not carried");
      assert.equal(new Map(seen.get("bin/")).get("user.dir")?.toString(), "d");
      assert.equal("0x" + new Map(seen.get("bin/ping")).get("security.capability")?.toString("hex"), want);
      assert.deepEqual(seen.get("link"), []);

      // GNU tar, the peer, reads the same records back onto files
      const out = join(d, "gnu");
      await mkdir(out);
      execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-xpf", tarPath, "-C", out]);
      assert.equal(attrsOf(join(out, "f"))["user.test"], "0x31");
      assert.equal(attrsOf(join(out, "f"))["user.bin"], "0x00ff80fe0a3d");
      assert.equal(attrsOf(join(out, "bin/ping"))["security.capability"], want);
      assert.equal(attrsOf(join(out, "bin"))["user.dir"], "0x64");
    });
  },
);

test(
  "xattrs: unpacking a layer (GNU tar --xattrs, PAX) keeps its attributes, capabilities after chown",
  { skip },
  async () => {
    await withDir(async (d) => {
      const src = join(d, "src");
      await mkdir(join(src, "usr/bin"), { recursive: true });
      await writeFile(join(src, "usr/bin/tool"), "x", { mode: 0o755 });
      await writeFile(join(src, "odd name\n=é"), "y");
      execFileSync("chown", ["1000:1000", join(src, "usr/bin/tool")]);
      execFileSync("setcap", [CAPS, join(src, "usr/bin/tool")]);
      execFileSync("setfattr", ["-n", "user.k", "-v", "0x0001ff", join(src, "odd name\n=é")]);
      execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(src, "usr")]);
      const want = attrsOf(join(src, "usr/bin/tool"))["security.capability"];
      const tarPath = join(d, "l.tar");
      execFileSync("tar", [
        "--xattrs",
        "--xattrs-include=*",
        "--format=posix",
        "-cf",
        tarPath,
        "-C",
        src,
        ".",
      ]);

      const dest = join(d, "layer");
      await extractLayer(createReadStream(tarPath), dest);
      assert.equal(attrsOf(join(dest, "usr/bin/tool"))["security.capability"], want);
      assert.equal(attrsOf(join(dest, "odd name\n=é"))["user.k"], "0x0001ff");
      // a layer cannot plant overlayfs markers through an attribute record
      assert.equal(attrsOf(join(dest, "usr"))["trusted.overlay.opaque"], undefined);
      assert.equal(readFileSync(join(dest, "usr/bin/tool"), "utf8"), "x");
    });
  },
);

test(
  "tar reader: GNU long names and links, base-256 numbers, ustar prefix, PAX overrides; writer's PAX length is self-inclusive",
  { skip: !hasCommand("tar") ? "needs GNU tar" : false },
  async () => {
    await withDir(async (d) => {
      const src = join(d, "src");
      const long = "a".repeat(120) + "/" + "b".repeat(90); // ustar: prefix + name; gnu: L; posix: path
      await mkdir(join(src, "a".repeat(120)), { recursive: true });
      await writeFile(join(src, long), "long");
      await symlink("t".repeat(150), join(src, "lnk"));
      for (const fmt of ["gnu", "posix", "ustar"]) {
        const tarPath = join(d, `${fmt}.tar`);
        const files = fmt === "ustar" ? [long] : [long, "lnk"];
        const owner = fmt === "ustar" ? [] : ["--owner=2097152", "--group=7", "--numeric-owner"]; // > 7 octal digits
        execFileSync("tar", [`--format=${fmt}`, ...owner, "-cf", tarPath, "-C", src, ...files]);
        const got: Record<string, { type: string; linkname: string; uid: number; body: string }> = {};
        for await (const e of readTar(createReadStream(tarPath))) {
          let body = "";
          for await (const c of e.body) body += c.toString();
          got[e.header.name] = { type: e.header.type, linkname: e.header.linkname, uid: e.header.uid, body };
        }
        assert.equal(got[long]?.body, "long", `${fmt}: long name`);
        if (fmt !== "ustar") {
          assert.equal(got["lnk"]?.linkname, "t".repeat(150), `${fmt}: long link`);
          assert.equal(got[long]?.uid, 2097152, `${fmt}: uid past 7 octal digits`);
        }
      }
      const rec = paxRecord("SCHILY.xattr.user.x", Buffer.from([0, 0xff, 0x0a]));
      const len = Number(rec.subarray(0, rec.indexOf(0x20)).toString());
      assert.equal(len, rec.length);
      assert.deepEqual(
        [...parsePaxRecords(rec)!].map(([k, v]) => [k, v.toString("hex")]),
        [["SCHILY.xattr.user.x", "00ff0a"]],
      );
      // " k=12345\n" is 9 bytes: 9 + 1 digit = 10 has 2 digits, so the record is 11 bytes long
      const edge = paxRecord("k", "12345");
      assert.equal(edge.toString(), "11 k=12345\n");
      assert.equal(Number(edge.subarray(0, edge.indexOf(0x20)).toString()), edge.length);
      // a corrupt header is refused, not half-extracted
      const bad = Buffer.from(await readFile(join(d, "gnu.tar")));
      bad[0] = bad[0]! ^ 0xff;
      await assert.rejects(async () => {
        for await (const _ of readTar(Readable.from([bad]))) void _;
      }, /checksum/);
    });
  },
);

test(
  "xattrs: a gzip layer written by diffToLayer unpacks with its attributes (round trip)",
  { skip },
  async () => {
    await withDir(async (d) => {
      const upper = join(d, "upper");
      await mkdir(upper);
      await writeFile(join(upper, "f"), "z");
      execFileSync("setfattr", ["-n", "user.round", "-v", "trip", join(upper, "f")]);
      const blob = await diffToLayer(upper, join(d, "l.tgz"));
      const dest = join(d, "out");
      await extractLayer(createReadStream(blob.path).pipe(createGunzip()), dest);
      assert.equal(attrsOf(join(dest, "f"))["user.round"], "0x74726970");
    });
  },
);

test("xattrs: a RUN's setfattr/setcap end up in the layer tar (PAX), read back by GNU tar", async (t) => {
  const missing = needPeers("runc", "getfattr", "setcap");
  if (missing || skip) return t.skip(String(missing || skip));
  const problem = await ensureBases();
  if (problem) {
    if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(problem);
    return t.skip(problem);
  }
  await withDir(async (d) => {
    // busybox has no setfattr/setcap: the host's (and the libraries they need) go into the image
    const ctx = join(d, "ctx");
    const tools = join(ctx, "t");
    for (const [from, to] of [
      ["/usr/bin/setfattr", "usr/bin/setfattr"],
      ["/usr/sbin/setcap", "usr/sbin/setcap"],
      ["/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"],
      ["/lib/x86_64-linux-gnu/libcap.so.2", "lib/x86_64-linux-gnu/libcap.so.2"],
      ["/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2"],
    ] as const) {
      await mkdir(join(tools, to, ".."), { recursive: true });
      await cp(realpathSync(from), join(tools, to));
    }
    await writeFile(
      join(ctx, "Dockerfile"),
      "FROM 127.0.0.1:5300/busybox:latest\nCOPY t/ /\n" +
        "RUN echo hi > /f && setfattr -n user.test -v 1 /f && cp /bin/busybox /bin/pingx && setcap cap_net_raw+ep /bin/pingx\n",
    );
    const home = join(d, "home");
    const oci = join(d, "img.tar");
    const r = await dockyard(home, [
      "build",
      "--progress",
      "plain",
      "--network",
      "none",
      "-o",
      `type=oci,dest=${oci}`,
      ctx,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const img = join(d, "img");
    await mkdir(img);
    execFileSync("tar", ["-xf", oci, "-C", img]);
    const blob = (dg: string) => join(img, "blobs/sha256", dg.slice(7));
    const index = JSON.parse(readFileSync(join(img, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), "utf8")) as {
      layers: { digest: string }[];
    };
    const out = join(d, "out");
    await mkdir(out);
    execFileSync("sh", [
      "-c",
      `gzip -dc "$1" | tar --xattrs --xattrs-include='*' -xpf - -C "$2"`,
      "_",
      blob(manifest.layers.at(-1)!.digest),
      out,
    ]);
    assert.equal(attrsOf(join(out, "f"))["user.test"], "0x31");
    // what setcap stores for cap_net_raw+ep (VFS_CAP_REVISION_2, effective, bit 13)
    assert.equal(
      attrsOf(join(out, "bin/pingx"))["security.capability"],
      "0x0100000200200000000000000000000000000000",
    );
  });
});

test("xattrs: COPY from the context and COPY --from a stage keep user.* and security.capability (after --chown too)", async (t) => {
  const missing = needPeers("runc", "getfattr", "setcap");
  if (missing || skip) return t.skip(String(missing || skip));
  const problem = await ensureBases();
  if (problem) {
    if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(problem);
    return t.skip(problem);
  }
  await withDir(async (d) => {
    const ctx = join(d, "ctx");
    const tools = join(ctx, "t");
    for (const [from, to] of [
      ["/usr/sbin/setcap", "usr/sbin/setcap"],
      ["/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"],
      ["/lib/x86_64-linux-gnu/libcap.so.2", "lib/x86_64-linux-gnu/libcap.so.2"],
      ["/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2"],
    ] as const) {
      await mkdir(join(tools, to, ".."), { recursive: true });
      await cp(realpathSync(from), join(tools, to));
    }
    await mkdir(join(ctx, "d"));
    await writeFile(join(ctx, "f"), "hello\n");
    await writeFile(join(ctx, "d", "g"), "g\n");
    await writeFile(join(ctx, "plain"), "no attributes\n");
    execFileSync("setfattr", ["-n", "user.test", "-v", "1", join(ctx, "f")]);
    execFileSync("setfattr", ["-n", "user.bin", "-v", "0x00ff80fe0a3d", join(ctx, "f")]);
    execFileSync("setfattr", ["-n", "user.dir", "-v", "d", join(ctx, "d")]);
    execFileSync("setfattr", ["-n", "user.g", "-v", "g", join(ctx, "d", "g")]);
    await writeFile(
      join(ctx, "Dockerfile"),
      [
        "FROM 127.0.0.1:5300/busybox:latest AS stage",
        "COPY t/ /",
        "RUN cp /bin/busybox /bin/pingx && setcap cap_net_raw+ep /bin/pingx",
        "FROM 127.0.0.1:5300/busybox:latest",
        "COPY f plain /c/",
        "COPY d /c/d",
        "COPY --from=stage /bin/pingx /pingx",
        "COPY --from=stage --chown=1:1 /bin/pingx /pingx-chowned",
        "",
      ].join("\n"),
    );
    const r = await dockyard(join(d, "home"), [
      "build",
      "--progress",
      "plain",
      "--network",
      "none",
      "-o",
      `type=oci,dest=${join(d, "img.tar")}`,
      ctx,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const img = join(d, "img");
    await mkdir(img);
    execFileSync("tar", ["-xf", join(d, "img.tar"), "-C", img]);
    const blob = (dg: string) => join(img, "blobs/sha256", dg.slice(7));
    const index = JSON.parse(readFileSync(join(img, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), "utf8")) as {
      layers: { digest: string }[];
    };
    // the four COPY layers, unpacked by GNU tar (the peer reading the PAX records)
    const out = join(d, "out");
    await mkdir(out);
    for (const l of manifest.layers.slice(-4))
      execFileSync("sh", [
        "-c",
        `gzip -dc "$1" | tar --xattrs --xattrs-include='*' -xpf - -C "$2"`,
        "_",
        blob(l.digest),
        out,
      ]);
    assert.equal(readFileSync(join(out, "c/f"), "utf8"), "hello\n");
    assert.equal(attrsOf(join(out, "c/f"))["user.test"], "0x31");
    assert.equal(attrsOf(join(out, "c/f"))["user.bin"], "0x00ff80fe0a3d");
    assert.deepEqual(attrsOf(join(out, "c/plain")), {});
    assert.equal(attrsOf(join(out, "c/d"))["user.dir"], "0x64");
    assert.equal(attrsOf(join(out, "c/d/g"))["user.g"], "0x67");
    const cap = "0x0100000200200000000000000000000000000000"; // cap_net_raw+ep, VFS_CAP_REVISION_2
    assert.equal(attrsOf(join(out, "pingx"))["security.capability"], cap);
    assert.equal(attrsOf(join(out, "pingx-chowned"))["security.capability"], cap, "kept after --chown");
    assert.match(execFileSync("getcap", [join(out, "pingx")], { encoding: "utf8" }), /cap_net_raw[=+]ep/);
  });
});

test(
  "xattrs: copyEntry + flushXattrs read exactly the copied paths (excluded ones never), in argument chunks",
  { skip },
  async () => {
    await withDir(async (d) => {
      const src = join(d, "src");
      await mkdir(join(src, "skip"), { recursive: true });
      const names: string[] = [];
      for (let i = 0; i < 2500; i++) names.push(`file-with-a-rather-long-name-so-chunks-are-needed-${i}`);
      for (const n of names) await writeFile(join(src, n), n);
      await writeFile(join(src, "skip", "x"), "x");
      execFileSync("setfattr", ["-n", "user.first", "-v", "1", join(src, names[0]!)]);
      execFileSync("setfattr", ["-n", "user.last", "-v", "2", join(src, names.at(-1)!)]);
      execFileSync("setfattr", ["-n", "user.dir", "-v", "d", src]);
      const o = { root: d, xattrs: new XattrCopy() };
      await copyEntry(src + "/", join(d, "dst"), o, (rel) => !rel.startsWith("skip"));
      assert.equal(o.xattrs.pairs.size, 2501, "every copied file and the created directory");
      assert.ok(![...o.xattrs.pairs.keys()].some((k) => k.includes("/skip")), "excluded paths not collected");
      await flushXattrs(o);
      assert.equal(o.xattrs.applied, true);
      assert.equal(attrsOf(join(d, "dst", names[0]!))["user.first"], "0x31");
      assert.equal(attrsOf(join(d, "dst", names.at(-1)!))["user.last"], "0x32");
      assert.equal(attrsOf(join(d, "dst"))["user.dir"], "0x64");
      assert.deepEqual(attrsOf(join(d, "dst", names[1]!)), {});
    });
  },
);
