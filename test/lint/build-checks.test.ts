// BuildKit's build checks before every build: cheap to load (only BuildKit rules), printed as
// warnings in the build output, `# check=skip=` respected, `# check=error=true` fails the build,
// `--check` only checks.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runBuildChecks } from "../../src/lint/build-checks.js";
import { runCli } from "../helpers/cli.js";

const cli = (argv: string[]) => runCli(argv);

/** Every module a compiled module loads, transitively (relative imports, static and dynamic). */
function moduleGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = readFileSync(f, "utf8");
    for (const m of src.matchAll(
      /(?:^|\n)(?:import|export)[^;'"]*?from\s*"([^"]+)"|(?:^|\n)import\s*"([^"]+)"/g,
    )) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith(".")) walk(resolve(dirname(f), spec));
      else seen.add(spec);
    }
  };
  walk(entry);
  return seen;
}

describe("build checks", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "dy-bchecks-"));
    process.env.HOME = dir;
    process.env.XDG_CONFIG_HOME = join(dir, "xdg");
    process.env.DOCKYARD_HOME = join(dir, "home");
  });

  it("loads only BuildKit's rules: no hadolint rules, shellcheck's findings, YAML or formatters", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const entry = resolve(here, "../../src/lint/build-checks.js");
    const g = [...moduleGraph(entry)];
    const rel = g.map((f) => f.replace(/.*\/dist\/src\//, ""));
    assert.ok(!rel.includes("yaml"), "yaml is loaded statically");
    assert.ok(!rel.some((f) => f === "lint/rules/index.js"), "every rule is loaded");
    assert.ok(!rel.some((f) => f.startsWith("lint/formatters/")), "formatters are loaded");
    const rules = rel.filter((f) => f.startsWith("lint/rules/"));
    // the 22 BuildKit checks, the index, and the few hadolint helpers they share
    assert.ok(rules.length <= 30, `${rules.length} rule modules: ${rules.join(" ")}`);
  });

  it("reports BuildKit names (never the hadolint twins), honours skip and error", () => {
    const df = "FROM debian:12 as base\nMAINTAINER me\nENV A b\n";
    const r = runBuildChecks(df);
    assert.deepEqual(
      r.findings.map((f) => f.code),
      ["FromAsCasing", "MaintainerDeprecated", "LegacyKeyValueFormat"],
    );
    assert.equal(r.fail, false);
    const skip = runBuildChecks("# check=skip=MaintainerDeprecated,FromAsCasing\n" + df);
    assert.deepEqual(
      skip.findings.map((f) => f.code),
      ["LegacyKeyValueFormat"],
    );
    assert.equal(runBuildChecks("# check=error=true\n" + df).fail, true);
    assert.equal(runBuildChecks("# check=error=true\nFROM debian:12\n").fail, false);
    assert.deepEqual(runBuildChecks("# check=skip=all\n" + df).findings, []);
  });

  it("`dockyard build` prints the warnings and builds; error=true fails; --check only checks", async () => {
    const ctx = (name: string, text: string) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "Dockerfile"), text);
      return d;
    };
    const df = "FROM scratch\nMAINTAINER me\nLABEL a=b\n";
    const warn = await cli(["build", "--progress", "plain", "-t", "bchecks:1", ctx("warn", df)]);
    assert.equal(warn.code, 0, warn.err);
    assert.match(warn.err, /WARNING: MaintainerDeprecated: .*\(Dockerfile:2\)/);
    const skipped = await cli([
      "build",
      "--progress",
      "plain",
      ctx("skip", "# check=skip=MaintainerDeprecated\n" + df),
    ]);
    assert.equal(skipped.code, 0, skipped.err);
    assert.doesNotMatch(skipped.err, /WARNING/);
    const fatal = await cli(["build", "--progress", "plain", ctx("fatal", "# check=error=true\n" + df)]);
    assert.notEqual(fatal.code, 0);
    assert.match(fatal.err, /MaintainerDeprecated/);
    assert.match(fatal.err, /build checks failed \(# check=error=true\): 1 warning/);
    const only = await cli(["build", "--check", ctx("check", df)]);
    assert.equal(only.code, 1, only.err);
    assert.match(only.err, /WARNING: MaintainerDeprecated/);
    const clean = await cli(["build", "--check", ctx("clean", "FROM scratch\nLABEL a=b\n")]);
    assert.equal(clean.code, 0, clean.err);
    assert.match(clean.err, /Check complete, no warnings found/);
  });
});
