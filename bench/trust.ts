/**
 * bench/trust: Notary content-trust costs with dockyard's registry as registry and trust server.
 *   - sign latency: `trust sign` (library call: TUF update + sign + publish; and the CLI, wall time)
 *   - verify latency: TUF update + tag lookup, fresh cache (first use) and warm cache
 *   - the overhead `--verify` adds to `dockyard pull` of a 10-layer image (target < 10%)
 * Run: npm run build && node dist/bench/trust.js [--layers 10] [--layer-mb 8] [--runs 7]
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { pushRandomImage } from "./lib/random-image.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "dockyard");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LAYERS = arg("layers", 10);
const LAYER_MB = arg("layer-mb", 8);
const RUNS = arg("runs", 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return { ms, out: r.stdout + r.stderr };
}

async function pushImage(reg: string, repo: string, tag: string): Promise<string> {
  return await pushRandomImage(reg, repo, tag, LAYERS, LAYER_MB);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "dockyard-bench-trust-"));
  process.chdir(work);
  sh(process.execPath, [BIN, "registry", "cert", "--host", "127.0.0.1", "--out", work, "--days", "2"]);
  const port = await freePort();
  const tport = await freePort();
  const srv = spawn(
    process.execPath,
    [
      BIN,
      "registry",
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      "--data",
      join(work, "data"),
      "--no-access-log",
      "--log-level",
      "warn",
      "--trust-listen",
      `127.0.0.1:${tport}`,
      "--trust-tls-cert",
      "cert.pem",
      "--trust-tls-key",
      "key.pem",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // the trust (TLS) listener starts after the main one
    const { connect } = await import("node:net");
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const c = connect(tport, "127.0.0.1", () => (c.end(), r(true))).on("error", () => r(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const reg = `127.0.0.1:${port}`;
    const env = {
      DOCKYARD_TRUST_DIR: join(work, "trust"),
      DOCKYARD_TRUST_SERVER: `https://127.0.0.1:${tport}`,
      DOCKYARD_TRUST_CA: join(work, "ca.pem"),
      DOCKYARD_TRUST_ROOT_PASSPHRASE: "bench-root-pass",
      DOCKYARD_TRUST_REPOSITORY_PASSPHRASE: "bench-repo-pass",
    };
    Object.assign(process.env, env);
    const ref = `${reg}/bench/app:v1`;
    console.log(
      `bench/trust: ${LAYERS} layers x ${LAYER_MB} MiB, ${RUNS} runs each, registry ${reg}, trust https://127.0.0.1:${tport}`,
    );
    const digest = await pushImage(reg, "bench/app", "v1");

    // sign (library): init once, then sign tags
    const trust = await import("../src/trust/index.js");
    let t0 = performance.now();
    await trust.signImage(ref);
    const first = performance.now() - t0;
    const signs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await pushImage(reg, "bench/app", `s${i}`).catch(() => undefined);
      t0 = performance.now();
      await trust.signImage(`${reg}/bench/app:s${i}`);
      signs.push(performance.now() - t0);
    }
    const cliSign = median(
      Array.from(
        { length: Math.min(RUNS, 3) },
        () => sh(process.execPath, [BIN, "trust", "sign", ref], env).ms,
      ),
    );

    // verify (library): fresh cache (trust on first use) and warm cache
    const fresh: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dirs = { base: join(work, `consumer-${i}`) };
      t0 = performance.now();
      await trust.verifyTag(ref, { dirs });
      fresh.push(performance.now() - t0);
      t0 = performance.now();
      const v = await trust.verifyTag(ref, { dirs });
      warm.push(performance.now() - t0);
      if (v.digest !== digest) throw new Error("verified digest differs");
    }

    // pull with and without --verify, alternating, fresh local store each time
    const plain: number[] = [];
    const verified: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const verify of [false, true]) {
        const home = join(work, `home-${i}-${verify}`);
        const args = [BIN, "pull", "--progress", "quiet", ...(verify ? ["--verify"] : []), ref];
        const { ms } = sh(process.execPath, args, {
          ...env,
          DOCKYARD_HOME: home,
          DOCKYARD_TRUST_DIR: join(home, "trust"),
        });
        (verify ? verified : plain).push(ms);
        rmSync(home, { recursive: true, force: true });
      }
    }
    const mp = median(plain);
    const mv = median(verified);
    console.log(`sign   (library, first: init + sign)   ${fmt(first)}`);
    console.log(`sign   (library, median)                ${fmt(median(signs))}`);
    console.log(`sign   (CLI wall time, median)          ${fmt(cliSign)}`);
    console.log(`verify (library, fresh cache, median)   ${fmt(median(fresh))}`);
    console.log(`verify (library, warm cache, median)    ${fmt(median(warm))}`);
    console.log(`pull   ${LAYERS} layers                       ${fmt(mp)}`);
    console.log(`pull --verify                           ${fmt(mv)}`);
    console.log(
      `--verify overhead                       ${(((mv - mp) / mp) * 100).toFixed(1)}% (${fmt(mv - mp)}; target < 10%)`,
    );
  } finally {
    srv.kill("SIGTERM");
    await new Promise((r) => srv.once("exit", r));
    process.chdir(tmpdir());
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
