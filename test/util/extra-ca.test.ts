import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adoptDeferredCaCerts, pemCertificates } from "../../src/util/extra-ca.js";

const PEM = (n: number) => `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----`;

test("adoptDeferredCaCerts gives NODE_EXTRA_CA_CERTS back and drops the hand-over variable", () => {
  const env: NodeJS.ProcessEnv = { DOCKYARD_DEFERRED_CA_CERTS: "/etc/extra.pem", PATH: "/bin" };
  adoptDeferredCaCerts(env);
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: "/etc/extra.pem", PATH: "/bin" });
  const untouched: NodeJS.ProcessEnv = { PATH: "/bin" };
  adoptDeferredCaCerts(untouched);
  assert.deepEqual(untouched, { PATH: "/bin" });
});

test("pemCertificates finds every certificate of a bundle and nothing else", () => {
  const bundle = `# comment\n${PEM(1)}\njunk\n${PEM(2)}\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n`;
  assert.deepEqual(pemCertificates(bundle), [PEM(1), PEM(2)]);
});

test("bin/dockyard's shell line defers NODE_EXTRA_CA_CERTS; the programs the CLI runs see it as it was", () => {
  const dir = mkdtempSync(join(tmpdir(), "dy-xca-"));
  try {
    // `dockyard logout` runs the credential helper config.json names: it shows the env children get
    mkdirSync(join(dir, "bin"));
    const helper = join(dir, "bin", "docker-credential-envprobe");
    writeFileSync(
      helper,
      `#!/bin/sh\ncat >/dev/null\necho "n=\${NODE_EXTRA_CA_CERTS-unset} d=\${DOCKYARD_DEFERRED_CA_CERTS-unset}" > "${dir}/seen"\n`,
    );
    chmodSync(helper, 0o755);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credsStore: "envprobe" }));
    const r = spawnSync(join(process.cwd(), "bin", "dockyard"), ["logout", "127.0.0.1:1"], {
      env: {
        ...process.env,
        PATH: `${join(dir, "bin")}:${process.env.PATH}`,
        DOCKER_CONFIG: dir,
        DOCKYARD_HOME: join(dir, "home"),
        NODE_EXTRA_CA_CERTS: join(dir, "no-such-bundle.pem"),
      },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    // Node warns at start-up about an unreadable NODE_EXTRA_CA_CERTS; deferred, nothing read it
    assert.doesNotMatch(r.stderr, /extra certs/i);
    assert.equal(readFileSync(join(dir, "seen"), "utf8"), `n=${join(dir, "no-such-bundle.pem")} d=unset\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
