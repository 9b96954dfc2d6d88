import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { pushRandomImage } from "../../bench/lib/random-image.js";
import { withTrustLock } from "../../src/trust/lock.js";
import { BIN, removeDir, startServer, tempDir, type ServerProc } from "../registry/helpers.js";

/**
 * The trust directory's cross-process lock (src/trust/lock.ts), with real processes: concurrent
 * `trust sign`s on one trust dir all land (without it, all but one fail: each builds targets
 * version N+1 and the server takes only the first), concurrent verified pulls leave a valid
 * cache, a lock left by a dead process is broken, a live one is waited for.
 */

let dir = "";
let srv: ServerProc | undefined;
let reg = "";

before(async () => {
  dir = await tempDir("dockyard-trust-lock-");
  srv = await startServer({ args: ["--no-access-log"] });
  reg = `127.0.0.1:${srv.port}`;
});
after(async () => {
  await srv?.stop();
  if (dir) await removeDir(dir);
});

const env = (trustDir: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  DOCKYARD_TRUST_DIR: trustDir,
  DOCKYARD_TRUST_SERVER: `http://${reg}`,
  DOCKYARD_TRUST_ROOT_PASSPHRASE: "root-pass",
  DOCKYARD_TRUST_REPOSITORY_PASSPHRASE: "repo-pass",
  DOCKYARD_HOME: join(dir, "home"),
  ...extra,
});

function dockyard(
  args: string[],
  e: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; pid: number }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: e, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (out += d));
    c.on("exit", (code) => resolve({ code, out, pid: c.pid! }));
  });
}

test(
  "concurrent `trust sign`s on one trust dir: all succeed, every tag is signed",
  { timeout: 120_000 },
  async () => {
    const trustDir = join(dir, "t-sign");
    const tags = ["a", "b", "c"];
    for (const t of tags) await pushRandomImage(reg, "lock/app", t, 1, 1);
    // the first sign initializes the repository; the others race it (and each other)
    const rs = await Promise.all(
      tags.map((t) => dockyard(["trust", "sign", `${reg}/lock/app:${t}`], env(trustDir))),
    );
    for (const r of rs) assert.equal(r.code, 0, r.out);
    for (const t of tags) {
      const v = spawnSync(process.execPath, [BIN, "trust", "verify", `${reg}/lock/app:${t}`], {
        env: env(join(dir, "t-consumer")),
        encoding: "utf8",
      });
      assert.equal(v.status, 0, v.stdout + v.stderr);
    }
    assert.ok(!existsSync(join(trustDir, ".lock")), "the lock is released");
  },
);

test(
  "concurrent pull --verify on one trust dir: both verify, the cache stays valid",
  { timeout: 120_000 },
  async () => {
    const trustDir = join(dir, "t-pull");
    const ref = `${reg}/lock/app:a`;
    const rs = await Promise.all(
      [1, 2, 3].map((i) =>
        dockyard(
          ["pull", "--progress", "plain", "--verify", ref],
          env(trustDir, { DOCKYARD_HOME: join(dir, `h${i}`) }),
        ),
      ),
    );
    for (const r of rs) assert.equal(r.code, 0, r.out);
    for (const r of rs) assert.match(r.out, /trust: .*lock\/app:a is signed/);
    const again = await dockyard(["trust", "verify", ref], env(trustDir));
    assert.equal(again.code, 0, again.out);
  },
);

test(
  "a lock left by a dead process is broken; a live holder is waited for, then times out",
  { timeout: 60_000 },
  async () => {
    const trustDir = join(dir, "t-stale");
    mkdirSync(trustDir, { recursive: true });
    const lock = join(trustDir, ".lock");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(lock, `${dead} ${hostname()} ${Date.now()}\n`);
    const v = await dockyard(["trust", "verify", `${reg}/lock/app:a`], env(trustDir));
    assert.equal(v.code, 0, v.out);
    assert.ok(!existsSync(lock));

    // held by this (live) test process: the CLI waits, then gives up with a clear message
    writeFileSync(lock, `${process.pid} ${hostname()} ${Date.now()}\n`);
    const t0 = Date.now();
    const busy = await dockyard(
      ["trust", "verify", `${reg}/lock/app:a`],
      env(trustDir, { DOCKYARD_TRUST_LOCK_TIMEOUT: "1" }),
    );
    assert.notEqual(busy.code, 0);
    assert.match(busy.out, /trust directory is busy: .*\.lock is held by process \d+/);
    assert.ok(Date.now() - t0 >= 1000);
    // released while a verify waits: it proceeds
    const waiting = dockyard(["trust", "verify", `${reg}/lock/app:a`], env(trustDir));
    await new Promise((r) => setTimeout(r, 500));
    const { rmSync } = await import("node:fs");
    rmSync(lock);
    const w = await waiting;
    assert.equal(w.code, 0, w.out);
  },
);

test("withTrustLock: re-entrant along one call chain, queued between chains", async () => {
  const d = join(dir, "t-inproc");
  const order: string[] = [];
  const a = withTrustLock(d, async () => {
    order.push("a start");
    await withTrustLock(d, async () => order.push("a nested")); // would deadlock if not re-entrant
    await new Promise((r) => setTimeout(r, 50));
    order.push("a end");
  });
  const b = withTrustLock(d, async () => order.push("b"));
  await Promise.all([a, b]);
  assert.deepEqual(order, ["a start", "a nested", "a end", "b"]);
  assert.ok(!existsSync(join(d, ".lock")));
});
