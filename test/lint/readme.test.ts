import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { RULES } from "../../src/lint/index.js";
import { rulesMarkdown, updateReadme } from "../../src/lint/docs.js";

describe("README rule table", () => {
  it("equals the table generated from the rules (run scripts/gen-rule-docs.mjs after changing a rule)", () => {
    const readme = readFileSync("README.md", "utf8");
    assert.equal(updateReadme(readme), readme);
  });

  it("lists every rule with its id, level and an example", () => {
    const table = rulesMarkdown();
    for (const r of RULES) {
      assert.match(table, new RegExp(`^\\| \\[${r.id}\\]\\(`, "m"), r.id);
      assert.ok(r.example.length > 0 && r.description.length > 0, r.id);
    }
    assert.match(table, /^\| DL1000 \| error/m);
  });

  it("every rule has its own test file", () => {
    for (const r of RULES)
      assert.ok(existsSync(`test/lint/rules/${r.id}.test.ts`), `test/lint/rules/${r.id}.test.ts`);
  });
});
