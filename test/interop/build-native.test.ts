// The native driver's behaviour: failures (exit code, last output lines, Dockerfile line), no
// leftovers on failure or Ctrl-C, secrets never in a layer, reproducible images, the stage graph
// (unused stages skipped, independent stages in parallel, --target), the cache, outputs, config.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { cp, readFile, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { needPeers } from "../helpers/peers.js";
import {
  BIN,
  dockyard,
  ensureBases,
  execFileP,
  removeDir,
  skipWithoutBases,
  tempDir,
  writeContext,
  type Run,
} from "../build/fixtures.js";

const skipPeers = needPeers("runc", "getfattr");
let basesProblem: string | undefined;
let home: string;
let work: string;
const BASE = "127.0.0.1:5300/busybox:latest";

before(async () => {
  if (skipPeers) return;
  basesProblem = await ensureBases();
  home = await tempDir("dy-build-nat-home-");
  work = await tempDir("dy-build-nat-");
});
after(async () => {
  await removeDir(home);
  await removeDir(work);
});

const skipped = (t: { skip: (m: string) => void }): boolean => skipWithoutBases(t, basesProblem);

let n = 0;
async function context(dockerfile: string, files: Record<string, string> = {}): Promise<string> {
  return writeContext(join(work, `ctx${n++}`), dockerfile, files);
}

function build(ctx: string, ...flags: string[]): Promise<Run> {
  return dockyard(home, ["build", "--progress", "plain", ...flags, ctx], 300_000);
}

/** Nothing of a build may remain: mounts, runtime containers, temp dirs. */
async function assertNoLeftovers(h = home) {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((l) => l.includes(h));
  assert.deepEqual(mounts, [], "overlay mounts left behind");
  const tmp = join(h, "build", "tmp");
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], "temp dirs left behind");
  const { stdout } = await execFileP("runc", [
    "--root",
    "/run/dockyard/runtime",
    "list",
    "--format",
    "json",
  ]).catch(() => ({ stdout: "[]" }));
  const ours = ((JSON.parse(stdout || "[]") as { bundle: string }[] | null) ?? []).filter((c) =>
    c.bundle.startsWith(h),
  );
  assert.deepEqual(ours, [], "runtime containers left behind");
}

/** Reads an OCI layout written by --output type=oci,tar=false: config and layer tars (gunzipped). */
async function readLayout(dir: string) {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
  const blob = (d: string) => readFileSync(join(dir, "blobs", "sha256", d.slice(7)));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  const config = JSON.parse(blob(manifest.config.digest).toString());
  const layers = manifest.layers.map((l: { digest: string }) => gunzipSync(blob(l.digest)));
  return { index, manifest, config, layers: layers as Buffer[] };
}

test(
  "a failing RUN: exit code, its last output lines, the Dockerfile line; nothing left behind",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(
      `FROM ${BASE}\nRUN echo ok\nRUN echo first-line && echo second-line >&2 && exit 3\n`,
    );
    const r = await build(ctx);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /line 3/);
    assert.match(r.stderr, /exit code: 3/);
    assert.match(r.stderr, /second-line/);
    await assertNoLeftovers();
  },
);

test(
  "Dockerfile errors name the line: unknown instruction, missing COPY source",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const bad = await build(await context(`FROM ${BASE}\nRUN true\nFROMM nothing\n`));
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /:3:1: unknown instruction: FROMM/);
    const missing = await build(await context(`FROM ${BASE}\n\nCOPY nothere.txt /x\n`));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /line 3/);
    assert.match(missing.stderr, /nothere\.txt/);
    await assertNoLeftovers();
  },
);

test(
  "Ctrl-C (SIGINT) during a RUN: exits 130, unmounts, deletes the container and temp dirs",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(`FROM ${BASE}\nRUN echo started-sleeping && sleep 60\n`);
    const child = spawn(BIN, ["build", "--progress", "plain", "--no-cache", ctx], {
      env: { ...process.env, DOCKYARD_HOME: home },
    });
    let err = "";
    const started = new Promise<void>((resolve) => {
      child.stderr.on("data", (c) => {
        err += c;
        if (err.includes("started-sleeping")) resolve();
      });
    });
    const exited = new Promise<number>((resolve) =>
      child.on("close", (code, sig) => resolve(code ?? (sig ? 128 : 1))),
    );
    await Promise.race([
      started,
      new Promise((_, rej) => setTimeout(() => rej(new Error(`never started: ${err}`)), 60_000)),
    ]);
    const t0 = Date.now();
    child.kill("SIGINT");
    const code = await exited;
    assert.equal(code, 130);
    assert.ok(Date.now() - t0 < 15_000, "stopped promptly");
    await assertNoLeftovers();
  },
);

