import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { pushRandomImage } from "../../bench/lib/random-image.js";
import { needPeers } from "../helpers/peers.js";
import { BIN, freePort, removeDir, startServer, tempDir, type ServerProc } from "../registry/helpers.js";

/**
 * The trust client's Docker token auth, against the real notary-server (Debian's) configured for
 * token auth. dockyard's registry has basic auth only and no token issuer is packaged, so the
 * token endpoint is a minimal issuer started here (node:http): it checks basic credentials and
 * mints the ES256 JWTs (x5c-signed, as docker/distribution's token access controller verifies
 * them) that notary-server then checks itself — signature, issuer, audience, expiry, and that the
 * granted actions cover the request (pull to read, push to publish).
 */
const skip = needPeers("notary-server", "openssl");

let dir = "";
let srv: ServerProc | undefined;
let notary: ChildProcess | undefined;
let issuer: Server | undefined;
let reg = "";
let notaryUrl = "";
const requests: { scope: string[]; account?: string; authorized: string }[] = [];
const USERS: Record<string, string> = { alice: "alice-pass" };

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Parses `repository:<name with colons>:a,b` as distribution does: type, name, actions. */
function parseScope(s: string) {
  const first = s.indexOf(":");
  const last = s.lastIndexOf(":");
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(",") };
}

function startIssuer(port: number, keyPem: string, certPem: string): Promise<Server> {
  const key = createPrivateKey(keyPem);
  const der = new X509Certificate(certPem).raw.toString("base64");
  const s = createServer((req, res) => {
    const u = new URL(req.url!, "http://x");
    const scopes = u.searchParams.getAll("scope");
    const auth = req.headers.authorization ?? "";
    let user: string | undefined;
    if (auth.startsWith("Basic ")) {
      const [name, pass] = Buffer.from(auth.slice(6), "base64").toString().split(":");
      if (!name || USERS[name] !== pass) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"details":"incorrect username or password"}');
        return;
      }
      user = name;
    }
    requests.push({
      scope: scopes,
      account: u.searchParams.get("account") ?? undefined,
      authorized: user ?? "",
    });
    // alice gets what she asks for; anonymous callers may only pull
    const access = scopes.map(parseScope).map((sc) => ({
      type: sc.type,
      name: sc.name,
      actions: user ? sc.actions : sc.actions.filter((a) => a === "pull"),
    }));
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [der] };
    const claims = {
      iss: "dockyard-test-issuer",
      sub: user ?? "",
      aud: u.searchParams.get("service"),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300 }));
  });
  return new Promise((r) => s.listen(port, "127.0.0.1", () => r(s)));
}

before(async () => {
  if (skip) return;
  dir = await tempDir("dockyard-trust-token-");
  const r = spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=dockyard-test-issuer",
    "-days",
    "2",
    "-keyout",
    join(dir, "issuer.key"),
    "-out",
    join(dir, "issuer.crt"),
  ]);
  assert.equal(r.status, 0, r.stderr?.toString());
  const issuerPort = await freePort();
  issuer = await startIssuer(
    issuerPort,
    readFileSync(join(dir, "issuer.key"), "utf8"),
    readFileSync(join(dir, "issuer.crt"), "utf8"),
  );
  const notaryPort = await freePort();
  writeFileSync(
    join(dir, "notary-server.json"),
    JSON.stringify({
      server: { http_addr: `127.0.0.1:${notaryPort}` },
      trust_service: { type: "local", hostname: "", port: "", key_algorithm: "ecdsa" },
      logging: { level: "info" },
      storage: { backend: "memory" },
      auth: {
        type: "token",
        options: {
          realm: `http://127.0.0.1:${issuerPort}/token`,
          service: "notary-test",
          issuer: "dockyard-test-issuer",
          rootcertbundle: join(dir, "issuer.crt"),
        },
      },
    }),
  );
  notary = spawn("notary-server", ["-config", join(dir, "notary-server.json")], { stdio: "ignore" });
  notaryUrl = `http://127.0.0.1:${notaryPort}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${notaryUrl}/_notary_server/health`).then(
        (x) => x.ok,
        () => false,
      )
    )
      break;
    await new Promise((res) => setTimeout(res, 100));
  }
  srv = await startServer({ args: ["--no-access-log"] });
  reg = `127.0.0.1:${srv.port}`;
});

