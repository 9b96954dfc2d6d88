// Start-up cost is the floor of a small rebuild: `dockyard build` must load only what a build
// needs. This walks the static import graph of the compiled CLI entry + the build library (what
// loads before the first step runs) and fails when a heavy module creeps back in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Files reachable through static `import … from` / `export … from` (not `import()`), and packages. */
function staticGraph(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file) || !existsSync(file)) return;
    files.add(file);
    const src = readFileSync(file, "utf8");
    const re = /^\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?\s*["']([^"']+)["']/gm;
    for (const m of src.matchAll(re)) {
      const spec = m[1]!;
      if (/^\s*import\s+type\s/.test(m[0]) || /^\s*export\s+type\s/.test(m[0])) continue;
      if (spec.startsWith("node:")) continue;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      else {
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        packages.add(name);
        try {
          const r = createRequire(file).resolve(spec);
          if (r.includes("node_modules") && r.endsWith(".mjs")) visit(r);
        } catch {
          /* a package the walker cannot resolve is still listed */
        }
      }
    }
  };
  for (const e of entries) visit(e);
  return { files, packages };
}

test("start-up: a build loads no registry/archive transport, tar parser, lint, trust or dockerode before it runs", () => {
  const { files, packages } = staticGraph([
    join(DIST, "cli/main.js"),
    join(DIST, "cli/commands/build.js"),
    join(DIST, "build/index.js"),
  ]);
  const rel = [...files].map((f) => f.slice(DIST.length + 1));
  assert.ok(
    rel.includes("build/execute.js") && rel.includes("build/drivers/native.js"),
    "the walker follows imports",
  );
  const heavy = rel.filter((f) =>
    /^(image\/transports\/(registry|archive|index|auth)\.js|build\/(cache-remote|drivers\/docker)\.js|lint\/|trust\/|registry\/)/.test(
      f,
    ),
  );
  assert.deepEqual(heavy, [], "loaded at start-up although a plain build does not need them");
  for (const p of ["tar-stream", "dockerode", "openpgp", "@peculiar/x509", "tweetnacl", "yaml", "bcryptjs"])
    assert.ok(!packages.has(p), `${p} is imported at start-up`);
  // 60 since src/util/extra-ca.ts and src/util/limit.ts (both tiny); the heavy ones are asserted above
  assert.ok(rel.length <= 60, `${rel.length} modules load before the build starts`);
});
