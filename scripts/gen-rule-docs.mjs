#!/usr/bin/env node
// Regenerates the rule table in README.md ("### Lint") from the rules themselves.
// Run after `npm run build`: node scripts/gen-rule-docs.mjs   (--check: exit 1 if it is stale)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { updateReadme } from "../dist/src/lint/docs.js";

const path = fileURLToPath(import.meta.resolve("../README.md"));
const readme = readFileSync(path, "utf8");
const next = updateReadme(readme);
if (process.argv.includes("--check")) {
  if (next !== readme) {
    console.error("README.md rule table is stale: run `npm run build && node scripts/gen-rule-docs.mjs`");
    process.exit(1);
  }
} else if (next !== readme) {
  writeFileSync(path, next);
  console.log("README.md: rule table updated");
}
