import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFile, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Readable } from "node:stream";
import { OciLayout, digestOf, layers } from "../../src/image/index.js";
import { createProgress } from "../../src/util/progress.js";
import { needPeers, hasCommand } from "../helpers/peers.js";
import {
  makeImage,
  putImage,
  startAuthProxy,
  startReferenceRegistry,
  tarOf,
  tempDir,
  type RunningRegistry,
} from "./helpers.js";

const run = promisify(execFile);
const skip = needPeers("docker-registry");
const BIN = join(process.cwd(), "bin", "dockyard");
let reg: RunningRegistry;
let work: string;
let env: NodeJS.ProcessEnv;

async function dy(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(BIN, args, { env, maxBuffer: 16 << 20 });
}
async function dyFail(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(BIN, args, { env });
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`dockyard ${args.join(" ")} succeeded`);
}

before(async () => {
  work = await tempDir();
  env = { ...process.env, DOCKYARD_HOME: join(work, "home"), DOCKER_CONFIG: join(work, "docker") };
  if (!skip) reg = await startReferenceRegistry();
});
after(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

test("push, pull, tag, images, inspect, tags, rmi through the CLI", { skip }, async () => {
  const img = await makeImage(2);
  await putImage(new OciLayout(join(work, "src")), img, "1");
  const name = `${reg.host}/move/cli`;
  await dy("copy", "--progress", "plain", `oci:${join(work, "src")}:1`, `${name}:1`);
  const pushed = await dy("push", "--progress", "json", `${name}:1`);
  const events = pushed.stderr
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; status?: string });
  assert.ok(
    events.some((e) => e.event === "done" && e.status === "done"),
    "json progress events",
  );
  assert.match(events.at(-1) ? JSON.stringify(events.at(-1)) : "", new RegExp(img.manifestDesc.digest));
  assert.equal((await dy("tags", name)).stdout, "1\n");
  await dy("rmi", `${name}:1`);
  assert.doesNotMatch((await dy("images")).stdout, /move\/cli/);
  await dy("pull", "--progress", "plain", `${name}:1`);
  const images = (await dy("images")).stdout;
  assert.match(
    images,
    new RegExp(`${name.replace(/\./g, "\\.")}\\s+1\\s+${digestOf(img.config).slice(7, 19)}`),
  );
  await dy("tag", `${name}:1`, "move/other:2");
  const info = JSON.parse((await dy("inspect", "move/other:2")).stdout) as {
    Digest: string;
    Layers: string[];
    Cmd: string[];
  };
  assert.equal(info.Digest, img.manifestDesc.digest);
  assert.equal(info.Layers.length, 2);
  assert.deepEqual(info.Cmd, ["sh"]);
  const raw = await run(BIN, ["inspect", "--raw", `docker://${name}:1`], { env, encoding: "buffer" });
  assert.deepEqual(Buffer.from(raw.stdout), Buffer.from(img.manifest));
  assert.match((await dy("inspect", "--format", "table", "move/other:2")).stdout, /Layers\s+2/);
  // Not found: exit code 4 and a message naming the image.
  const nf = await dyFail("inspect", "move/absent:1");
  assert.equal(nf.code, 4);
  assert.match(nf.stderr, /no image move\/absent:1/);
  const usage = await dyFail("copy", "only-one");
  assert.equal(usage.code, 2);
});

test("save to stdout | gzip | load from stdin, and load -i of an OCI archive", { skip }, async () => {
  const img = await makeImage(2, { oci: true });
  await putImage(new OciLayout(join(work, "src2")), img, "1");
  await dy("copy", `oci:${join(work, "src2")}:1`, "move/piped:1");
  const gz = join(work, "piped.tar.gz");
  await run("sh", ["-c", `${BIN} save move/piped:1 --progress quiet | gzip > ${gz}`], { env });
  await dy("rmi", "move/piped:1");
  const loaded = await new Promise<string>((resolve, reject) => {
    const p = spawn(BIN, ["load", "--progress", "quiet"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (c) => (out += String(c)));
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`load exited ${code}`))));
    readFile(gz).then((b) => p.stdin.end(b), reject);
  });
  assert.match(loaded, /Loaded image: move\/piped:1/);
  assert.equal(JSON.parse((await dy("inspect", "move/piped:1")).stdout).Digest, img.manifestDesc.digest);
  const oci = join(work, "piped.oci.tar");
  await dy("save", "--format", "oci", "move/piped:1", "-o", oci);
  await dy("rmi", "move/piped:1");
  await dy("load", "-i", oci, "--progress", "quiet");
  assert.match((await dy("images")).stdout, /move\/piped\s+1/);
});

test("login checks credentials against the registry and logout forgets them", { skip }, async () => {
  const proxy = await startAuthProxy(reg.host, { user: "carol", password: "pw1" });
  try {
    const bad = await dyFail("login", "-u", "carol", "-p", "wrong", proxy.host);
    assert.equal(bad.code, 5);
    const ok = await new Promise<string>((resolve, reject) => {
      const p = spawn(BIN, ["login", "-u", "carol", "--password-stdin", proxy.host], { env });
      let out = "";
      p.stdout.on("data", (c) => (out += String(c)));
      p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`login exited ${code}`))));
      p.stdin.end("pw1\n");
    });
    assert.match(ok, /Login Succeeded/);
    const cfg = JSON.parse(await readFile(join(work, "docker", "config.json"), "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(Buffer.from(cfg.auths[proxy.host]!.auth, "base64").toString(), "carol:pw1");
    const img = await makeImage(1);
    await putImage(new OciLayout(join(work, "src3")), img, "1");
    await dy("copy", `oci:${join(work, "src3")}:1`, `docker://${proxy.host}/move/authed:1`);
    await dy("logout", proxy.host);
    const denied = await dyFail("tags", `${proxy.host}/move/authed`);
    assert.equal(denied.code, 5);
  } finally {
    await proxy.close();
  }
});

test(
  "zstd and gzip layers decompress to the same tar",
  { skip: hasCommand("zstd") ? false : "no zstd" },
  async () => {
    const tar = await tarOf([{ name: "a.txt", body: "zstd me ".repeat(1000) }]);
    const f = join(work, "l.tar");
    await writeFile(f, tar);
    await run("zstd", ["-q", "-f", f, "-o", `${f}.zst`]);
    const zst = await readFile(`${f}.zst`);
    const chunks: Buffer[] = [];
    for await (const c of layers.decompressLayer(Readable.from([zst.subarray(0, 3), zst.subarray(3)])))
      chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), tar);
  },
);

test("progress: plain lines and JSON events", () => {
  let out = "";
  const sink = { write: (s: string) => ((out += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
  const p = createProgress("plain", sink);
  const t = p.task("sha256:ab", "blob ab", 10);
  t.advance(10);
  t.finish("pushed");
  p.info("all done");
  assert.match(out, /^blob ab: pushed 10 B in \d+\.\ds\nall done\n$/);
  out = "";
  const j = createProgress("json", sink);
  j.task("x", "blob x", 5).fail("boom");
  const ev = JSON.parse(out.trim().split("\n")[1]!) as { event: string; message: string };
  assert.deepEqual([ev.event, ev.message], ["error", "boom"]);
  assert.throws(() => createProgress("fancy", sink), /invalid progress mode/);
});