after(async () => {
  issuer?.close();
  if (notary && notary.exitCode === null) {
    notary.kill("SIGTERM");
    await new Promise((r) => notary!.once("exit", r));
  }
  await srv?.stop();
  if (dir) await removeDir(dir);
});

/** Runs the CLI asynchronously: the token issuer answers from this process's event loop. */
function dockyard(
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        DOCKYARD_TRUST_DIR: join(dir, "trust"),
        DOCKYARD_TRUST_SERVER: notaryUrl,
        DOCKYARD_TRUST_ROOT_PASSPHRASE: "root-pass",
        DOCKYARD_TRUST_REPOSITORY_PASSPHRASE: "repo-pass",
        DOCKER_CONFIG: join(dir, "docker-empty"),
        DOCKYARD_HOME: join(dir, "home"),
        ...extra,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (out += d));
    c.on("exit", (code) => resolve({ code, out }));
  });
}

test(
  "token auth against notary-server: sign with credentials, verify anonymously, refusals",
  { skip, timeout: 120_000 },
  async () => {
    const digest = await pushRandomImage(reg, "tok/app", "v1", 1, 1);
    const gun = `${reg}/tok/app`;

    // anonymous: the issuer grants pull only, so notary-server refuses to publish
    const anon = await dockyard(["trust", "sign", `${gun}:v1`]);
    assert.notEqual(anon.code, 0, anon.out);
    assert.match(anon.out, /HTTP 401/);

    // a wrong password: the token endpoint refuses, and the message says so
    const wrong = await dockyard(["trust", "sign", `${gun}:v1`], { DOCKYARD_TRUST_AUTH: "alice:nope" });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /refused the credentials of alice \(token endpoint said 401\)/);

    // alice (DOCKYARD_TRUST_AUTH): init + sign publish through notary-server
    requests.length = 0;
    const ok = await dockyard(["trust", "sign", `${gun}:v1`], { DOCKYARD_TRUST_AUTH: "alice:alice-pass" });
    assert.equal(ok.code, 0, ok.out);
    const scopes = new Set(requests.flatMap((r) => r.scope));
    assert.ok(scopes.has(`repository:${gun}:pull`), [...scopes].join(" "));
    assert.ok(scopes.has(`repository:${gun}:pull,push`), [...scopes].join(" "));
    assert.ok(requests.every((r) => r.authorized === "alice" && r.account === "alice"));
    // one token per scope for the whole command, not one per request
    assert.equal(requests.length, scopes.size, JSON.stringify(requests));

    // a consumer with no credentials verifies (anonymous pull token)
    const v = await dockyard(["trust", "verify", `${gun}:v1`], { DOCKYARD_TRUST_DIR: join(dir, "consumer") });
    assert.equal(v.code, 0, v.out);
    assert.match(v.out, new RegExp(digest));
    const pulled = await dockyard(["pull", "--progress", "plain", "--verify", `${gun}:v1`], {
      DOCKYARD_TRUST_DIR: join(dir, "consumer2"),
    });
    assert.equal(pulled.code, 0, pulled.out);
    assert.match(pulled.out, new RegExp(`pulled .*digest ${digest}`));
  },
);

test(
  "token auth: credentials from docker's config.json (docker login of the registry), as docker sends them",
  { skip, timeout: 120_000 },
  async () => {
    await pushRandomImage(reg, "tok/cfg", "v1", 1, 1);
    const cfg = join(dir, "docker-cfg");
    mkdirSync(cfg, { recursive: true });
    writeFileSync(
      join(cfg, "config.json"),
      JSON.stringify({ auths: { [reg]: { auth: Buffer.from("alice:alice-pass").toString("base64") } } }),
    );
    requests.length = 0;
    const ok = await dockyard(["trust", "sign", `${reg}/tok/cfg:v1`], { DOCKER_CONFIG: cfg });
    assert.equal(ok.code, 0, ok.out);
    assert.ok(requests.length > 0 && requests.every((r) => r.authorized === "alice"));
  },
);
