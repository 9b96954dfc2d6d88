import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { SHARED, removeDir, tempDir } from "../registry/helpers.js";
import { startTrustRegistry } from "../trust/tls.js";

const SCRIPT = join(SHARED, "tools", "notary-interop.sh");
const skip = needPeers("dockerd", "notary", "openssl");

test(
  "notary-interop.sh: dockyard's registry as registry and trust server (--trust-listen) passes every check",
  { skip, timeout: 900_000 },
  async () => {
    const dir = await tempDir("dockyard-trust-interop-");
    const { srv, tls, trustPort } = await startTrustRegistry(dir);
    try {
      const r = spawnSync(
        "bash",
        [SCRIPT, `https://127.0.0.1:${trustPort}`, `127.0.0.1:${srv.port}`, tls.ca],
        {
          encoding: "utf8",
          env: {
            ...process.env,
            DOCKER_HOST: process.env.DOCKER_HOST ?? "unix:///run/dockyard-test/docker.sock",
            INTEROP_DEADLINE: "800",
          },
          timeout: 850_000,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      process.stdout.write(r.stdout);
      const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout);
      assert.ok(summary, `no summary line; stderr:\n${r.stderr.slice(-4000)}`);
      const failed = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(
        failed,
        [],
        `failed checks:\n${failed.join("\n")}\nregistry log:\n${srv.stderr().slice(-4000)}`,
      );
      assert.equal(Number(summary[2]), 0);
      assert.ok(Number(summary[1]) >= 55, `only ${summary[1]} checks passed`);
      assert.equal(r.status, 0);
    } finally {
      await srv.stop();
      await removeDir(srv.data);
      await removeDir(dir);
    }
  },
);
