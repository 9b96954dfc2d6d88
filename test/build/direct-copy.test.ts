// COPY writes straight into a fresh upper dir and looks the parent layers up unmounted (LowerView);
// the image must be the very one the overlay-mounted COPY makes, in the cases where the two could
// part: directories the parents have (their owner and mode kept), opaque directories and
// whiteouts hiding what is below, names from the image's /etc/passwd, a copy that writes nothing,
// and a symlink on the way (that step goes back to the overlay).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import {
  ensureBases,
  execFileP,
  removeDir,
  run,
  skipWithoutBases,
  tempDir,
  writeContext,
  BIN,
} from "./fixtures.js";

const skipPeers = needPeers("runc");
const BASE = "127.0.0.1:5300/busybox:latest";
let basesProblem: string | undefined;
let work: string;

before(async () => {
  if (skipPeers) return;
  basesProblem = await ensureBases();
  work = await tempDir("dy-direct-");
});
after(async () => {
  await removeDir(work);
});

const DOCKERFILE = `FROM ${BASE}
RUN mkdir -p /data/keep /opq/old /gone/old /etc/app && touch /opq/old/hidden /gone/old/hidden \\
 && chmod 0700 /opq/old /gone/old && chown 99:99 /opq/old /gone/old && chmod 0700 /data && chown 1234:5678 /data && chmod 2750 /data/keep && ln -s /data /link \\
 && echo 'someone:x:4321:8765::/:/bin/sh' >> /etc/passwd && echo 'grp:x:8765:' >> /etc/group
RUN rm -rf /opq /gone && mkdir -p /opq/new
COPY a.txt /data/
COPY a.txt /data/sub/deep/
COPY tree/ /opq/
COPY tree/ /gone/
COPY --chown=someone:grp a.txt /etc/app/owned
COPY empty/ /data/
COPY tree/ /data/keep/
ADD a.txt /data/added.txt
ADD arch.tar /data/unpacked/
COPY a.txt /link/via-link.txt
WORKDIR /data/keep
WORKDIR /data/newdir/deeper
USER someone
WORKDIR /home/someone/work
WORKDIR /link/wd
USER root
`;

async function build(ctx: string, home: string, direct: boolean, out: string, ...flags: string[]) {
  return run(
    BIN,
    [
      "build",
      ...flags,
      "--progress",
      "plain",
      "--network",
      "none",
      "-o",
      `type=local,dest=${out}`,
      "--iidfile",
      `${out}.iid`,
      ctx,
    ],
    {
      env: {
        ...process.env,
        DOCKYARD_HOME: home,
        DOCKYARD_TIMING: "1",
        DOCKYARD_DIRECT_COPY: direct ? "1" : "0",
        SOURCE_DATE_EPOCH: "1700000000",
      },
      timeoutMs: 300_000,
    },
  );
}

test(
  "COPY into an upper dir without a mount makes the same image as COPY on the overlay",
  { skip: skipPeers },
  async (t) => {
    if (skipWithoutBases(t, basesProblem)) return;
    const ctx = await writeContext(join(work, "ctx"), DOCKERFILE, {
      "a.txt": "a\n",
      "tree/old/f.txt": "f\n",
      "tree/top.txt": "t\n",
    });
    await mkdir(join(ctx, "empty"));
    await mkdir(join(work, "arch"));
    await writeFile(join(work, "arch", "inside.txt"), "in\n");
    await execFileP("tar", ["-C", join(work, "arch"), "-cf", join(ctx, "arch.tar"), "inside.txt"]);
    const overlay = await build(
      ctx,
      join(work, "home-overlay"),
      false,
      join(work, "out-overlay"),
      "--no-cache",
    );
    assert.equal(overlay.code, 0, overlay.stderr);
    const direct = await build(ctx, join(work, "home-direct"), true, join(work, "out-direct"), "--no-cache");
    assert.equal(direct.code, 0, direct.stderr);
    const iid = async (out: string) => (await execFileP("cat", [`${out}.iid`])).stdout.trim();
    assert.equal(await iid(join(work, "out-direct")), await iid(join(work, "out-overlay")), "the same image");

    // every COPY ran without a mount but the one through the symlink
    const log = direct.stderr + direct.stdout;
    assert.equal((log.match(/\] COPY .* direct \d+ms/g) ?? []).length, 7, log);
    assert.match(
      log,
      /COPY a\.txt \/link\/via-link\.txt direct gave way \(needs an overlay mount: \/link is a symlink/,
    );
    assert.match(log, /ADD a\.txt \/data\/added\.txt direct \d+ms/);
    assert.match(
      log,
      /ADD arch\.tar \/data\/unpacked\/ direct gave way \(needs an overlay mount: ADD unpacks an archive\)/,
    );
    // WORKDIR too: a directory that is there makes no layer, a symlink on the way needs the mount
    for (const wd of ["/data/keep", "/data/newdir/deeper", "/home/someone/work"])
      assert.match(log, new RegExp(`WORKDIR ${wd} direct \\d+ms`));
    assert.match(log, /WORKDIR \/link\/wd direct gave way \(needs an overlay mount: \/link is a symlink/);
    assert.doesNotMatch(overlay.stderr + overlay.stdout, / direct /);

    const { stdout } = await execFileP(
      "find",
      ["data", "opq", "gone", "etc/app", "home", "-printf", "%p %m %U:%G %y\\n"],
      { cwd: join(work, "out-direct") },
    );
    const tree = stdout.split("\n").filter(Boolean).sort();
    for (const want of [
      "data 700 1234:5678 d", // the parent layer's directory, kept as it was
      "data/a.txt 644 0:0 f",
      "data/via-link.txt 644 0:0 f",
      "data/sub/deep/a.txt 644 0:0 f",
      "data/keep 2750 0:0 d",
      "data/keep/old/f.txt 644 0:0 f",
      "opq/new 755 0:0 d",
      "opq/old 755 0:0 d", // the source's, not the hidden /opq/old below the opaque /opq
      "opq/old/f.txt 644 0:0 f",
      "gone/old 755 0:0 d", // the source's: the /gone/old below is whited out
      "gone/old/f.txt 644 0:0 f",
      "etc/app/owned 644 4321:8765 f",
      "data/added.txt 644 0:0 f",
      "data/unpacked/inside.txt 644 0:0 f",
      "data/newdir/deeper 755 0:0 d",
      "data/wd 755 4321:8765 d", // made through the symlink /link (on the overlay)
      "home/someone/work 755 4321:8765 d",
    ])
      assert.ok(tree.includes(want), `${want} in\n${tree.join("\n")}`);
    assert.ok(!tree.some((l) => l.endsWith("/hidden")), tree.join("\n"));

    // again with the RUN steps cached: their layers come from the store, with the list of opaque
    // directories kept beside each (not read from xattrs)
    await writeFile(join(ctx, "tree", "old", "f.txt"), "f2\n");
    const overlay2 = await build(ctx, join(work, "home-overlay"), false, join(work, "out-overlay2"));
    assert.equal(overlay2.code, 0, overlay2.stderr);
    const direct2 = await build(ctx, join(work, "home-direct"), true, join(work, "out-direct2"));
    assert.equal(direct2.code, 0, direct2.stderr);
    assert.match(direct2.stdout + direct2.stderr, /#3 CACHED/);
    assert.equal(
      await iid(join(work, "out-direct2")),
      await iid(join(work, "out-overlay2")),
      "the same image",
    );
  },
);