test("secrets are usable in RUN but never land in a layer or the history", { skip: skipPeers }, async (t) => {
  if (skipped(t)) return;
  const secret = "s3cr3t-value-" + Date.now();
  const sfile = join(work, "secret.txt");
  await writeFile(sfile, secret);
  const ctx = await context(
    `FROM ${BASE}\nRUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && test "$(cat /run/secrets/tok)" = "${"$"}{TOKCHECK:-}" || true\nRUN --mount=type=secret,id=tok,target=/opt/tok cp /opt/tok /dev/null\n`,
  );
  const out = join(work, "secret-oci");
  const r = await build(ctx, "--secret", `id=tok,src=${sfile}`, "-o", `type=oci,dest=${out},tar=false`);
  assert.equal(r.code, 0, r.stderr);
  const { config, layers } = await readLayout(out);
  for (const l of layers) assert.equal(l.includes(Buffer.from(secret)), false, "secret bytes in a layer");
  assert.equal(JSON.stringify(config).includes(secret), false, "secret in the config/history");
  const all = Buffer.concat(layers).toString("latin1");
  assert.match(all, /len/);
  assert.doesNotMatch(all, /run\/secrets\/tok|opt\/tok/, "secret mount points left in a layer");
  await assertNoLeftovers();
});

test(
  "SOURCE_DATE_EPOCH: two cold builds from two checkouts (different mtimes, homes) give one digest",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const a = await context(
      `FROM ${BASE}\nCOPY app /app\nRUN mkdir /data && echo built > /data/x\nCMD ["cat","/data/x"]\n`,
      { "app/main.sh": "echo hi\n", "app/lib/util.sh": "true\n" },
    );
    const b = join(work, "checkout-b");
    await cp(a, b, { recursive: true });
    // a later checkout: every file newer than SOURCE_DATE_EPOCH, at other times
    for (const f of ["app/main.sh", "app/lib/util.sh", "app/lib", "app", "Dockerfile"])
      await utimes(join(b, f), new Date(1_750_000_000_000), new Date(1_750_000_000_000));
    const home2 = await tempDir("dy-build-nat-home2-");
    try {
      const env = { ...process.env, SOURCE_DATE_EPOCH: "1700000000" };
      const meta1 = join(work, "m1.json");
      const meta2 = join(work, "m2.json");
      const { run } = await import("../build/fixtures.js");
      const r1 = await run(BIN, ["build", "--progress", "plain", "--no-cache", "--metadata-file", meta1, a], {
        env: { ...env, DOCKYARD_HOME: home },
      });
      const r2 = await run(BIN, ["build", "--progress", "plain", "--no-cache", "--metadata-file", meta2, b], {
        env: { ...env, DOCKYARD_HOME: home2 },
      });
      assert.equal(r1.code, 0, r1.stderr);
      assert.equal(r2.code, 0, r2.stderr);
      const d1 = JSON.parse(await readFile(meta1, "utf8"));
      const d2 = JSON.parse(await readFile(meta2, "utf8"));
      assert.equal(d1["containerimage.digest"], d2["containerimage.digest"]);
      assert.match(d1["containerimage.digest"], /^sha256:/);
    } finally {
      await removeDir(home2);
    }
  },
);

test(
  "stages: unused ones skipped, independent ones in parallel, --target",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const df = [
      `FROM ${BASE} AS a`,
      "RUN sleep 2 && echo a > /a",
      `FROM ${BASE} AS b`,
      "RUN sleep 2 && echo b > /b",
      `FROM ${BASE} AS unused`,
      "RUN exit 1",
      `FROM ${BASE}`,
      "COPY --from=a /a /a",
      "COPY --from=b /b /b",
      "",
    ].join("\n");
    const ctx = await context(df);
    const r = await build(ctx, "--no-cache");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\[unused /, "the unused stage ran");
    const id = (stage: string) => new RegExp(`^#(\\d+) \\[${stage} 2/2\\] RUN`, "m").exec(r.stderr)?.[1];
    const at = (re: RegExp) => r.stderr.search(re);
    const [ia, ib] = [id("a"), id("b")];
    assert.ok(ia && ib, r.stderr);
    const starts = Math.max(at(new RegExp(`^#${ia} \\[`, "m")), at(new RegExp(`^#${ib} \\[`, "m")));
    const firstDone = Math.min(at(new RegExp(`^#${ia} DONE`, "m")), at(new RegExp(`^#${ib} DONE`, "m")));
    assert.ok(starts < firstDone, `a and b did not run in parallel:\n${r.stderr}`);
    const only = await build(ctx, "--target", "unused");
    assert.equal(only.code, 1, "--target unused builds the failing stage");
    assert.doesNotMatch(only.stderr, /\[a 2\/2\]/);
    const missing = await build(ctx, "--target", "nope");
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /target stage "nope" could not be found/);
  },
);

