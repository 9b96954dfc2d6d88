import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { pushRandomImage } from "../../bench/lib/random-image.js";
import { signImage } from "../../src/trust/index.js";
import { BIN, removeDir, tempDir, type ServerProc } from "../registry/helpers.js";
import { startTrustRegistry } from "./tls.js";

/**
 * `pull --verify` runs the TUF update while the pull already fetches (src/trust/cli-hooks.ts
 * verifiedTransfer, CopyOptions.verify): blob bytes may land in temporary files meanwhile, but
 * nothing is committed to the store before the verification succeeds. The trust server is reached
 * through a proxy that delays every client→server packet, so the blobs are surely downloaded
 * before the verdict: the test sees them held in temp files, then committed or removed.
 */

const DELAY_MS = 150;
let dir = "";
let srv: ServerProc | undefined;
let proxy: Server | undefined;
let reg = "";
let trustUrl = "";
let tls: { ca: string; cert: string; key: string };

/** A TCP proxy to `port` that holds each chunk from the client for DELAY_MS. */
async function delayingProxy(port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    client.on("data", (c) => setTimeout(() => upstream.write(c), DELAY_MS));
    upstream.pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on("close", () => setTimeout(end, DELAY_MS));
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

before(async () => {
  dir = await tempDir("dockyard-trust-pullverify-");
  const started = await startTrustRegistry(dir);
  ({ srv, tls } = started);
  const trustPort = started.trustPort;
  reg = `127.0.0.1:${srv.port}`;
  const p = await delayingProxy(trustPort);
  proxy = p.server;
  trustUrl = `https://127.0.0.1:${p.port}`;
});

after(async () => {
  proxy?.close();
  await srv?.stop();
  if (dir) await removeDir(dir);
});

const pass = async ({ role }: { role: string }) => (role === "root" ? "root-pass" : "repo-pass");
const settings = () => ({
  server: `https://127.0.0.1:${new URL(trustUrl).port}`,
  caFile: tls.ca,
  dirs: { base: join(dir, "publisher") },
  prompt: pass,
});

interface Seen {
  code: number | null;
  out: string;
  /** Temp files seen in the store's blob directory while the pull ran, and blobs committed then. */
  tempsWhileRunning: number;
  blobsBeforeVerdict: string[];
}

/** `dockyard pull --verify REF` with a fresh home, watching the store's blob directory. */
async function pullVerify(ref: string, home: string, extra: Record<string, string> = {}): Promise<Seen> {
  const blobs = join(home, "store", "blobs", "sha256");
  const child = spawn(process.execPath, [BIN, "pull", "--progress", "plain", "--verify", ref], {
    env: {
      ...process.env,
      DOCKYARD_HOME: home,
      DOCKYARD_TRUST_DIR: join(home, "trust"),
      DOCKYARD_TRUST_SERVER: trustUrl,
      DOCKYARD_TRUST_CA: tls.ca,
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const seen: Seen = { code: null, out: "", tempsWhileRunning: 0, blobsBeforeVerdict: [] };
  let done = false;
  void exited.then(() => (done = true));
  // A blob counts as committed before the verdict when two polls 20 ms apart both saw it with no
  // verdict in the output yet (the margin covers the output's delivery through the pipe).
  let candidates: string[] = [];
  while (!done) {
    const verdict = out.includes("trust:") || /not signed|refused/.test(out);
    const names = existsSync(blobs) ? readdirSync(blobs) : [];
    if (!verdict) {
      const temps = names.filter((n) => n.endsWith(".tmp")).length;
      seen.tempsWhileRunning = Math.max(seen.tempsWhileRunning, temps);
      for (const n of candidates) if (!seen.blobsBeforeVerdict.includes(n)) seen.blobsBeforeVerdict.push(n);
      candidates = names.filter((n) => !n.endsWith(".tmp"));
    } else candidates = [];
    await new Promise((r) => setTimeout(r, 20));
  }
  seen.code = await exited;
  seen.out = out;
  return seen;
}

const storeBlobs = (home: string) => {
  const d = join(home, "store", "blobs", "sha256");
  return existsSync(d) ? readdirSync(d) : [];
};

test(
  "pull --verify: blobs download during the TUF update but are committed only after it succeeds",
  { timeout: 60_000 },
  async () => {
    const digest = await pushRandomImage(reg, "pv/app", "v1", 3, 1);
    await signImage(`${reg}/pv/app:v1`, settings());
    const home = join(dir, "home-ok");
    const s = await pullVerify(`${reg}/pv/app:v1`, home);
    assert.equal(s.code, 0, s.out);
    assert.match(s.out, new RegExp(`trust: ${reg}/pv/app:v1 is signed \\(targets\\): ${digest}`));
    assert.match(s.out, new RegExp(`pulled .*digest ${digest}`));
    // the overlap is real: layer bytes were in temp files while the verification was still running …
    assert.ok(s.tempsWhileRunning > 0, `no blob was being fetched during the verification:\n${s.out}`);
    // … and none became a store blob before the verdict
    assert.deepEqual(s.blobsBeforeVerdict, []);
    const blobs = storeBlobs(home);
    assert.ok(blobs.includes(digest.slice(7)), "the manifest is in the store");
    assert.equal(blobs.length, 5, `config + 3 layers + manifest: ${blobs.join(" ")}`);
    assert.deepEqual(
      blobs.filter((n) => n.endsWith(".tmp")),
      [],
    );
  },
);

test("pull --verify of an unsigned tag: refused (exit 7), nothing committed, no temp files left", async () => {
  await pushRandomImage(reg, "pv/app", "unsigned", 3, 1);
  const home = join(dir, "home-unsigned");
  const s = await pullVerify(`${reg}/pv/app:unsigned`, home);
  assert.equal(s.code, 7, s.out);
  assert.match(s.out, /not signed/);
  assert.ok(s.tempsWhileRunning > 0, `no blob was being fetched during the verification:\n${s.out}`);
  assert.deepEqual(storeBlobs(home), [], "the store holds nothing of the refused image");
});

test("pull --verify of a tag moved in the registry: the signed manifest is pulled, not the moved one", async () => {
  const signed = await pushRandomImage(reg, "pv/moved", "v1", 2, 1);
  await signImage(`${reg}/pv/moved:v1`, settings());
  const other = await pushRandomImage(reg, "pv/moved", "v1", 2, 1);
  assert.notEqual(other, signed);
  const home = join(dir, "home-moved");
  const s = await pullVerify(`${reg}/pv/moved:v1`, home);
  assert.equal(s.code, 0, s.out);
  assert.match(s.out, new RegExp(`not the signed manifest; copying the signed ${signed}`));
  assert.match(s.out, new RegExp(`pulled .*digest ${signed}`));
  const blobs = storeBlobs(home);
  assert.ok(blobs.includes(signed.slice(7)));
  assert.ok(!blobs.includes(other.slice(7)), "the moved manifest is not in the store");
  assert.equal(blobs.length, 4, `only the signed image's config + 2 layers + manifest: ${blobs.join(" ")}`);
});

test("DOCKYARD_TRUST_VERIFY_FIRST=1: nothing is fetched, not even into temp files, before the verdict", async () => {
  const home = join(dir, "home-first");
  const s = await pullVerify(`${reg}/pv/app:v1`, home, { DOCKYARD_TRUST_VERIFY_FIRST: "1" });
  assert.equal(s.code, 0, s.out);
  assert.equal(s.tempsWhileRunning, 0);
  assert.deepEqual(s.blobsBeforeVerdict, []);
  assert.equal(storeBlobs(home).length, 5);
});
