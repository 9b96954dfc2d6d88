import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fixText, lintDockerfile } from "../../src/lint/index.js";

// Mutated corpus files: the linter never throws, and --fix never turns a parsing file into one that does not.
describe("lint robustness (deterministic fuzz)", () => {
  it("never throws; fixes keep files parseable", () => {
    const dir = "fixtures/lint/corpus/";
    const seeds = readdirSync(dir)
      .filter((f) => f.endsWith(".Dockerfile"))
      .map((f) => readFileSync(dir + f, "utf8"));
    const bits = [
      "\\",
      "\n",
      '"',
      "'",
      "$",
      "{",
      "}",
      "<<",
      "EOF",
      "`",
      "#",
      " ",
      "\t",
      "[",
      "]",
      "--",
      "=",
      "|",
      ";",
      "\r\n",
      "ONBUILD ",
      "AS ",
    ];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (const s of seeds) {
      for (let k = 0; k < 80; k++) {
        let t = s;
        for (let m = 0; m < 1 + Math.floor(rnd() * 4); m++) {
          const pos = Math.floor(rnd() * t.length);
          const op = rnd();
          if (op < 0.5) t = t.slice(0, pos) + bits[Math.floor(rnd() * bits.length)] + t.slice(pos);
          else t = t.slice(0, pos) + t.slice(pos + 1 + Math.floor(rnd() * 6));
        }
        const before = lintDockerfile(t);
        const fixed = fixText(t).text;
        if (fixed !== t && !before.some((f) => f.code === "DL1000")) {
          assert.ok(!lintDockerfile(fixed).some((f) => f.code === "DL1000"), JSON.stringify(t));
        }
      }
    }
  });
});
