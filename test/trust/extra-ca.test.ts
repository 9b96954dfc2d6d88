// The trust client reached over HTTPS with no DOCKYARD_TRUST_CA: the server's CA comes from
// NODE_EXTRA_CA_CERTS alone. bin/dockyard runs as a program here (its shell line defers the
// variable past Node's start-up, src/util/extra-ca.ts), so the CA must still be honoured.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pushRandomImage } from "../../bench/lib/random-image.js";
import { signImage } from "../../src/trust/index.js";
import { BIN, removeDir, tempDir, type ServerProc } from "../registry/helpers.js";
import { startTrustRegistry } from "./tls.js";

let dir = "";
let srv: ServerProc | undefined;
let reg = "";
let trustUrl = "";
let ca = "";

before(async () => {
  dir = await tempDir("dockyard-trust-extraca-");
  const started = await startTrustRegistry(dir);
  srv = started.srv;
  ca = started.tls.ca;
  reg = `127.0.0.1:${srv.port}`;
  trustUrl = `https://127.0.0.1:${started.trustPort}`;
  await pushRandomImage(reg, "xca/app", "v1", 1, 1);
  await signImage(`${reg}/xca/app:v1`, {
    server: trustUrl,
    caFile: ca,
    dirs: { base: join(dir, "publisher") },
    prompt: async ({ role }: { role: string }) => (role === "root" ? "root-pass" : "repo-pass"),
  });
});

after(async () => {
  await srv?.stop();
  if (dir) await removeDir(dir);
});

/** `bin/dockyard trust inspect` executed directly, with NODE_EXTRA_CA_CERTS as given. */
function inspect(extraCa: string | undefined) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKYARD_HOME: join(dir, "home"),
    DOCKYARD_TRUST_DIR: join(dir, "reader"),
    DOCKYARD_TRUST_SERVER: trustUrl,
  };
  delete env.DOCKYARD_TRUST_CA;
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  return spawnSync(BIN, ["trust", "inspect", `${reg}/xca/app`], { env, encoding: "utf8" });
}

test("trust inspect over HTTPS trusts the CA named by NODE_EXTRA_CA_CERTS", () => {
  const r = inspect(ca);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /v1/);
});

test("without NODE_EXTRA_CA_CERTS the same server's certificate is refused", () => {
  const r = inspect(undefined);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /self-signed|unable to verify|certificate/i);
});
