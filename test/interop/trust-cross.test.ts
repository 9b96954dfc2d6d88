import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, copyFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { DOCKER_CLI, needPeers } from "../helpers/peers.js";
import { BIN, freePort, removeDir, startServer, tempDir, type ServerProc } from "../registry/helpers.js";
import { startTrustRegistry } from "../trust/tls.js";

const skip = needPeers("dockerd", "notary", "openssl");
const DOCKER_HOST = process.env.DOCKER_HOST ?? "unix:///run/dockyard-test/docker.sock";
const NS = `trust-cross-${Date.now().toString(36)}`;

let dir = "";
let srv: ServerProc | undefined;
let trustUrl = "";
let tls: { ca: string; cert: string; key: string };
let reg = "";
const images: string[] = [];

function run(cmd: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, DOCKER_HOST, ...env },
    input,
    timeout: 120_000,
  });
  return { code: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}
function dockyard(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [BIN, ...args], {
    DOCKYARD_TRUST_DIR: join(dir, "dy-trust"),
    DOCKYARD_TRUST_SERVER: trustUrl,
    DOCKYARD_TRUST_CA: tls.ca,
    DOCKYARD_TRUST_ROOT_PASSPHRASE: "root-pass-1",
    DOCKYARD_TRUST_REPOSITORY_PASSPHRASE: "repo-pass-1",
    ...env,
  });
}
function notary(args: string[]) {
  return run("notary", ["-c", join(dir, "notary.json"), "-d", join(dir, "notary-trust"), ...args], {
    NOTARY_ROOT_PASSPHRASE: "nroot-pass",
    NOTARY_TARGETS_PASSPHRASE: "ntargets-pass",
    NOTARY_SNAPSHOT_PASSPHRASE: "nsnap-pass",
  });
}
function docker(args: string[], trust = false, cfg = "docker-cfg") {
  const env: Record<string, string> = { DOCKER_CONFIG: join(dir, cfg) };
  if (trust)
    Object.assign(env, {
      DOCKER_CONTENT_TRUST: "1",
      DOCKER_CONTENT_TRUST_SERVER: trustUrl,
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: "droot-pass",
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: "drepo-pass",
    });
  return run(DOCKER_CLI, args, env);
}
/** A one-layer image unique to this call, pushed without trust; returns its digest. */
function pushImage(ref: string): string {
  const d = join(dir, `img-${randomBytes(4).toString("hex")}`);
  mkdirSync(d);
  writeFileSync(join(d, "nonce"), randomBytes(32).toString("hex"));
  assert.equal(run("tar", ["-C", d, "-cf", `${d}.tar`, "nonce"]).code, 0);
  const imp = docker(["import", `${d}.tar`, ref]);
  assert.equal(imp.code, 0, imp.out);
  images.push(ref);
  const p = docker(["push", ref]);
  assert.equal(p.code, 0, p.out);
  return /digest: (sha256:[0-9a-f]{64})/.exec(p.out)![1]!;
}

before(async () => {
  if (skip) return;
  dir = await tempDir("dockyard-trust-cross-");
  const started = await startTrustRegistry(dir);
  ({ srv, tls } = started);
  const trustPort = started.trustPort;
  trustUrl = `https://127.0.0.1:${trustPort}`;
  reg = `127.0.0.1:${srv.port}`;
  writeFileSync(
    join(dir, "notary.json"),
    JSON.stringify({ remote_server: { url: trustUrl, root_ca: tls.ca } }),
  );
  for (const cfg of ["docker-cfg", "docker-fresh"]) {
    mkdirSync(join(dir, cfg, "tls", `127.0.0.1:${trustPort}`), { recursive: true });
    copyFileSync(tls.ca, join(dir, cfg, "tls", `127.0.0.1:${trustPort}`, "ca.crt"));
  }
});

