// A build killed outright (SIGKILL: a CI job's timeout, the OOM killer) runs no cleanup: its
// overlay mount, its runtime container (runc outlives it) and its temp dirs stay. The next build
// on the machine clears them (src/build/cleanup.ts sweepDeadOwners); a live build's are left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import { removeContainersUnder } from "../../src/build/runner.js";
import {
  BIN,
  dockyard,
  ensureBases,
  leftovers,
  removeDir,
  skipWithoutBases,
  tempDir,
  writeContext,
} from "./fixtures.js";

const skipPeers = needPeers("runc");
const BASE = "127.0.0.1:5300/busybox:latest";

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !ok();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const helperDirsOf = (pid: number) =>
  readdirSync(tmpdir()).filter((n) => n.startsWith(`dockyard-sh-${pid}-`));

test(
  "a SIGKILLed build's mount, runc container and temp dirs are cleared by the next build, a live build's are not",
  { skip: skipPeers, timeout: 240_000 },
  async (t) => {
    if (skipWithoutBases(t, await ensureBases())) return;
    const home = await tempDir("dy-build-killed-home-");
    const work = await tempDir("dy-build-killed-");
    const start = (dockerfile: string, name: string) =>
      writeContext(join(work, name), dockerfile).then((ctx) =>
        spawn(BIN, ["build", "--no-cache", "--progress", "plain", "--network", "none", ctx], {
          env: { ...process.env, DOCKYARD_HOME: home },
          stdio: ["ignore", "ignore", "pipe"],
        }),
      );
    const exited = (c: ReturnType<typeof spawn>) => new Promise<void>((r) => c.once("close", () => r()));
    try {
      const doomed = await start(`FROM ${BASE}\nRUN sleep 120\n`, "doomed");
      await until("the doomed build's RUN", () =>
        leftovers(home).some((l) => l.startsWith("runc container")),
      );
      const pid = doomed.pid!;
      doomed.kill("SIGKILL");
      await exited(doomed);
      const left = leftovers(home);
      assert.ok(
        left.some((l) => l.startsWith("mount: ")),
        left.join("\n"),
      );
      assert.ok(
        left.some((l) => l.startsWith("temp: ")),
        left.join("\n"),
      );
      assert.ok(
        left.some((l) => l.startsWith("runc container")),
        left.join("\n"),
      );

      // a live build beside it: the sweep must leave its dirs and container alone
      const live = await start(`FROM ${BASE}\nRUN sleep 8\n`, "live");
      const before = new Set(leftovers(home));
      await until("the live build's RUN", () =>
        leftovers(home).some((l) => l.startsWith("runc container") && !before.has(l)),
      );
      const liveHolds = leftovers(home).filter((l) => !before.has(l));

      const next = await dockyard(home, [
        "build",
        "--progress",
        "plain",
        await writeContext(join(work, "next"), `FROM ${BASE}\nENV A=1\n`),
      ]);
      assert.equal(next.code, 0, next.stderr);
      const now = leftovers(home);
      for (const l of left)
        assert.ok(!now.includes(l), `still there after the next build: ${l}\n${now.join("\n")}`);
      for (const l of liveHolds) assert.ok(now.includes(l), `the live build lost ${l}`);
      assert.deepEqual(helperDirsOf(pid), [], "the killed build's helper-shell dir");
      await exited(live);
      assert.equal(live.exitCode, 0, "the live build finished");
      assert.deepEqual(leftovers(home), []);
    } finally {
      await removeContainersUnder([home]); // a failed assertion must not leave a container running
      for (const l of readFileSync("/proc/mounts", "utf8").split("\n"))
        if (l.includes(home)) execFileSync("umount", ["-l", l.split(" ")[1]!]);
      await removeDir(home);
      await removeDir(work);
    }
  },
);
