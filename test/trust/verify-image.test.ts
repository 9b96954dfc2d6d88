import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { serveTrust } from "../../src/trust/server/standalone.js";
import { FsTrustStorage } from "../../src/trust/server/storage.js";
import { verifyImage, TrustError, TrustRepository, KeyStore } from "../../src/trust/index.js";
import { MemoryTufCache } from "../../src/trust/remote.js";
import { startServer, removeDir } from "../registry/helpers.js";

const pass = async ({ role }: { role: string }) => (role === "root" ? "root-pass" : "repo-pass");

test("verifyImage: a tampered manifest under a signed tag is refused (integrity)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trust-verify-"));
  const good = Buffer.from(
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}',
  );
  const digest = `sha256:${createHash("sha256").update(good).digest("hex")}`;
  let serve = good;
  const reg = createServer((req, res) => {
    if (req.url === `/v2/team/app/manifests/${digest}` || req.url === "/v2/team/app/manifests/v1") {
      res.writeHead(200, {
        "content-type": "application/vnd.oci.image.manifest.v1+json",
        "content-length": serve.length,
      });
      res.end(serve);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => reg.listen(0, "127.0.0.1", () => r()));
  const regHost = `127.0.0.1:${(reg.address() as { port: number }).port}`;
  const { server, port } = await serveTrust({
    storage: new FsTrustStorage(join(dir, "srv")),
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    const keys = new KeyStore({ base: join(dir, "keys"), rootKeys: join(dir, "root") }, pass);
    const repo = new TrustRepository({
      gun: `${regHost}/team/app`,
      server: { url },
      keys,
      cache: new MemoryTufCache(),
    });
    await repo.init();
    await repo.addTarget("v1", {
      hashes: { sha256: Buffer.from(digest.slice(7), "hex").toString("base64") },
      length: good.length,
    });
    const settings = { server: url, dirs: { base: join(dir, "consumer") } };
    const ok = await verifyImage(`${regHost}/team/app:v1`, settings);
    assert.equal(ok.digest, digest);
    serve = Buffer.from(good.toString().replace("{", "{ "));
    await assert.rejects(verifyImage(`${regHost}/team/app:v1`, settings), (e: unknown) => {
      assert.ok(e instanceof TrustError);
      assert.equal(e.guarantee, "integrity");
      assert.match(e.message, /tampered/);
      return true;
    });
    await assert.rejects(verifyImage(`${regHost}/team/app:v2`, settings), /not signed/);
  } finally {
    server.close();
    reg.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("key store: import/export round trip keeps the key id; wrong passphrase refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trust-keys-"));
  try {
    const { generateKeyPairSync } = await import("node:crypto");
    const pem = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "sec1", format: "pem" })
      .toString();
    const a = new KeyStore({ base: join(dir, "a"), rootKeys: join(dir, "a-root") }, pass);
    const info = await a.importPem(pem, { name: "bob" });
    const exported = await a.exportPem(info.id);
    assert.match(exported, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: delegation\n\n/);
    const b = new KeyStore({ base: join(dir, "b"), rootKeys: join(dir, "b-root") }, pass);
    assert.equal((await b.importPem(exported)).id, info.id);
    const wrong = new KeyStore({ base: join(dir, "c"), rootKeys: join(dir, "c-root") }, async () => "nope");
    await assert.rejects(wrong.importPem(exported), /cannot read the private key/);
    // root keys live in the root directory only
    const r = await a.importPem(pem.replace("BEGIN EC PRIVATE KEY-----\n", "BEGIN EC PRIVATE KEY-----\n"), {
      role: "root",
    });
    assert.ok(r.path.startsWith(join(dir, "a-root")));
    // the key file never holds the key or passphrase in clear
    const { readFile } = await import("node:fs/promises");
    const file = await readFile(info.path, "utf8");
    assert.ok(!file.includes("repo-pass") && !file.includes(pem.split("\n")[1]!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("trust endpoints on the registry follow its auth: anonymous refused, credentials publish", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trust-auth-"));
  const htpasswd = join(dir, "htpasswd");
  await writeFile(htpasswd, `alice:${bcrypt.hashSync("s3cret", 4)}\n`);
  const srv = await startServer({ args: ["--no-access-log", "--htpasswd", htpasswd] });
  try {
    const gun = `127.0.0.1:${srv.port}/team/app`;
    const anon = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/root.json`);
    assert.equal(anon.status, 401);
    const post = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/`, { method: "POST", body: "x" });
    assert.equal(post.status, 401);
    const keys = new KeyStore({ base: join(dir, "keys"), rootKeys: join(dir, "root") }, pass);
    const repo = new TrustRepository({
      gun,
      server: { url: srv.url, auth: "alice:s3cret" },
      keys,
      cache: new MemoryTufCache(),
    });
    await repo.init();
    await repo.addTarget("v1", { hashes: { sha256: Buffer.alloc(32).toString("base64") }, length: 10 });
    const authed = await fetch(`${srv.url}/v2/${gun}/_trust/tuf/targets.json`, {
      headers: { authorization: `Basic ${Buffer.from("alice:s3cret").toString("base64")}` },
    });
    assert.equal(authed.status, 200);
    assert.ok((await authed.json()).signed.targets.v1);
    const badPass = new TrustRepository({
      gun,
      server: { url: srv.url, auth: "alice:wrong" },
      keys,
      cache: new MemoryTufCache(),
    });
    await assert.rejects(badPass.update(), /401/);
  } finally {
    await srv.stop();
    await removeDir(srv.data);
    await rm(dir, { recursive: true, force: true });
  }
});
