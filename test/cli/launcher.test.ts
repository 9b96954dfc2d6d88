// bin/dockyard: runs the bundled CLI (dist/dockyard.cjs) through a per-command V8 code cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/shared.js";

const BIN = join(REPO_ROOT, "bin", "dockyard");
const BUNDLE = join(REPO_ROOT, "dist", "dockyard.cjs");

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("the bundle is the whole CLI in one script, with no module of ours left outside", () => {
  const text = readFileSync(BUNDLE, "utf8");
  assert.ok(text.length > 100_000);
  assert.doesNotMatch(
    text,
    /require\("\.{1,2}\//,
    "a relative require would load dist/src modules beside the bundle",
  );
  // a vm.Script compiled from cached data has no dynamic-import hook: import() must not remain
  assert.doesNotMatch(text, /\bimport\(/);
  assert.match(text, /exports.*\bmain\b/s);
  // bin/dockyard reads it as latin1: one non-ASCII byte would garble what it stands in
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(text, /[^\x00-\x7f]/, "the bundle is pure ASCII");
});

test("text beyond ASCII in the CLI's own strings comes out as UTF-8", () => {
  const r = run(["lint", "--help"], {});
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /lint \[flags\] FILE… \(- for stdin\)/);
});

test("a code cache is written per command word, reused, and replaced when V8 rejects it", () => {
  const home = mkdtempSync(join(tmpdir(), "dockyard-launcher-"));
  try {
    const env = { XDG_CACHE_HOME: home };
    const dir = join(home, "dockyard", "compile-cache");
    const first = run(["lint", "--help"], env);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /Usage: dockyard lint/);
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, new RegExp(`^${process.version}-${process.arch}-\\d+-\\d+-lint\\.bin$`));
    const cache = join(dir, files[0]!);
    const written = statSync(cache);
    assert.ok(written.size > 10_000, "the cache holds compiled code");
    assert.equal(written.mode & 0o777, 0o600);

    // an accepted cache is left alone
    assert.equal(run(["lint", "--help"], env).code, 0);
    assert.equal(statSync(cache).mtimeMs, written.mtimeMs);

    // caches of an older bundle (or another Node) are removed when a cache is written
    const stale = join(dir, `${process.version}-${process.arch}-1-1-lint.bin`);
    writeFileSync(stale, "old");
    // another command gets its own file
    assert.equal(run(["build", "--help"], env).code, 0);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith("-build.bin")).length, 1);
    assert.ok(!readdirSync(dir).includes(stale.split("/").pop()!), "the stale cache was not removed");

    // garbage is rejected by V8, the command still works, and the cache is written again
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const again = run(["lint", "--help"], env);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /Usage: dockyard lint/);
    assert.notDeepEqual(readFileSync(cache), Buffer.alloc(4096, 7));
    assert.ok(statSync(cache).size > 10_000);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a cache directory that cannot be made or DOCKYARD_COMPILE_CACHE=0 only costs the cache", () => {
  const home = mkdtempSync(join(tmpdir(), "dockyard-launcher-"));
  try {
    writeFileSync(join(home, "dockyard"), "a file where the cache directory would go");
    const r = run(["--version"], { XDG_CACHE_HOME: home });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^dockyard \d+\.\d+\.\d+/);
    assert.equal(r.err, "");
    rmSync(join(home, "dockyard"));
    const off = run(["--version"], { XDG_CACHE_HOME: home, DOCKYARD_COMPILE_CACHE: "0" });
    assert.equal(off.code, 0, off.err);
    assert.deepEqual(readdirSync(home), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("exit codes and errors pass through the launcher", () => {
  const r = run(["no-such-command"], { DOCKYARD_COMPILE_CACHE: "0" });
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "no-such-command"/);
});

test("a bundle older than the compiled modules is not used", () => {
  const work = mkdtempSync(join(tmpdir(), "dockyard-launcher-"));
  try {
    // a copy of the layout: bin/, a bundle that says so, and the modules it must prefer when newer
    mkdirSync(join(work, "bin"));
    mkdirSync(join(work, "dist", "src", "cli"), { recursive: true });
    copyFileSync(BIN, join(work, "bin", "dockyard"));
    copyFileSync(join(REPO_ROOT, "bin", "package.json"), join(work, "bin", "package.json"));
    const bundle = join(work, "dist", "dockyard.cjs");
    const modules = join(work, "dist", "src", "cli", "main.js");
    writeFileSync(bundle, 'exports.main = async () => { process.stdout.write("bundle\\n"); return 0; };');
    writeFileSync(modules, 'export async function main() { process.stdout.write("modules\\n"); return 0; }');
    writeFileSync(join(work, "package.json"), '{ "type": "module" }');
    const env = { ...process.env, DOCKYARD_COMPILE_CACHE: "0" };
    const which = () =>
      spawnSync(process.execPath, [join(work, "bin", "dockyard")], { env, encoding: "utf8" }).stdout;
    utimesSync(modules, new Date(1_000_000), new Date(1_000_000));
    assert.equal(which(), "bundle\n");
    utimesSync(bundle, new Date(500_000), new Date(500_000));
    assert.equal(which(), "modules\n");
    rmSync(bundle);
    assert.equal(which(), "modules\n");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("a command that stops before it finishes (its promise never settles) exits 70, not 0", () => {
  const work = mkdtempSync(join(tmpdir(), "dockyard-launcher-"));
  try {
    mkdirSync(join(work, "bin"));
    mkdirSync(join(work, "dist"));
    copyFileSync(BIN, join(work, "bin", "dockyard"));
    copyFileSync(join(REPO_ROOT, "bin", "package.json"), join(work, "bin", "package.json"));
    writeFileSync(join(work, "dist", "dockyard.cjs"), "exports.main = () => new Promise(() => {});");
    const r = spawnSync(process.execPath, [join(work, "bin", "dockyard"), "build"], {
      env: { ...process.env, DOCKYARD_COMPILE_CACHE: "0" },
      encoding: "utf8",
    });
    assert.equal(r.status, 70);
    assert.match(r.stderr, /stopped before it finished/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
