// --driver docker with --cache-to / --cache-from against the shared Docker Engine (20.10) and the
// reference registry: the inline cache pushed as the cache ref, the Engine's image and build cache
// for it removed (only ours: records under a RUN that names this run's nonce), then a rebuild with
// --cache-from shows the steps CACHED; without it they run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import Docker from "dockerode";
import { needPeers } from "../helpers/peers.js";
import { startReferenceRegistry, type RunningRegistry } from "../image/helpers.js";
import { BIN, docker, dockyard, removeDir, run, tempDir, writeContext, type Run } from "../build/fixtures.js";

const skip = needPeers("dockerd", "docker-registry");
const nonce = `dy-buildcache-${randomBytes(5).toString("hex")}`;
let reg: RunningRegistry | undefined;
let home: string;
let work: string;
const images = new Set<string>();

const engine = () => {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  return new Docker({ socketPath: host.replace(/^unix:\/\//, "") });
};

before(async () => {
  if (skip) return;
  reg = await startReferenceRegistry();
  home = await tempDir("dy-buildcache-home-");
  work = await tempDir("dy-buildcache-");
});
after(async () => {
  if (skip) return;
  for (const i of images) await docker("rmi", "-f", i).catch(() => {});
  await forgetBuildCache().catch(() => {});
  await reg?.stop();
  await removeDir(home);
  await removeDir(work);
});

/**
 * Removes the Engine's build-cache records this test made: those whose description names the
 * nonce and every record below them (children first), one id at a time. Never a general prune.
 */
async function forgetBuildCache(): Promise<number> {
  const d = engine();
  type Rec = { ID: string; Parent?: string; Description?: string };
  const df = (await d.df()) as { BuildCache?: Rec[] };
  const recs = df.BuildCache ?? [];
  const mine = new Set(recs.filter((r) => r.Description?.includes(nonce)).map((r) => r.ID));
  for (let grew = true; grew;) {
    grew = false;
    for (const r of recs)
      if (r.Parent && mine.has(r.Parent) && !mine.has(r.ID)) {
        mine.add(r.ID);
        grew = true;
      }
  }
  // children before parents: a record another one builds on is not removable before it
  const depth = (id: string): number => {
    const r = recs.find((x) => x.ID === id);
    return r?.Parent && mine.has(r.Parent) ? 1 + depth(r.Parent) : 0;
  };
  const order = [...mine].sort((a, b) => depth(b) - depth(a));
  let removed = 0;
  for (const id of order) {
    const r = (await pruneOne(id)) as { CachesDeleted?: string[] };
    if ((r.CachesDeleted ?? []).some((x) => x !== id))
      throw new Error(`the Engine pruned more than ${id}: ${JSON.stringify(r.CachesDeleted)}`);
    removed += r.CachesDeleted?.length ?? 0;
  }
  return removed;
}

/**
 * POST /build/prune with an `id` filter: the one record (dockerode's pruneBuilder drops its options,
 * which would prune every unused record of the shared Engine).
 */
function pruneOne(id: string): Promise<unknown> {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const filters = encodeURIComponent(JSON.stringify({ id: [id] }));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: host.replace(/^unix:\/\//, ""),
        method: "POST",
        path: `/v1.41/build/prune?filters=${filters}`,
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += String(c)));
        res.on("end", () =>
          res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`prune ${id}: ${body}`)),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function build(ctx: string, ...flags: string[]): Promise<Run> {
  return dockyard(home, ["build", "--driver", "docker", "--progress", "plain", ...flags, ctx], 300_000);
}

/** The status line BuildKit printed for the step whose name contains `step`. */
function stepStatus(out: string, step: string): string {
  const m = new RegExp(`^#(\\d+) \\[[^\\]]*\\] ${step.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`, "m").exec(
    out,
  );
  assert.ok(m, `step ${step} is printed:\n${out}`);
  const done = new RegExp(`^#${m[1]} (CACHED|DONE [\\d.]+s|ERROR.*)$`, "m").exec(out);
  assert.ok(done, `step ${step} ended:\n${out}`);
  return done[1]!.startsWith("DONE") ? "DONE" : done[1]!;
}

test(
  "--driver docker --cache-to type=registry, then --cache-from on an Engine without that cache: CACHED",
  { skip, timeout: 300_000 },
  async () => {
    const ctx = await writeContext(
      join(work, "ctx"),
      [
        "FROM busybox:local",
        `RUN echo ${nonce}-one > /one`,
        "COPY app.txt /app.txt",
        `RUN echo ${nonce}-two > /two && cat /app.txt >> /two`,
        "",
      ].join("\n"),
      { "app.txt": `${nonce} app\n` },
    );
    const cacheRef = `${reg!.host}/dy-buildcache/app:cache`;
    const tag = `dy-buildcache/app:${nonce}`;
    images.add(tag).add(cacheRef);

    const first = await build(ctx, "-t", tag, "--cache-to", `type=registry,ref=${cacheRef},mode=max`);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stderr, /not supported with --driver docker/);
    assert.match(first.stderr, /mode=max: the Docker Engine's BuildKit exports only inline cache/);
    assert.match(first.stderr, new RegExp(`=> cache: ${cacheRef.replace(/[.]/g, "\\.")} \\(inline\\)`));
    assert.equal(stepStatus(first.stderr, `RUN echo ${nonce}-one`), "DONE");
    // the cache ref is an image in the registry whose config carries BuildKit's inline cache
    const accept = { Accept: "application/vnd.docker.distribution.manifest.v2+json" };
    const mres = await fetch(`http://${reg!.host}/v2/dy-buildcache/app/manifests/cache`, { headers: accept });
    assert.equal(mres.status, 200, "the cache ref was pushed");
    const manifest = (await mres.json()) as { config: { digest: string } };
    const cfg = (await (
      await fetch(`http://${reg!.host}/v2/dy-buildcache/app/blobs/${manifest.config.digest}`)
    ).json()) as Record<string, unknown>;
    assert.equal(
      typeof cfg["moby.buildkit.cache.v0"],
      "string",
      "the image config has inline cache metadata",
    );

    // the Engine forgets the image and the build cache of these steps
    const forget = async () => {
      for (const i of images) await docker("rmi", "-f", i).catch(() => {});
      assert.ok((await forgetBuildCache()) >= 3, "the build cache records of the steps were removed");
    };
    await forget();
    // control: without --cache-from the steps run again
    const control = await build(ctx, "-t", tag);
    assert.equal(control.code, 0, control.stderr);
    assert.equal(stepStatus(control.stderr, `RUN echo ${nonce}-one`), "DONE");
    await forget();

    const again = await build(ctx, "-t", tag, "--cache-from", `type=registry,ref=${cacheRef}`);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /importing cache manifest from /);
    assert.equal(stepStatus(again.stderr, `RUN echo ${nonce}-one`), "CACHED");
    assert.equal(stepStatus(again.stderr, "COPY app.txt /app.txt"), "CACHED");
    assert.equal(stepStatus(again.stderr, `RUN echo ${nonce}-two`), "CACHED");
    const out = await docker("run", "--rm", "--network", "none", tag, "cat", "/one", "/two");
    assert.equal(out, `${nonce}-one\n${nonce}-two\n${nonce} app\n`);
  },
);

test(
  "--driver docker, the classic builder (.dockerignore lists the Dockerfile): the cache ref is pulled and used",
  { skip, timeout: 300_000 },
  async () => {
    const ctx = await writeContext(
      join(work, "ctx-classic"),
      ["FROM busybox:local", `RUN echo ${nonce}-classic > /c`, "COPY app.txt /app.txt", ""].join("\n"),
      { "app.txt": "app\n", ".dockerignore": "Dockerfile\n" },
    );
    const cacheRef = `${reg!.host}/dy-buildcache/classic:cache`;
    const tag = `dy-buildcache/classic:${nonce}`;
    images.add(tag).add(cacheRef);
    const first = await build(ctx, "-t", tag, "--cache-to", `type=registry,ref=${cacheRef}`);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /classic builder .* writes no inline cache; the image is still pushed there/);
    assert.match(first.stderr, /=> cache: .* \(image, for the classic builder\)/);
    for (const i of [tag, cacheRef]) await docker("rmi", "-f", i);
    const again = await build(ctx, "-t", tag, "--cache-from", `type=registry,ref=${cacheRef}`);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /pulling cache image .* into the Engine/);
    assert.match(again.stderr, new RegExp(`RUN echo ${nonce}-classic > /c\\n\\s*---> Using cache`));
    assert.match(again.stderr, /COPY app\.txt \/app\.txt\n\s*---> Using cache/);
  },
);

