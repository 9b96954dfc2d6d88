import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { SHARED, removeDir, startServer } from "../registry/helpers.js";

const SCRIPT = join(SHARED, "tools", "registry-interop.sh");
const skip = needPeers("dockerd", "skopeo", "buildah");

test(
  "registry-interop.sh: docker, skopeo, buildah and raw API checks all pass",
  { skip, timeout: 900_000 },
  async () => {
    const srv = await startServer({ args: ["--delete", "--no-access-log"] });
    try {
      const r = spawnSync("bash", [SCRIPT, `127.0.0.1:${srv.port}`], {
        encoding: "utf8",
        env: {
          ...process.env,
          DOCKER_HOST: process.env.DOCKER_HOST ?? "unix:///run/dockyard-test/docker.sock",
          INTEROP_LARGE_MB: process.env.INTEROP_LARGE_MB ?? "100",
        },
        timeout: 850_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      process.stdout.write(r.stdout);
      const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout);
      assert.ok(summary, `no summary line; stderr:\n${r.stderr.slice(-4000)}`);
      const failed = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(failed, [], `failed checks:\n${failed.join("\n")}\n${r.stderr.slice(-4000)}`);
      assert.equal(Number(summary[1]), 28);
      assert.equal(r.status, 0);
    } finally {
      await srv.stop();
      await removeDir(srv.data);
    }
  },
);
