// --cache-to / --cache-from with real parts: dockyard's registry and the reference registry
// (distribution's docker-registry) on free loopback ports, runc, a multi-stage Dockerfile with
// RUN steps. A "fresh CI machine" is a fresh DOCKYARD_HOME (empty store and step cache) and a
// second checkout of the context in another directory.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { startServer } from "../registry/helpers.js";
import { startDockyardRegistry, startReferenceRegistry, type RunningRegistry } from "../image/helpers.js";
import {
  BIN,
  dockyard,
  ensureBases,
  execFileP,
  removeDir,
  run as runCmd,
  skipWithoutBases,
  tempDir,
  type Run,
} from "./fixtures.js";

const skipPeers = needPeers("runc", "docker-registry");
const BASE = "127.0.0.1:5300/busybox:latest";
let basesProblem: string | undefined;
let work: string;
let reg: RunningRegistry | undefined;
let ref: RunningRegistry | undefined;

before(async () => {
  if (skipPeers) return;
  basesProblem = await ensureBases();
  work = await tempDir("dy-bcache-");
  [reg, ref] = await Promise.all([startDockyardRegistry(), startReferenceRegistry()]);
});
after(async () => {
  await reg?.stop();
  await ref?.stop();
  await removeDir(work);
});

const skipped = (t: { skip: (m: string) => void }): boolean => skipWithoutBases(t, basesProblem);

const DOCKERFILE = `FROM ${BASE} AS builder
RUN echo compiled-at-$(date +%s%N) > /out.txt
COPY a.txt /a.txt
RUN cat /a.txt /out.txt > /both.txt && echo "$(date +%s%N)" > /stamp
FROM ${BASE} AS unused
RUN echo never
FROM ${BASE}
ENV APP=1
WORKDIR /app
COPY --from=builder /both.txt ./both.txt
COPY b.txt ./
RUN echo final-$(date +%s%N) > /app/final.txt
RUN --mount=type=bind,from=builder,target=/b cat /b/stamp > /app/stamp
`;

