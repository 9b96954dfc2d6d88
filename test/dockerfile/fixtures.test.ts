// Every case in ../shared/fixtures/dockerfile-parser/ (BuildKit's own output) must agree with our
// parser: the S-expression dump and the richer JSON view.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dumpDockerfile, parseDockerfile } from "../../src/dockerfile/index.js";
import type { Node, ParseResult } from "../../src/dockerfile/index.js";
import { SHARED } from "../helpers/shared.js";

const fixturesDir = (): string => join(SHARED, "fixtures", "dockerfile-parser");

interface FixtureNode {
  cmd: string;
  flags?: string[];
  args: string[];
  attrs?: { json: boolean };
  sub?: FixtureNode;
  start: number;
  end: number;
  heredocs?: { name: string; expand: boolean; chomp: boolean; content: string }[];
  prevComment?: string[];
}

function toFixtureNode(n: Node, isSub = false): FixtureNode {
  const o: FixtureNode = { cmd: n.cmd, args: n.args, start: 0, end: 0 };
  if (n.flags.length > 0) o.flags = n.flags;
  if (n.json) o.attrs = { json: true };
  if (n.sub) o.sub = toFixtureNode(n.sub, true);
  if (!isSub) {
    o.start = n.range.start.line;
    o.end = n.range.end.line;
  }
  if (n.heredocs.length > 0 && !isSub) {
    o.heredocs = n.heredocs.map((h) => ({
      name: h.name,
      expand: h.expand,
      chomp: h.chomp,
      content: h.content,
    }));
  }
  if (n.prevComment.length > 0) o.prevComment = n.prevComment;
  return o;
}

function toFixtureJSON(r: ParseResult): unknown {
  if (r.errors.length > 0) {
    const e = r.errors[0];
    const loc = [];
    for (let l = e.range.start.line; l <= e.range.end.line; l++) {
      loc.push({ Start: { Line: l, Character: 0 }, End: { Line: l, Character: 0 } });
    }
    return { error: e.message, errorLoc: [loc] };
  }
  return {
    escape: r.escape,
    nodes: r.nodes.map((n) => toFixtureNode(n)),
    warnings: r.warnings.length === 0 ? null : r.warnings.map((w) => `${w.message} @${w.range.start.line}`),
  };
}

const dir = fixturesDir();
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".Dockerfile"))
  .map((f) => f.slice(0, -".Dockerfile".length))
  .sort();

test("the fixture set is there", () => {
  assert.ok(cases.length >= 33, `only ${cases.length} cases in ${dir}`);
});

for (const name of cases) {
  test(`fixture ${name}`, () => {
    const input = readFileSync(join(dir, `${name}.Dockerfile`));
    const r = parseDockerfile(input, { file: `${name}.Dockerfile` });
    const dump = readFileSync(join(dir, `${name}.buildkit.dump`), "utf8").trim();
    assert.equal(dumpDockerfile(r), dump, "dump differs");
    const json = JSON.parse(readFileSync(join(dir, `${name}.buildkit.json`), "utf8"));
    assert.deepEqual(toFixtureJSON(r), json, "JSON view differs");
    // the raw text of every node is the exact source slice at its range
    for (const n of r.nodes) {
      assert.equal(r.source.slice(n.range.start.offset, n.range.end.offset), n.raw);
      assert.ok(n.raw.length > 0);
    }
  });
}