test(
  "--driver docker --cache-to type=local (an OCI layout), then --cache-from type=local: CACHED; type=inline needs --driver docker",
  { skip, timeout: 300_000 },
  async () => {
    const ctx = await writeContext(
      join(work, "ctx-local"),
      ["FROM busybox:local", `RUN echo ${nonce}-local > /l`, `RUN echo ${nonce}-local2 >> /l`, ""].join("\n"),
    );
    const layout = join(work, "layout-cache");
    const first = await build(ctx, "--iidfile", join(work, "iid"), "--cache-to", `type=local,dest=${layout}`);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(stepStatus(first.stderr, `RUN echo ${nonce}-local >`), "DONE");
    const id = (await readFile(join(work, "iid"), "utf8")).trim();
    images.add(id);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    assert.equal(index.manifests[0]?.annotations?.["org.opencontainers.image.ref.name"], "latest");

    await docker("rmi", "-f", id);
    assert.ok((await forgetBuildCache()) >= 2, "the build cache records of the steps were removed");
    const tag = `dy-buildcache/local:${nonce}`;
    images.add(tag);
    const again = await build(ctx, "-t", tag, "--cache-from", `type=local,src=${layout}`);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(stepStatus(again.stderr, `RUN echo ${nonce}-local >`), "CACHED");
    assert.equal(stepStatus(again.stderr, `RUN echo ${nonce}-local2`), "CACHED");
    assert.equal(
      await docker("run", "--rm", "--network", "none", tag, "cat", "/l"),
      `${nonce}-local\n${nonce}-local2\n`,
    );
    // the image loaded for the import is not left tagged in the Engine
    assert.equal((await docker("images", "-q", "dockyard-cache-import/*")).trim(), "");

    const n = await dockyard(home, ["build", "--cache-to", "type=inline", ctx]);
    assert.equal(n.code, 2, n.stderr);
    assert.match(n.stderr, /type=inline needs --driver docker/);
  },
);

test(
  "--driver docker -o type=docker,dest=FILE: the image copied out of the Engine, and no temp copy of it left behind",
  { skip, timeout: 300_000 },
  async () => {
    const ctx = await writeContext(
      join(work, "ctx-out"),
      ["FROM busybox:local", `RUN echo ${nonce}-out > /o`, ""].join("\n"),
    );
    // the Engine's `docker save` stream is spooled to a temp file while it is read
    const tmp = join(work, "tmp-out");
    await mkdir(tmp);
    const out = join(work, "out.tar");
    const tag = `dy-buildcache/out:${nonce}`;
    images.add(tag);
    const r = await run(
      BIN,
      ["build", "--driver", "docker", "--progress", "plain", "-t", tag, "-o", `type=docker,dest=${out}`, ctx],
      { env: { ...process.env, DOCKYARD_HOME: home, DOCKYARD_TMPDIR: tmp }, timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const names = execFileSync("tar", ["-tf", out], { encoding: "utf8" }).split("\n");
    assert.ok(names.includes("manifest.json"), names.join(" "));
    assert.deepEqual(await readdir(tmp), [], "the spooled docker save stream is removed");
  },
);