let n = 0;
/** A checkout of the fixture in a new directory (different path, inodes and mtimes). */
async function checkout(a = "A\n"): Promise<string> {
  const dir = join(work, `checkout${n++}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Dockerfile"), DOCKERFILE);
  await writeFile(join(dir, "a.txt"), a);
  await writeFile(join(dir, "b.txt"), "B\n");
  return dir;
}

interface Built {
  run: Run;
  /** step title → "cached" | "done" */
  steps: Map<string, string>;
  digest: string;
  id: string;
}

/** Builds on a fresh machine (new DOCKYARD_HOME), JSON progress, SOURCE_DATE_EPOCH set. */
async function build(ctx: string, ...flags: string[]): Promise<Built> {
  const home = join(work, `home${n++}`);
  const meta = join(work, `meta${n++}.json`);
  process.env.SOURCE_DATE_EPOCH = "1700000000";
  const run = await dockyard(
    home,
    ["build", "--progress", "json", "--metadata-file", meta, "-t", "bcache:t", ...flags, ctx],
    300_000,
  );
  delete process.env.SOURCE_DATE_EPOCH;
  assert.equal(run.code, 0, run.stderr);
  const steps = new Map<string, string>();
  for (const line of run.stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { name?: string; status?: string };
    if (e.name && (e.status === "cached" || e.status === "done")) steps.set(e.name, e.status);
  }
  const m = JSON.parse(await readFile(meta, "utf8")) as Record<string, string>;
  return { run, steps, digest: m["containerimage.digest"]!, id: m["containerimage.config.digest"]! };
}

/** The filesystem steps (RUN/COPY/WORKDIR) and how each ended. */
function fsSteps(b: Built): [string, string][] {
  return [...b.steps].filter(([k]) => / (RUN|COPY|WORKDIR) /.test(k));
}

async function roundTrip(host: string) {
  const cacheRef = `${host}/bcache/cache:main`;
  const first = await build(await checkout(), "--cache-to", `type=registry,ref=${cacheRef},mode=max`);
  assert.ok(fsSteps(first).length >= 6, first.run.stderr);
  assert.ok(
    fsSteps(first).every(([, s]) => s === "done"),
    "a fresh machine runs every step",
  );
  assert.match(first.run.stderr, /exported cache to/);
  // the cache is an OCI image manifest with a cacheconfig config, as the registry serves it
  const res = await fetch(`http://${host}/v2/bcache/cache/manifests/main`, {
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  assert.equal(res.status, 200);
  const man = (await res.json()) as { config: { mediaType: string }; layers: unknown[] };
  assert.equal(man.config.mediaType, "application/vnd.buildkit.cacheconfig.v0");
  assert.equal(man.layers.length, fsSteps(first).length, "one layer per filesystem step");

  // a fresh CI machine, another checkout: no step runs, same image digest
  const second = await build(await checkout(), "--cache-from", `type=registry,ref=${cacheRef}`);
  assert.match(second.run.stderr, /importing cache manifest from/);
  assert.deepEqual(
    fsSteps(second).filter(([, s]) => s !== "cached"),
    [],
    `every step CACHED:\n${second.run.stderr}`,
  );
  assert.equal(second.digest, first.digest, "same image digest");
  assert.equal(second.id, first.id);
  return { first, cacheRef };
}

test(
  "--cache-to/--cache-from through dockyard's registry: a fresh machine runs no step, same digest; an edit reruns only what follows it",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const { first, cacheRef } = await roundTrip(reg!.host);

    // one line of the context changed: steps before COPY a.txt stay cached, the rest rerun
    const edited = await build(await checkout("A2\n"), "--cache-from", cacheRef);
    const st = Object.fromEntries(fsSteps(edited).map(([k, v]) => [k.replace(/^\[[^\]]*\] /, ""), v]));
    assert.equal(st["RUN echo compiled-at-$(date +%s%N) > /out.txt"], "cached", edited.run.stderr);
    assert.equal(st["COPY a.txt /a.txt"], "done");
    assert.equal(st['RUN cat /a.txt /out.txt > /both.txt && echo "$(date +%s%N)" > /stamp'], "done");
    assert.equal(st["WORKDIR /app"], "cached");
    assert.equal(st["COPY --from=builder /both.txt ./both.txt"], "done");
    assert.equal(st["RUN echo final-$(date +%s%N) > /app/final.txt"], "done");
    assert.equal(st["RUN --mount=type=bind,from=builder,target=/b cat /b/stamp > /app/stamp"], "done");
    assert.notEqual(edited.digest, first.digest);
  },
);

test(
  "the reference registry (docker-registry) stores and serves the cache manifest",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    await roundTrip(ref!.host);
  },
);

test(
  "mode=min keeps the final image's steps only; several --cache-from, a missing one is a warning",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const cacheRef = `${reg!.host}/bcache/min:1`;
    const first = await build(await checkout(), "--cache-to", `type=registry,ref=${cacheRef}`);
    const second = await build(
      await checkout(),
      "--cache-from",
      `type=registry,ref=${reg!.host}/bcache/absent:nope`,
      "--cache-from",
      `type=registry,ref=${cacheRef}`,
    );
    assert.match(second.run.stderr, /WARNING: cache import from [^ ]*bcache\/absent:nope failed/);
    // the final stage's steps are cached; the builder stage is not even run: the cached
    // COPY --from needs only its cache key, which is computed without running it
    const steps = fsSteps(second);
    assert.ok(steps.length >= 4, second.run.stderr);
    for (const [k, v] of steps) {
      assert.ok(!k.startsWith("[builder"), `${k}: the builder stage ran`);
      assert.equal(v, "cached", `${k} is in the final image`);
    }
    assert.equal(second.digest, first.digest);
  },
);

