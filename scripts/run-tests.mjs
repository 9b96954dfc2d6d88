// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Arguments filter by path substring: `node scripts/run-tests.mjs registry lint`.
// The tests (and the programs they run) get a TMPDIR of their own, removed at the end: what a
// test leaves behind does not pile up in /tmp run after run.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("dist/test")
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
const concurrency = process.env.DOCKYARD_TEST_CONCURRENCY ?? "2";
const tmp = mkdtempSync(join(tmpdir(), "dockyard-tests-"));
const r = spawnSync(process.execPath, ["--test", `--test-concurrency=${concurrency}`, ...files], {
  stdio: "inherit",
  env: { ...process.env, TMPDIR: tmp },
});
removeTmp();
process.exit(r.status ?? 1);

/** Removes the run's TMPDIR, unmounting what a test left mounted there first (never rm through a mount). */
function removeTmp() {
  const mountsUnder = () =>
    readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => (l.split(" ")[1] ?? "").replace(/\\040/g, " "))
      .filter((m) => m === tmp || m.startsWith(tmp + "/"));
  for (const m of mountsUnder().reverse()) spawnSync("umount", ["-l", m]);
  const left = readdirSync(tmp).length;
  if (mountsUnder().length) {
    console.error(`run-tests: ${tmp} still has mounts; left in place`);
    return;
  }
  rmSync(tmp, { recursive: true, force: true });
  if (left) console.error(`run-tests: removed ${left} temp entries the tests left in ${tmp}`);
}