test(
  "cache: a rebuild is all CACHED with the same image ID; an edit rebuilds from there; --no-cache rebuilds all",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(
      `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\n`,
      { "a.txt": "a\n", "b.txt": "b\n" },
    );
    const id1 = join(work, "id1");
    const id2 = join(work, "id2");
    const r1 = await build(ctx, "--iidfile", id1);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await build(ctx, "--iidfile", id2);
    assert.equal((r2.stderr.match(/CACHED/g) ?? []).length, 3, r2.stderr);
    assert.equal(await readFile(id1, "utf8"), await readFile(id2, "utf8"));
    await writeFile(join(ctx, "b.txt"), "b2\n");
    const r3 = await build(ctx);
    assert.equal((r3.stderr.match(/CACHED/g) ?? []).length, 2, r3.stderr);
    const r4 = await build(ctx, "--no-cache");
    assert.equal((r4.stderr.match(/CACHED/g) ?? []).length, 0, r4.stderr);
  },
);

test(
  "--network none isolates RUN, host shares it; RUN --network overrides; --output type=local",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(
      `FROM ${BASE}\nRUN ls /sys/class/net > /nets-default\nRUN --network=none ls /sys/class/net > /nets-none\n`,
    );
    const out = join(work, "local-out");
    const r = await build(ctx, "--no-cache", "--network", "host", "-o", `type=local,dest=${out}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readFile(join(out, "nets-none"), "utf8")).trim(), "lo");
    const hostNets = (await readdir("/sys/class/net")).sort().join("\n");
    assert.equal(
      (await readFile(join(out, "nets-default"), "utf8")).trim().split("\n").sort().join("\n"),
      hostNets,
    );
    assert.ok(existsSync(join(out, "bin/busybox")));
  },
);

test("image config and history like BuildKit's", { skip: skipPeers }, async (t) => {
  if (skipped(t)) return;
  const ctx = await context(
    [
      `FROM ${BASE}`,
      "ARG VERSION=1.0",
      "ENV APP_HOME=/srv/app PATH=/opt/bin:$PATH",
      "LABEL org.example.version=$VERSION",
      "WORKDIR $APP_HOME",
      "RUN echo $VERSION > v",
      "EXPOSE 8080 53/udp",
      "VOLUME /data",
      "USER app",
      "STOPSIGNAL SIGTERM",
      'HEALTHCHECK --interval=30s --retries=2 CMD ["true"]',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      "CMD echo hi",
      "",
    ].join("\n"),
  );
  const out = join(work, "cfg-oci");
  const r = await build(
    ctx,
    "--build-arg",
    "VERSION=2.0",
    "--label",
    "extra=yes",
    "--platform",
    "linux/amd64",
    "-o",
    `type=oci,dest=${out},tar=false`,
  );
  assert.equal(r.code, 0, r.stderr);
  const { config, layers } = await readLayout(out);
  const c = config.config;
  assert.equal(config.architecture, "amd64");
  assert.equal(config.os, "linux");
  assert.ok(c.Env.includes("APP_HOME=/srv/app"));
  assert.ok(
    c.Env.some((e: string) => /^PATH=\/opt\/bin:\/usr\/local\/sbin:/.test(e)),
    c.Env.join(" "),
  );
  assert.equal(c.Labels["org.example.version"], "2.0");
  assert.equal(c.Labels.extra, "yes");
  assert.equal(c.WorkingDir, "/srv/app");
  assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ["53/udp", "8080/tcp"]);
  assert.deepEqual(Object.keys(c.Volumes), ["/data"]);
  assert.equal(c.User, "app");
  assert.equal(c.StopSignal, "SIGTERM");
  assert.deepEqual(c.Healthcheck, { Test: ["CMD", "true"], Interval: 30_000_000_000, Retries: 2 });
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
  assert.deepEqual(c.Cmd, ["/bin/sh", "-c", "echo hi"]);
  const hist = config.history.slice(-12);
  assert.deepEqual(
    hist.map((h: { empty_layer?: boolean }) => !!h.empty_layer),
    [true, true, true, false, false, true, true, true, true, true, true, true],
  );
  assert.match(hist[4].created_by, /^RUN \|1 VERSION=2\.0 \/bin\/sh -c echo \$VERSION > v # buildkit$/);
  assert.equal(config.rootfs.diff_ids.length, layers.length);
  assert.ok(Buffer.concat(layers).includes(Buffer.from("2.0\n")));
});

test(
  "ONBUILD triggers run when the stage is used as a base, and are not inherited",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(
      `FROM ${BASE} AS base\nONBUILD RUN echo triggered > /trig\nFROM base\nRUN cat /trig > /seen\n`,
    );
    const out = join(work, "onbuild-oci");
    const r = await build(ctx, "-o", `type=oci,dest=${out},tar=false`);
    assert.equal(r.code, 0, r.stderr);
    const { config, layers } = await readLayout(out);
    assert.equal(config.config.OnBuild ?? null, null);
    assert.ok(Buffer.concat(layers).includes(Buffer.from("triggered\n")));
  },
);
