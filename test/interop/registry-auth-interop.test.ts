import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { SHARED, removeDir, startServer, tempDir, writeHtpasswd } from "../registry/helpers.js";

const skip = needPeers("dockerd", "skopeo", "buildah");

test(
  "registry-interop.sh against an htpasswd-protected registry (api-*, docker push/pull)",
  { skip, timeout: 600_000 },
  async () => {
    const dir = await tempDir();
    const file = await writeHtpasswd(dir, "interop", "pa55word");
    const srv = await startServer({ args: ["--htpasswd", file, "--delete", "--no-access-log"] });
    try {
      const r = spawnSync("bash", [join(SHARED, "tools", "registry-interop.sh"), `127.0.0.1:${srv.port}`], {
        encoding: "utf8",
        env: {
          ...process.env,
          DOCKER_HOST: process.env.DOCKER_HOST ?? "unix:///run/dockyard-test/docker.sock",
          INTEROP_USER: "interop",
          INTEROP_PASSWORD: "pa55word",
          INTEROP_ONLY: "^api-|^docker-push$|^docker-pull-run$",
        },
        timeout: 550_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      process.stdout.write(r.stdout);
      const failed = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
      assert.deepEqual(failed, [], r.stderr.slice(-3000));
      const m = /(\d+) passed, (\d+) failed/.exec(r.stdout);
      assert.ok(m && Number(m[1]) >= 15, r.stdout);
      assert.equal(r.status, 0);
    } finally {
      await srv.stop();
      await removeDir(srv.data);
      await removeDir(dir);
    }
  },
);
