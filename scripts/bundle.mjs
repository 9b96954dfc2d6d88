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
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "dist/src/cli/main.js")],
  outfile: join(root, "dist/dockyard.cjs"),
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
  logLevel: "warning",
});
