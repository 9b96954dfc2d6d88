/**
 * bench/signatures: costs of "signatures that travel with images" with dockyard's registry.
 *   - sign latency (library: resolve + sign + store) for gpg (OpenPGP ed25519) and sigstore (ECDSA P-256)
 *   - verify latency (library: resolve + fetch signatures + verify) for each kind
 *   - CLI wall time of `trust sign` / `trust verify` (process start included)
 *   - the overhead `--verify` (policy: gpg AND sigstore) adds to `dockyard pull` of a multi-layer image
 * Run: npm run build && node dist/bench/signatures.js [--layers 10] [--layer-mb 4] [--runs 7]
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { pushRandomImage } from "./lib/random-image.js";
import { generateGpgKey } from "../src/trust/signatures/gpg.js";
import { generateCosignKeyPair } from "../src/trust/signatures/cosign-keys.js";
import { signImage, verifyImageSignatures } from "../src/trust/signatures/operations.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "bin", "dockyard");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LAYERS = arg("layers", 10);
const LAYER_MB = arg("layer-mb", 4);
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

function sh(args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`dockyard ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return ms;
}

async function pushImage(reg: string, repo: string, tag: string): Promise<void> {
  await pushRandomImage(reg, repo, tag, LAYERS, LAYER_MB);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "dockyard-bench-sig-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const server = spawn(BIN, ["registry", "serve", "--listen", host, "--data", join(dir, "data")], {
    stdio: "ignore",
    env: { ...process.env, DOCKYARD_ACCESS_LOG: "false" },
  });
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://${host}/v2/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await pushImage(host, "bench/app", "1");
    const ref = `${host}/bench/app:1`;
    const gpg = await generateGpgKey({ name: "bench" });
    const cosign = await generateCosignKeyPair("pw");
    writeFileSync(join(dir, "release.asc"), gpg.privateKey);
    writeFileSync(join(dir, "release.pub.asc"), gpg.publicKey);
    writeFileSync(join(dir, "cosign.key"), cosign.privateKeyPem);
    writeFileSync(join(dir, "cosign.pub"), cosign.publicKeyPem);
    process.env.DOCKYARD_SIGNING_PASSPHRASE = "pw";
    const rows: [string, number][] = [];
    for (const [kind, key, pub] of [
      ["gpg", "release.asc", "release.pub.asc"],
      ["sigstore", "cosign.key", "cosign.pub"],
    ] as const) {
      const sign: number[] = [];
      const verify: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        let t = performance.now();
        await signImage(ref, { keyFile: join(dir, key), referrer: false });
        sign.push(performance.now() - t);
        t = performance.now();
        await verifyImageSignatures(ref, { keyFiles: [join(dir, pub)] });
        verify.push(performance.now() - t);
      }
      rows.push([`${kind} sign (library; cosign: scrypt key decrypt included)`, median(sign)]);
      rows.push([`${kind} verify (library)`, median(verify)]);
      rows.push([
        `${kind} trust sign (CLI wall)`,
        median(
          Array.from({ length: 3 }, () =>
            sh(["trust", "sign", "--kind", kind, "--key", join(dir, key), "--no-referrer", ref]),
          ),
        ),
      ]);
      rows.push([
        `${kind} trust verify (CLI wall)`,
        median(Array.from({ length: 3 }, () => sh(["trust", "verify", "--key", join(dir, pub), ref]))),
      ]);
    }
    writeFileSync(
      join(dir, "policy.yaml"),
      'rules:\n  - repositories: ["bench/**"]\n    require: all\n    signedBy:\n      - kind: gpg\n        keys: [release.pub.asc]\n      - kind: sigstore\n        keys: [cosign.pub]\n',
    );
    const plain: number[] = [];
    const verified: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(sh(["pull", "--progress", "quiet", ref], { DOCKYARD_HOME: join(dir, `home-p${i}`) }));
      verified.push(
        sh(["pull", "--verify", "--progress", "quiet", ref], {
          DOCKYARD_HOME: join(dir, `home-v${i}`),
          DOCKYARD_POLICY: join(dir, "policy.yaml"),
        }),
      );
      rmSync(join(dir, `home-p${i}`), { recursive: true, force: true });
      rmSync(join(dir, `home-v${i}`), { recursive: true, force: true });
    }
    console.log(
      `bench/signatures: ${LAYERS} layers x ${LAYER_MB} MiB, median of ${RUNS} runs (CLI rows: of 3)`,
    );
    for (const [name, ms] of rows) console.log(`  ${name.padEnd(58)} ${fmt(ms)}`);
    const p = median(plain);
    const v = median(verified);
    console.log(`  ${"pull (no verification)".padEnd(58)} ${fmt(p)}`);
    console.log(`  ${"pull --verify (policy: gpg AND sigstore)".padEnd(58)} ${fmt(v)}`);
    console.log(`  --verify overhead: ${fmt(v - p)} (${(((v - p) / p) * 100).toFixed(1)}%)`);
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
