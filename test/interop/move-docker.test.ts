import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import tarStream from "tar-stream";
import { DOCKER_CLI, needPeers } from "../helpers/peers.js";
import { startReferenceRegistry, tempDir, type RunningRegistry } from "../image/helpers.js";

const run = promisify(execFile);
const skip = needPeers("dockerd", "docker-registry");
const BIN = join(process.cwd(), "bin", "dockyard");
let reg: RunningRegistry;
let home: string;
let work: string;
const tag = `move-${process.pid}`;
const images: string[] = [];

async function dockyard(...args: string[]): Promise<string> {
  const { stdout } = await run(
    BIN,
    [
      ...args,
      ...(["copy", "save", "load", "push", "pull"].includes(args[0]!) ? ["--progress", "plain"] : []),
    ],
    {
      env: { ...process.env, DOCKYARD_HOME: home },
      maxBuffer: 64 << 20,
    },
  );
  return stdout;
}
async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER_CLI, args, { maxBuffer: 64 << 20 });
  return stdout;
}

before(async () => {
  if (skip) return;
  home = await tempDir();
  work = await tempDir();
  reg = await startReferenceRegistry();
  // A test image with whiteouts: a file deleted in a later layer and an opaque directory.
  const ctx = join(work, "ctx");
  await mkdir(ctx);
  await writeFile(
    join(ctx, "Dockerfile"),
    [
      "FROM busybox:local",
      "RUN mkdir -p /opq/sub /keep && echo a > /opq/a && echo s > /opq/sub/s && echo x > /del && echo k > /keep/k && ln -s /keep/k /keep/link && ln /keep/k /keep/hard && chmod 4755 /keep/k && chown 1000:1000 /keep",
      "RUN rm /del && rm -rf /opq && mkdir /opq && echo b > /opq/b && rm /bin/vi",
      'CMD ["sh"]',
      "",
    ].join("\n"),
  );
  await run(DOCKER_CLI, ["build", "--network", "none", "-q", "-t", `${tag}:wh`, ctx], {
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
  });
  images.push(`${tag}:wh`);
});

