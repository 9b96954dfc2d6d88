import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseShell } from "../../src/lint/shell.js";

const names = (s: string) => parseShell(s).commands.map((c) => c.name);

describe("shell parser", () => {
  it("flattens lists, pipelines, subshells, groups and control flow", () => {
    assert.deepEqual(names("a && b || c; d | e & f"), ["a", "b", "c", "d", "e", "f"]);
    assert.deepEqual(names("(cd /x && make) && { echo; true; }"), ["cd", "make", "echo", "true"]);
    assert.deepEqual(names("if test -f x; then rm x; elif y; then z; else w; fi"), [
      "test",
      "rm",
      "y",
      "z",
      "w",
    ]);
    assert.deepEqual(names("for i in a b c; do echo $i; done"), ["echo"]);
    assert.deepEqual(names('while read l; do echo "$l"; done < f'), ["read", "echo"]);
    assert.deepEqual(names('case "$x" in a|b) one ;; *) two ;; esac; three'), ["one", "two", "three"]);
    assert.deepEqual(names("f() { inner; }; f"), ["inner", "f"]);
  });

  it("keeps quoting, assignments, redirects and substitutions straight", () => {
    const s = parseShell(`DEBIAN_FRONTEND=noninteractive apt-get install -y "a b" 'c;d' e\\ f > /log 2>&1`);
    const c = s.commands[0]!;
    assert.equal(c.name, "apt-get");
    assert.deepEqual(
      c.assignments.map((a) => a.value),
      ["DEBIAN_FRONTEND=noninteractive"],
    );
    assert.deepEqual(
      c.args.map((a) => a.value),
      ["install", "-y", "a b", "c;d", "e f"],
    );
    assert.deepEqual(
      c.redirects.map((r) => r.op + r.target),
      [">/log", ">&1"],
    );
    assert.deepEqual(names("echo $(ls | wc -l) `date`"), ["echo", "ls", "wc", "date"]);
    const nested = parseShell("x=$(cd /a && pwd)").commands;
    assert.deepEqual(
      nested.map((c) => [c.name, c.nested]),
      [
        ["", false],
        ["cd", true],
        ["pwd", true],
      ].filter((x) => x[0] !== ""),
    );
    assert.equal(parseShell("echo 'a | b'").hasPipe, false);
    assert.equal(parseShell("a || b").hasPipe, false);
    assert.equal(parseShell("a | b").hasPipe, true);
  });

  it("gives word offsets into the script", () => {
    const text = "apt-get update && apt-get install -y curl";
    const c = parseShell(text).commands[1]!;
    assert.equal(text.slice(c.start, c.start + 7), "apt-get");
    const w = c.args[2]!;
    assert.equal(text.slice(w.start, w.end), "curl");
    const sub = parseShell("echo $(apt-get install x)").commands[1]!;
    assert.equal("echo $(apt-get install x)".slice(sub.start, sub.start + 7), "apt-get");
  });

  it("skips here-document bodies and comments, reports unbalanced quotes", () => {
    assert.deepEqual(names("cat <<EOF > /f\nrm -rf /\nEOF\necho done # rm x\n"), ["cat", "echo"]);
    assert.deepEqual(names("cat <<-'X'\n\tsudo x\n\tX\nok"), ["cat", "ok"]);
    assert.ok(parseShell("echo 'unterminated").error);
    assert.equal(parseShell("echo ok").error, undefined);
  });

  it("is fast and cached", () => {
    const t = performance.now();
    for (let i = 0; i < 2000; i++)
      parseShell(
        `apt-get update && apt-get install -y --no-install-recommends pkg${i}=1 && rm -rf /var/lib/apt/lists/*`,
      );
    assert.ok(performance.now() - t < 2000);
    assert.equal(parseShell("a b c"), parseShell("a b c"));
  });
});
