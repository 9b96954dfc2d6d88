// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports from src/) into one
// CommonJS script, dist/dockyard.cjs, which bin/dockyard loads with a V8 code cache.
// Why: a CLI run pays Node's ESM loader for ~100 modules (resolve, read, compile, link) before
// any work; one script compiled from a code cache starts ~50 ms sooner (README, design notes).
// The small pure-JS packages on hot paths (tar-stream and its helpers, fzstd) go in too; the big
// or native ones that only some commands load stay outside, require()d from node_modules lazily.
const external = [
  "dockerode",
  "openpgp",
  "@peculiar/x509",
  "reflect-metadata",
  "yaml",
  "bcryptjs",
  "tweetnacl",
];
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist/dockyard.cjs");
await build({
  entryPoints: [join(root, "dist/src/cli/main.js")],
  outfile,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external,
  // import() becomes require(): a vm.Script compiled from cached data has no dynamic-import hook
  supported: { "dynamic-import": false },
  // createRequire(import.meta.url) finds node_modules from the bundle's own place
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  legalComments: "none",
  // the bundle is read as latin1, ~3 ms quicker than decoding UTF-8: it must be pure ASCII. esbuild
  // escapes strings and names, not comments (replaced below) nor regexp literals (write \u escapes)
  charset: "ascii",
  logLevel: "warning",
});
// eslint-disable-next-line no-control-regex
const nonAscii = /[^\x00-\x7f]/;
const lines = readFileSync(outfile, "utf8").split("\n");
let changed = false;
lines.forEach((line, i) => {
  if (!nonAscii.test(line)) return;
  if (!/^\s*(\/\/|\/\*|\*)/.test(line))
    throw new Error(`dist/dockyard.cjs:${i + 1}: a character beyond ASCII outside a comment: ${line.trim()}`);
  lines[i] = line.replace(new RegExp(nonAscii, "g"), "?");
  changed = true;
});
if (changed) writeFileSync(outfile, lines.join("\n"));