after(async () => {
  if (skip) return;
  for (const i of images) await docker("rmi", "-f", i).catch(() => {});
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

test("dockyard save output loads with docker load and runs", { skip }, async () => {
  await dockyard("copy", `docker-daemon:${tag}:wh`, `${tag}/saved:1`);
  const file = join(work, "saved.tar");
  await dockyard("save", `${tag}/saved:1`, "-o", file);
  const out = await docker("load", "-i", file);
  images.push(`${tag}/saved:1`);
  assert.match(out, new RegExp(`Loaded image: ${tag}/saved:1`));
  const { stdout } = await run(DOCKER_CLI, [
    "run",
    "--rm",
    "--network",
    "none",
    `${tag}/saved:1`,
    "cat",
    "/opq/b",
    "/keep/k",
  ]);
  assert.equal(stdout, "b\nk\n");
  // gzip and stdout work too.
  const gz = join(work, "saved.tar.gz");
  await run("sh", ["-c", `DOCKYARD_HOME=${home} ${BIN} save ${tag}/saved:1 --gzip --progress quiet > ${gz}`]);
  assert.match(await docker("load", "-i", gz), /Loaded image/);
});

test(
  "docker save output loads with dockyard load, pushes to a registry, and docker pull + run work",
  { skip },
  async () => {
    const file = join(work, "docker-saved.tar");
    await docker("save", "-o", file, `${tag}:wh`);
    const repo = `${reg.host}/move/loaded`;
    const out = await dockyard("load", "-i", file, "--push-to", repo);
    assert.match(out, new RegExp(`Loaded image: ${tag}:wh`));
    assert.match(await dockyard("images"), new RegExp(`${tag}\\s+wh`));
    await docker("pull", `${repo}:wh`);
    images.push(`${repo}:wh`);
    const { stdout } = await run(DOCKER_CLI, [
      "run",
      "--rm",
      "--network",
      "none",
      `${repo}:wh`,
      "sh",
      "-c",
      "cat /opq/b; ls /opq; test -e /del || echo nodel",
    ]);
    assert.equal(stdout, "b\nb\nnodel\n");
    // Same config (image ID) as the engine's own image.
    const id = (await docker("image", "inspect", "-f", "{{.Id}}", `${tag}:wh`)).trim();
    assert.equal((await docker("image", "inspect", "-f", "{{.Id}}", `${repo}:wh`)).trim(), id);
  },
);

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  sha: string;
}

async function listTar(file: string): Promise<Map<string, Entry>> {
  const ex = tarStream.extract();
  const out = new Map<string, Entry>();
  ex.on("entry", (h, body, next) => {
    const hash = createHash("sha256");
    body.on("data", (c: unknown) => hash.update(c as Buffer));
    body.on("end", () => {
      const name = h.name.replace(/^\.?\//, "").replace(/\/$/, "");
      if (name)
        out.set(name, {
          type: h.type ?? "file",
          mode: (h.mode ?? 0) & 0o7777,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          linkname: h.linkname ?? "",
          sha: hash.digest("hex"),
        });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on("finish", resolve);
    ex.on("error", reject);
    createReadStream(file).pipe(ex);
  });
  return out;
}

// What the engine adds to every container (its init layer), not part of the image.
const ENGINE_PATHS = new Set([
  ".dockerenv",
  "dev",
  "dev/console",
  "dev/pts",
  "dev/shm",
  "etc/hostname",
  "etc/hosts",
  "etc/mtab",
  "etc/resolv.conf",
  "proc",
  "sys",
]);

test("dockyard export matches docker export of a fresh container (whiteouts applied)", { skip }, async () => {
  const mine = join(work, "mine.tar");
  await dockyard("copy", `docker-daemon:${tag}:wh`, `${tag}/exp:1`);
  await dockyard("export", `${tag}/exp:1`, "-o", mine);
  const cid = (await docker("create", "--network", "none", `${tag}:wh`)).trim();
  const theirs = join(work, "theirs.tar");
  try {
    await docker("export", "-o", theirs, cid);
  } finally {
    await docker("rm", cid);
  }
  const a = await listTar(mine);
  const b = await listTar(theirs);
  for (const p of ENGINE_PATHS) {
    // The engine's paths may exist in the image too (busybox has /dev? not here): compare only if ours has it.
    if (!a.has(p)) b.delete(p);
  }
  // Directory modes of the engine's mount points can differ; everything else must be equal.
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, e] of a) assert.deepEqual(e, b.get(name), name);
  assert.ok(!a.has("del") && a.has("opq/b") && !a.has("opq/a") && !a.has("opq/sub") && !a.has("bin/vi"));
  assert.equal(a.get("keep/k")!.mode, 0o4755);
  assert.equal(a.get("keep")!.uid, 1000);
});

test("import builds a runnable image from docker export output, with --change", { skip }, async () => {
  const rootfs = join(work, "theirs.tar");
  await dockyard(
    "import",
    rootfs,
    `${tag}/imported:1`,
    "--change",
    'CMD ["cat", "/opq/b"]',
    "--change",
    "ENV HELLO=world",
  );
  const file = join(work, "imported.tar");
  await dockyard("save", `${tag}/imported:1`, "-o", file);
  await docker("load", "-i", file);
  images.push(`${tag}/imported:1`);
  const { stdout } = await run(DOCKER_CLI, ["run", "--rm", "--network", "none", `${tag}/imported:1`]);
  assert.equal(stdout, "b\n");
  const env = await docker("image", "inspect", "-f", "{{json .Config.Env}}", `${tag}/imported:1`);
  assert.match(env, /HELLO=world/);
});

test("docker-daemon target: copy into the engine and run", { skip }, async () => {
  await dockyard("copy", `${tag}/exp:1`, `docker-daemon:${tag}/back:1`);
  images.push(`${tag}/back:1`);
  const p = spawn(DOCKER_CLI, ["run", "--rm", "--network", "none", `${tag}/back:1`, "cat", "/opq/b"]);
  let out = "";
  p.stdout.on("data", (c) => (out += String(c)));
  const code = await new Promise((r) => p.on("exit", r));
  assert.equal(code, 0);
  assert.equal(out, "b\n");
});