after(async () => {
  if (skip) return;
  if (images.length) docker(["rmi", "-f", ...images]);
  // and images only this run made that lost their tag (overwritten by a later import)
  const ids = docker(["image", "ls", "--no-trunc", "--format", "{{.ID}} {{.Repository}}"])
    .out.split("\n")
    .filter((l) => l.includes(`/${NS}/`))
    .map((l) => l.split(" ")[0]!);
  if (ids.length) docker(["rmi", "-f", ...new Set(ids)]);
  await srv?.stop();
  if (srv) await removeDir(srv.data);
  await removeDir(dir);
});

test(
  "signed by dockyard: the notary client lists it and docker's trusted pull gets it",
  { skip, timeout: 240_000 },
  async () => {
    const ref = `${reg}/${NS}/by-dockyard:v1`;
    const digest = pushImage(ref);
    const s = dockyard(["trust", "sign", ref]);
    assert.equal(s.code, 0, s.out);
    assert.match(s.out, new RegExp(digest));
    const l = notary(["list", `${reg}/${NS}/by-dockyard`]);
    assert.equal(l.code, 0, l.out);
    assert.match(l.out, new RegExp(`^v1\\s+${digest.slice(7)}\\s+\\d+\\s+targets`, "m"));
    docker(["rmi", "-f", ref]);
    const p = docker(["pull", ref], true, "docker-fresh");
    assert.equal(p.code, 0, p.out);
    assert.match(p.out, new RegExp(digest));
    const v = dockyard(["trust", "verify", ref]);
    assert.equal(v.code, 0, v.out);
  },
);

test(
  "published by docker (DCT push) and by notary: dockyard verifies and inspects",
  { skip, timeout: 240_000 },
  async () => {
    const ref = `${reg}/${NS}/by-docker:v1`;
    pushImage(ref);
    const p = docker(["push", ref], true);
    assert.equal(p.code, 0, p.out);
    const digest =
      /signed: digest: (sha256:[0-9a-f]{64})/.exec(p.out)?.[1] ??
      /digest: (sha256:[0-9a-f]{64})/.exec(p.out)![1]!;
    const v = dockyard(["trust", "verify", "--json", ref]);
    assert.equal(v.code, 0, v.out);
    assert.equal(JSON.parse(v.out.slice(v.out.indexOf("{"))).digest, digest);

    const gun = `${reg}/${NS}/by-notary`;
    const file = join(dir, "payload.txt");
    writeFileSync(file, "hello from notary\n");
    assert.equal(notary(["init", "-p", gun]).code, 0);
    const add = notary(["add", "-p", gun, "t1", file]);
    assert.equal(add.code, 0, add.out);
    const i = dockyard(["trust", "inspect", "--json", gun]);
    assert.equal(i.code, 0, i.out);
    const info = JSON.parse(i.out);
    const sha = createHash("sha256").update("hello from notary\n").digest("hex");
    assert.deepEqual(
      info.signedTags.map((t: { tag: string; digest: string }) => [t.tag, t.digest]),
      [["t1", `sha256:${sha}`]],
    );
  },
);

test(
  "unsigned and revoked tags fail verification with the trust exit code",
  { skip, timeout: 240_000 },
  async () => {
    const ref = `${reg}/${NS}/by-dockyard:unsigned`;
    pushImage(ref);
    const v = dockyard(["trust", "verify", ref]);
    assert.equal(v.code, 7, v.out);
    assert.match(v.out, /not signed/);
    const r = dockyard(["trust", "revoke", `${reg}/${NS}/by-dockyard:v1`]);
    assert.equal(r.code, 0, r.out);
    assert.equal(dockyard(["trust", "verify", `${reg}/${NS}/by-dockyard:v1`]).code, 7);
  },
);

