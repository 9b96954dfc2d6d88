import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "node:https";
import { BIN, startServer, tempDir, removeDir, writeHtpasswd, type ServerProc } from "./helpers.js";
import { sha256 } from "./client.js";
import { hasCommand } from "../helpers/peers.js";

describe("htpasswd basic auth", () => {
  let srv: ServerProc;
  let dir: string;
  const good = "Basic " + Buffer.from("alice:s3cret").toString("base64");
  const bad = "Basic " + Buffer.from("alice:wrong").toString("base64");
  before(async () => {
    dir = await tempDir();
    const file = await writeHtpasswd(dir, "alice", "s3cret");
    srv = await startServer({
      args: ["--htpasswd", file, "--realm", "test realm", "--no-access-log", "--delete"],
    });
  });
  after(async () => {
    await srv.stop();
    await removeDir(srv.data);
    await removeDir(dir);
  });
  test("GET /v2/ without credentials: 401 UNAUTHORIZED with WWW-Authenticate Basic realm and the API header", async () => {
    const r = await fetch(`${srv.url}/v2/`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), 'Basic realm="test realm"');
    assert.equal(r.headers.get("docker-distribution-api-version"), "registry/2.0");
    assert.equal(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code, "UNAUTHORIZED");
  });
  test("wrong password or unknown user: 401; right password: 200", async () => {
    assert.equal((await fetch(`${srv.url}/v2/`, { headers: { Authorization: bad } })).status, 401);
    const unknown = "Basic " + Buffer.from("bob:s3cret").toString("base64");
    assert.equal((await fetch(`${srv.url}/v2/`, { headers: { Authorization: unknown } })).status, 401);
    assert.equal((await fetch(`${srv.url}/v2/`, { headers: { Authorization: "Basic !!!" } })).status, 401);
    assert.equal((await fetch(`${srv.url}/v2/`, { headers: { Authorization: good } })).status, 200);
  });
  test("every API route needs credentials", async () => {
    const d = sha256("x");
    const routes: [string, string][] = [
      ["GET", "/v2/_catalog"],
      ["GET", "/v2/a/tags/list"],
      ["GET", `/v2/a/manifests/latest`],
      ["HEAD", `/v2/a/manifests/latest`],
      ["PUT", `/v2/a/manifests/latest`],
      ["DELETE", `/v2/a/manifests/${d}`],
      ["GET", `/v2/a/blobs/${d}`],
      ["DELETE", `/v2/a/blobs/${d}`],
      ["POST", `/v2/a/blobs/uploads/`],
      ["GET", `/v2/a/blobs/uploads/00000000-0000-4000-8000-000000000000`],
      ["GET", `/v2/a/referrers/${d}`],
    ];
    for (const [method, path] of routes) {
      const r = await fetch(`${srv.url}${path}`, { method, body: method === "PUT" ? "{}" : undefined });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.match(r.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    }
  });
  test("with credentials the full push/pull works", async () => {
    const h = { Authorization: good };
    const body = "authenticated blob";
    const r = await fetch(`${srv.url}/v2/auth/test/blobs/uploads/?digest=${sha256(body)}`, {
      method: "POST",
      body,
      headers: h,
    });
    assert.equal(r.status, 201);
    const g = await fetch(`${srv.url}/v2/auth/test/blobs/${sha256(body)}`, { headers: h });
    assert.equal(await g.text(), body);
    const c = await fetch(`${srv.url}/v2/_catalog`, { headers: h });
    assert.ok(((await c.json()) as { repositories: string[] }).repositories.includes("auth/test"));
  });
  test("/healthz stays open for load balancers", async () => {
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  });
});

describe("TLS with a certificate from 'dockyard registry cert'", () => {
  let srv: ServerProc;
  let dir: string;
  before(async () => {
    dir = await tempDir();
    const r = spawnSync(
      process.execPath,
      [BIN, "registry", "cert", "--out", dir, "--host", "localhost", "--host", "127.0.0.1"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    srv = await startServer({
      https: true,
      args: ["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--no-access-log"],
    });
  });
  after(async () => {
    await srv.stop();
    await removeDir(srv.data);
    await removeDir(dir);
  });
  test("an HTTPS client trusting ca.pem gets 200 from /v2/ (by IP and by name)", async () => {
    const ca = await readFile(join(dir, "ca.pem"));
    for (const host of ["127.0.0.1", "localhost"]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            servername: host === "localhost" ? host : undefined,
            port: srv.port,
            path: "/v2/",
            ca,
            headers: { Host: host },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      assert.equal(status, 200, host);
    }
  });
  test("a client without the CA refuses the certificate", async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: srv.port, path: "/v2/" }, resolve);
        req.on("error", reject);
        req.end();
      }),
      /self-signed|unable to verify|certificate/i,
    );
  });
  test(
    "curl --cacert ca.pem speaks to it",
    { skip: hasCommand("curl") ? false : "curl missing" },
    async () => {
      const r = spawnSync(
        "curl",
        [
          "-sS",
          "--cacert",
          join(dir, "ca.pem"),
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          `https://127.0.0.1:${srv.port}/v2/`,
        ],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.stdout, "200", r.stderr);
      const no = spawnSync("curl", ["-sS", "-o", "/dev/null", `https://127.0.0.1:${srv.port}/v2/`], {
        encoding: "utf8",
      });
      assert.notEqual(no.status, 0);
    },
  );
});
