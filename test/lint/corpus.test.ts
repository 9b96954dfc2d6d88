import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// Real-world-style Dockerfiles; each *.expected.json was reviewed finding by finding.
const dir = "fixtures/lint/corpus";
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".Dockerfile"))
  .sort();

describe("lint corpus: exact `dockyard lint --format json` output", () => {
  it("has the corpus", () => assert.ok(files.length >= 15));
  for (const f of files) {
    it(f, () => {
      const path = join(dir, f);
      let out: string;
      try {
        out = execFileSync(
          process.execPath,
          ["bin/dockyard", "lint", "--no-shellcheck", "--format", "json", path],
          {
            encoding: "utf8",
            env: { ...process.env, HOME: "/nonexistent", XDG_CONFIG_HOME: "/nonexistent" },
          },
        );
      } catch (err) {
        out = (err as { stdout: string }).stdout; // exit 1 = findings
      }
      const expected: unknown = JSON.parse(
        readFileSync(path.replace(/\.Dockerfile$/, ".expected.json"), "utf8"),
      );
      assert.deepEqual(JSON.parse(out), expected);
    });
  }
});