test(
  "registry policy trust.require: unsigned tag GETs refused, signed allowed, moving a signed tag refused",
  { skip, timeout: 240_000 },
  async () => {
    const polDir = await tempDir("dockyard-trust-pol-");
    const trustPort = await freePort();
    const cfg = join(polDir, "config.yml");
    writeFileSync(cfg, `trust:\n  require:\n    - "${NS}/pol-*"\n`);
    const pol = await startServer({
      args: [
        "--no-access-log",
        "--config",
        cfg,
        "--trust-listen",
        `127.0.0.1:${trustPort}`,
        "--trust-tls-cert",
        tls.cert,
        "--trust-tls-key",
        tls.key,
      ],
    });
    const polReg = `127.0.0.1:${pol.port}`;
    try {
      const ref = `${polReg}/${NS}/pol-app:v1`;
      const digest = pushImage(ref);
      const get = (tag: string) =>
        run("curl", [
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          "Accept: application/vnd.docker.distribution.manifest.v2+json",
          `http://${polReg}/v2/${NS}/pol-app/manifests/${tag}`,
        ]).out;
      assert.equal(get("v1"), "403");
      assert.equal(get(digest), "200"); // by digest: content-addressed, allowed
      const s = dockyard(["trust", "sign", `${ref}@${digest}`], {
        DOCKYARD_TRUST_SERVER: `https://127.0.0.1:${trustPort}`,
      });
      assert.equal(s.code, 0, s.out);
      assert.equal(get("v1"), "200");
      // another image pushed over the signed tag is refused
      const d = join(polDir, "x");
      mkdirSync(d);
      writeFileSync(join(d, "n"), randomBytes(16).toString("hex"));
      run("tar", ["-C", d, "-cf", `${d}.tar`, "n"]);
      assert.equal(docker(["import", `${d}.tar`, ref]).code, 0);
      const push = docker(["push", ref]);
      assert.notEqual(push.code, 0, push.out);
      assert.equal(get("v1"), "200");
      // other repositories are not affected
      const other = `${polReg}/${NS}/free:v1`;
      pushImage(other);
      assert.equal(
        run("curl", [
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-H",
          "Accept: application/vnd.docker.distribution.manifest.v2+json",
          `http://${polReg}/v2/${NS}/free/manifests/v1`,
        ]).out,
        "200",
      );
    } finally {
      await pol.stop();
      await removeDir(pol.data);
      await removeDir(polDir);
    }
  },
);

test(
  "dockyard push --sign, pull --verify (moved tag → signed digest), DOCKYARD_CONTENT_TRUST=1 refuses unsigned",
  { skip, timeout: 240_000 },
  async () => {
    const home = { DOCKYARD_HOME: join(dir, "dy-home") };
    const plain = `${reg}/${NS}/src:v1`;
    const digest = pushImage(plain);
    const pl = dockyard(["pull", plain], home);
    assert.equal(pl.code, 0, pl.out);
    const signedRef = `${reg}/${NS}/pushed:v1`;
    const ps = dockyard(["push", "--sign", plain, `docker://${signedRef}`], home);
    assert.equal(ps.code, 0, ps.out);
    assert.match(ps.out, /signed docker:\/\/.*pushed:v1: digest sha256:/);
    const v = dockyard(["pull", "--verify", signedRef], home);
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, new RegExp(digest));
    // move the tag in the registry to other content: a verified pull still gets the signed digest
    pushImage(signedRef);
    const moved = dockyard(["pull", "--verify", signedRef], home);
    assert.equal(moved.code, 0, moved.out);
    assert.match(moved.out, new RegExp(`pulled .*digest ${digest}`));
    // an unsigned tag with content trust on by default
    const unsigned = `${reg}/${NS}/pushed:unsigned`;
    pushImage(unsigned);
    const u = dockyard(["pull", unsigned], { ...home, DOCKYARD_CONTENT_TRUST: "1" });
    assert.equal(u.code, 7, u.out);
    assert.match(u.out, /not signed/);
    assert.equal(
      dockyard(["pull", "--no-verify", unsigned], { ...home, DOCKYARD_CONTENT_TRUST: "1" }).code,
      0,
    );
    const c = dockyard(["copy", "--verify", `docker://${signedRef}`, `oci:${join(dir, "layout")}:v1`], home);
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, new RegExp(digest));
  },
);
