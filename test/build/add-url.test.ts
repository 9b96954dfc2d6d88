// ADD of http(s) URLs, built natively with runc: redirects, --checksum, the file's name, mode and
// mtime, and HTTPS trusted through NODE_EXTRA_CA_CERTS. bin/dockyard's shell line defers that
// variable past Node's start-up (src/util/extra-ca.ts), so this checks the CA still counts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { BIN, ensureBases, removeDir, run, skipWithoutBases, tempDir, writeContext } from "./fixtures.js";

const skipPeers = needPeers("runc");
const BASE = "127.0.0.1:5300/busybox:latest";
const DATA = "data over http\n";
const SECURE = "data over https\n";
const MODIFIED = new Date("2024-03-01T12:00:00Z");
let basesProblem: string | undefined;
let work: string;
let httpUrl: string;
let httpsUrl: string;
const servers: Server[] = [];

/** 128 MiB of a repeating 1 MiB pattern, sent in pieces. */
const BIG_CHUNK = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) % 251));
const BIG_CHUNKS = 128;

function serve(req: { url?: string }, res: import("node:http").ServerResponse, body: string): void {
  if (req.url === "/big/blob.bin") {
    res.writeHead(200, { "content-length": String(BIG_CHUNK.length * BIG_CHUNKS) });
    let sent = 0;
    const more = () => {
      while (sent < BIG_CHUNKS) {
        sent++;
        if (!res.write(BIG_CHUNK)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  } else if (req.url?.startsWith("/redirect/")) {
    res.writeHead(302, { location: req.url.replace("/redirect/", "/files/") }).end();
  } else if (req.url?.startsWith("/files/")) {
    res.writeHead(200, { "last-modified": MODIFIED.toUTCString(), "content-type": "text/plain" }).end(body);
  } else res.writeHead(404).end("no such file");
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

before(async () => {
  if (skipPeers) return;
  basesProblem = await ensureBases();
  work = await tempDir("dy-addurl-");
  const certs = join(work, "certs");
  const r = spawnSync(process.execPath, [BIN, "registry", "cert", "--out", certs, "--host", "127.0.0.1"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  httpUrl = `http://127.0.0.1:${await listen(createHttpServer((q, s) => serve(q, s, DATA)))}`;
  const tls = { cert: await readFile(join(certs, "cert.pem")), key: await readFile(join(certs, "key.pem")) };
  httpsUrl = `https://127.0.0.1:${await listen(createHttpsServer(tls, (q, s) => serve(q, s, SECURE)))}`;
});
after(async () => {
  for (const s of servers) s.close();
  await removeDir(work);
});

let n = 0;
/** Builds `dockerfile` with NODE_EXTRA_CA_CERTS as given; the image's files land in `out`. */
async function build(dockerfile: string, extraCa: string | undefined) {
  const ctx = await writeContext(join(work, `ctx${n}`), dockerfile);
  const out = join(work, `out${n++}`);
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKYARD_HOME: join(work, "home") };
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  const r = await run(
    BIN,
    ["build", "--progress", "plain", "--no-cache", "-o", `type=local,dest=${out}`, ctx],
    {
      env,
      timeoutMs: 300_000,
    },
  );
  return { ...r, out };
}

test(
  "ADD follows redirects, checks --checksum, keeps the URL's name, mode 600 and Last-Modified; HTTPS trusts NODE_EXTRA_CA_CERTS",
  { skip: skipPeers },
  async (t) => {
    if (skipWithoutBases(t, basesProblem)) return;
    const sum = "sha256:" + createHash("sha256").update(DATA).digest("hex");
    const r = await build(
      `FROM ${BASE}
ADD ${httpUrl}/redirect/moved.txt /r/
ADD --checksum=${sum} ${httpUrl}/files/data.txt /c/
ADD ${httpsUrl}/files/secure.txt /s/
`,
      join(work, "certs", "ca.pem"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(r.out, "r", "moved.txt"), "utf8"), DATA);
    assert.equal(await readFile(join(r.out, "c", "data.txt"), "utf8"), DATA);
    assert.equal(await readFile(join(r.out, "s", "secure.txt"), "utf8"), SECURE);
    const st = await stat(join(r.out, "s", "secure.txt"));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.mtime.getTime(), MODIFIED.getTime());
  },
);

test(
  "ADD over HTTPS without the CA, a wrong --checksum, a 404: each fails at its line",
  { skip: skipPeers },
  async (t) => {
    if (skipWithoutBases(t, basesProblem)) return;
    const untrusted = await build(`FROM ${BASE}\nADD ${httpsUrl}/files/secure.txt /s/\n`, undefined);
    assert.notEqual(untrusted.code, 0);
    assert.match(
      untrusted.stderr,
      /ADD https:\S+ failed at line 2: .*(self-signed|unable to verify|certificate)/i,
    );
    const wrong = await build(
      `FROM ${BASE}\nADD --checksum=sha256:${"0".repeat(64)} ${httpUrl}/files/data.txt /c/\n`,
      undefined,
    );
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /checksum mismatch/);
    const missing = await build(`FROM ${BASE}\nRUN true\nADD ${httpUrl}/nothing /m/\n`, undefined);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /failed at line 3: HTTP 404/);
  },
);

test(
  "ADD of a 128 MiB download streams it to disk: the build's peak memory stays far below its size",
  { skip: skipPeers },
  async (t) => {
    if (skipWithoutBases(t, basesProblem)) return;
    const sum = createHash("sha256");
    for (let i = 0; i < BIG_CHUNKS; i++) sum.update(BIG_CHUNK);
    const ctx = await writeContext(
      join(work, "ctx-big"),
      `FROM ${BASE}\nADD --checksum=sha256:${sum.digest("hex")} ${httpUrl}/big/blob.bin /big/\n`,
    );
    const child = spawn(BIN, ["build", "--progress", "plain", "--no-cache", ctx], {
      env: { ...process.env, DOCKYARD_HOME: join(work, "home") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
    // VmHWM: the process's peak resident memory so far, read until it exits
    let peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        /* gone */
      }
    }, 20);
    const code = await exited;
    clearInterval(poll);
    assert.equal(code, 0, stderr);
    assert.ok(peakKiB > 0, "the build's memory was read");
    assert.ok(peakKiB < 100 * 1024, `peak memory ${Math.round(peakKiB / 1024)} MiB for a 128 MiB download`);
  },
);