test("type=local,dest=DIR and type=local,src=DIR (an OCI layout)", { skip: skipPeers }, async (t) => {
  if (skipped(t)) return;
  const dir = join(work, "local-cache");
  const first = await build(await checkout(), "--cache-to", `type=local,dest=${dir},mode=max`);
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  assert.equal(index.manifests[0]?.annotations?.["org.opencontainers.image.ref.name"], "latest");
  const moved = join(work, "local-cache-moved");
  await cp(dir, moved, { recursive: true });
  const second = await build(await checkout(), "--cache-from", `type=local,src=${moved}`);
  assert.deepEqual(
    fsSteps(second).filter(([, s]) => s !== "cached"),
    [],
    second.run.stderr,
  );
  assert.equal(second.digest, first.digest);
  const missing = await build(await checkout(), "--cache-from", `type=local,src=${join(work, "nothing")}`);
  assert.match(missing.run.stderr, /WARNING: cache import from .*nothing failed/);
});

test(
  "an authenticated registry: credentials from $DOCKER_CONFIG/config.json; without them export fails (ignore-error=true: a warning) and import is a warning",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const dir = join(work, "authreg");
    await mkdir(dir, { recursive: true });
    const { stdout: line } = await execFileP("sh", [
      "-c",
      `printf s3cret | "${BIN}" registry htpasswd --cost 4 ci`,
    ]);
    await writeFile(join(dir, "htpasswd"), line);
    const srv = await startServer({
      data: join(dir, "data"),
      args: ["--no-access-log"],
      env: { DOCKYARD_HOME: join(dir, "home"), DOCKYARD_HTPASSWD: join(dir, "htpasswd") },
    });
    const port = srv.port;
    try {
      const host = `127.0.0.1:${port}`;
      const cacheRef = `${host}/secure/cache:1`;
      const withCreds = join(dir, "docker");
      await mkdir(withCreds, { recursive: true });
      await writeFile(
        join(withCreds, "config.json"),
        JSON.stringify({ auths: { [host]: { auth: Buffer.from("ci:s3cret").toString("base64") } } }),
      );
      const noCreds = join(dir, "nodocker");
      await mkdir(noCreds, { recursive: true });
      const buildWith = (dockerConfig: string, ...flags: string[]) =>
        runCmd(BIN, ["build", "--progress", "plain", ...flags, ctx], {
          env: {
            ...process.env,
            DOCKER_CONFIG: dockerConfig,
            DOCKYARD_HOME: join(work, `home${n++}`),
            SOURCE_DATE_EPOCH: "1700000000",
          },
          timeoutMs: 300_000,
        });
      const ctx = await checkout();
      const denied = await buildWith(noCreds, "--cache-to", `type=registry,ref=${cacheRef}`);
      assert.notEqual(denied.code, 0, "an export that fails fails the build");
      assert.match(denied.stderr, /authentication required|UNAUTHORIZED|401/);
      const tolerated = await buildWith(
        noCreds,
        "--cache-to",
        `type=registry,ref=${cacheRef},ignore-error=true`,
      );
      assert.equal(tolerated.code, 0, tolerated.stderr);
      assert.match(tolerated.stderr, /WARNING: cache export to .* failed/);
      const ok = await buildWith(withCreds, "--cache-to", `type=registry,ref=${cacheRef},mode=max`);
      assert.equal(ok.code, 0, ok.stderr);
      const imported = await buildWith(withCreds, "--cache-from", cacheRef);
      assert.equal(imported.code, 0, imported.stderr);
      const fsBlocks = imported.stderr
        .split("\n\n")
        .filter((b) => /^#\d+ \[[^\]]*\] (RUN|COPY|WORKDIR) /m.test(b));
      assert.equal(fsBlocks.length, 5, imported.stderr); // the final stage's; the builder is not run
      for (const b of fsBlocks) assert.match(b, /#\d+ CACHED/, b);
      const anonymous = await buildWith(noCreds, "--cache-from", cacheRef);
      assert.equal(anonymous.code, 0, anonymous.stderr);
      assert.match(anonymous.stderr, /WARNING: cache import from .* failed/);
    } finally {
      await srv.stop();
    }
  },
);
