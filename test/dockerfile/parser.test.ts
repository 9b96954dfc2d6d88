import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chompHeredoc,
  dumpDockerfile,
  heredocsFromLine,
  parseCheckDirective,
  parseDockerfile,
  parseHeredocWord,
} from "../../src/dockerfile/index.js";

test("positions: lines, columns, offsets and raw slices", () => {
  const src = "FROM alpine\n  RUN echo a \\\n    b\n# c\nCOPY <<EOF /x\nhello\nEOF\n";
  const r = parseDockerfile(src);
  assert.deepEqual(r.errors, []);
  const [from, run, copy] = r.nodes;
  assert.deepEqual(from.range.start, { line: 1, column: 1, offset: 0 });
  assert.deepEqual(from.range.end, { line: 1, column: 12, offset: 11 });
  assert.equal(from.raw, "FROM alpine");
  assert.deepEqual(run.range.start, { line: 2, column: 3, offset: 14 });
  assert.equal(run.range.end.line, 3);
  assert.equal(run.range.end.column, 6);
  assert.equal(run.raw, "RUN echo a \\\n    b");
  assert.equal(run.original, "RUN echo a     b");
  assert.deepEqual(copy.prevComment, ["c"]);
  assert.equal(copy.raw, "COPY <<EOF /x\nhello\nEOF");
  assert.equal(copy.heredocs[0].content, "hello\n");
  assert.equal(copy.heredocs[0].range.start.line, 6);
  assert.equal(copy.heredocs[0].range.end.line, 7);
});

test("CRLF: content excludes \\r, columns count from the line start", () => {
  const r = parseDockerfile("FROM a\r\nRUN x \\\r\n  y\r\n");
  assert.equal(r.nodes[1].args[0], "x   y");
  assert.equal(r.nodes[1].raw, "RUN x \\\r\n  y");
  assert.equal(r.nodes[1].range.end.column, 4);
});

test("BOM: stripped, not counted as a column", () => {
  const r = parseDockerfile("\ufeffFROM a\n");
  assert.equal(r.nodes[0].keyword, "FROM");
  assert.deepEqual(r.nodes[0].range.start, { line: 1, column: 1, offset: 1 });
  assert.equal(r.nodes[0].raw, "FROM a");
});

test("directives: only at the top, case-insensitive, recorded with their lines", () => {
  const r = parseDockerfile("# Syntax = docker/dockerfile:1\n#check=skip=all\n# escape=`\nFROM a\n");
  assert.deepEqual(
    r.directives.map((d) => [d.name, d.value, d.range.start.line]),
    [
      ["syntax", "docker/dockerfile:1", 1],
      ["check", "skip=all", 2],
      ["escape", "`", 3],
    ],
  );
  assert.equal(r.escape, "`");
  assert.deepEqual(r.nodes[0].prevComment, []);
  const late = parseDockerfile("FROM a\n# escape=`\nRUN a `\nb\n");
  assert.equal(late.escape, "\\");
  assert.deepEqual(late.directives, []);
});

test("directive errors: duplicate, invalid escape token", () => {
  const dup = parseDockerfile("# escape=`\n# escape=\\\nFROM a\n");
  assert.equal(dup.errors[0].message, "only one escape parser directive can be used");
  assert.equal(dup.errors[0].range.start.line, 2);
  const bad = parseDockerfile("# escape=x\nFROM a\n");
  assert.equal(bad.errors[0].message, "invalid escape token 'x' does not match ` or \\");
  assert.equal(bad.nodes.length, 1);
});

test("check directive", () => {
  const c = parseCheckDirective(
    parseDockerfile("# check=skip=JSONArgsRecommended,StageNameCasing;error=true\nFROM a\n"),
  );
  assert.deepEqual(c.skip, ["JSONArgsRecommended", "StageNameCasing"]);
  assert.equal(c.error, true);
  assert.equal(c.skipAll, false);
  assert.equal(parseCheckDirective("skip=all").skipAll, true);
});

test("heredocs: several per instruction, quoted, chomp, fd, not in JSON form, not for CMD", () => {
  const r = parseDockerfile(
    'FROM a\nRUN 3<<A cat <<"B"\na $x\nA\nb $y\nB\nRUN ["<<C"]\nCMD <<D\nRUN <<-E\n\t\tz\n\tE\n',
  );
  assert.deepEqual(r.errors, []);
  const h = r.nodes[1].heredocs;
  assert.deepEqual(
    h.map((d) => [d.name, d.expand, d.fileDescriptor, d.content]),
    [
      ["A", true, 3, "a $x\n"],
      ["B", false, 0, "b $y\n"],
    ],
  );
  assert.deepEqual(r.nodes[2].heredocs, []);
  assert.equal(r.nodes[3].keyword, "CMD");
  assert.deepEqual(r.nodes[3].heredocs, []);
  assert.equal(r.nodes[4].keyword, "RUN");
  assert.equal(r.nodes[4].heredocs[0].chomp, true);
  assert.equal(chompHeredoc(r.nodes[4].heredocs[0].content), "z\n");
});

test("flags: quotes removed, stop at the first non-flag word and at --", () => {
  const r = parseDockerfile(
    'FROM a\nRUN --mount="type=bind,source=a b" -- --not-a-flag x\nCOPY --from=x --link a b\n',
  );
  assert.deepEqual(r.nodes[1].flags, ["--mount=type=bind,source=a b"]);
  assert.equal(r.nodes[1].args[0], "--not-a-flag x");
  assert.deepEqual(r.nodes[2].flags, ["--from=x", "--link"]);
  assert.deepEqual(r.nodes[2].args, ["a", "b"]);
});

test("JSON: non-string arrays are errors, invalid JSON falls back to shell form", () => {
  const r = parseDockerfile("FROM a\nCMD [1, 2]\n");
  assert.equal(r.errors[0].message, "when using JSON array syntax, arrays must be comprised of strings only");
  assert.equal(r.errors[0].range.start.line, 2);
  const s = parseDockerfile('FROM a\nCMD ["a",]\n');
  assert.deepEqual(s.errors, []);
  assert.equal(s.nodes[1].json, false);
  assert.deepEqual(s.nodes[1].args, ['["a",]']);
});

test("ENV/LABEL errors name the line", () => {
  const r = parseDockerfile("FROM a\nLABEL a=b c\n");
  assert.equal(r.errors[0].message, `Syntax error - can't find = in "c". Must be of the form: name=value`);
  assert.equal(r.errors[0].range.start.line, 2);
});

test("empty, whitespace-only, comment-only and binary input never throw", () => {
  for (const input of ["", "   \n\n", "# x\n", "\u0000"]) {
    const r = parseDockerfile(input);
    if (input === "\u0000") assert.equal(r.nodes.length, 1);
    else assert.equal(r.errors[0].message, "file with no instructions");
  }
  // a lone continuation makes an instruction with an empty keyword, as in BuildKit
  for (const input of ["\\", "\\\n\\\n"]) {
    const r = parseDockerfile(input);
    assert.deepEqual(r.errors, []);
    assert.equal(r.nodes[0].cmd, "");
    assert.equal(dumpDockerfile(r), '("")');
  }
  const junk = new Uint8Array(4096);
  let x = 7;
  for (let i = 0; i < junk.length; i++) junk[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const r = parseDockerfile(junk);
  assert.ok(Array.isArray(r.nodes));
  assert.equal(typeof dumpDockerfile(r), "string");
});

test("a 64 KiB physical line is BuildKit's 'line greater than max allowed size' error", () => {
  const r = parseDockerfile("FROM a\nRUN echo " + "x".repeat(70000) + "\nRUN b\n");
  assert.equal(r.errors.at(-1)!.message, "dockerfile line greater than max allowed size of 65535");
  assert.equal(r.errors.at(-1)!.range.start.line, 2);
  const ok = parseDockerfile("FROM a\nRUN " + "y".repeat(65531) + "\n");
  assert.deepEqual(ok.errors, []);
});

test("huge file: 20,000 instructions parse quickly", () => {
  const lines = ["FROM alpine:3.20"];
  for (let i = 0; i < 20000; i++) lines.push(i % 2 ? `RUN echo ${i} \\\n  && true` : `ENV K${i}=v${i}`);
  const t0 = performance.now();
  const r = parseDockerfile(lines.join("\n"));
  const ms = performance.now() - t0;
  assert.equal(r.nodes.length, 20001);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test("a long line with many quotes and escapes stays linear", () => {
  const t0 = performance.now();
  const r = parseDockerfile(
    'FROM a\nENV A="' + '\\" '.repeat(20000) + '"\nRUN x <<' + "'".repeat(1000) + "\n",
  );
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(r.nodes[1].keyword, "ENV");
});

test("heredoc extraction across instruction kinds", () => {
  const src = [
    "FROM alpine",
    "USER <<NOT",
    "NOT",
    "RUN 3<<EMPTY",
    "EMPTY",
    'RUN "<<QUOTED"',
    "RUN <<-'NOEXPAND'",
    "\tdon't expand $NAME",
    "NOEXPAND",
    "RUN <<C",
    "# a comment inside the body",
    "echo foo # trailing",
    "C",
    "RUN --mount=type=cache,target=/foo <<MOUNT",
    "echo hello",
    "MOUNT",
    "COPY <<X <<Y /dest",
    "Y",
    "X",
    "X",
    "Y",
    "",
  ].join("\n");
  const r = parseDockerfile(src);
  assert.deepEqual(r.errors, []);
  const docs = r.nodes.map((n) =>
    n.heredocs.map((h) => [h.name, h.content, h.expand, h.chomp, h.fileDescriptor]),
  );
  assert.deepEqual(docs, [
    [],
    [],
    [],
    [["EMPTY", "", true, false, 3]],
    [],
    [["NOEXPAND", "\tdon't expand $NAME\n", false, true, 0]],
    [["C", "# a comment inside the body\necho foo # trailing\n", true, false, 0]],
    [["MOUNT", "echo hello\n", true, false, 0]],
    [
      ["X", "Y\n", true, false, 0],
      ["Y", "X\n", true, false, 0],
    ],
  ]);
  assert.equal(r.nodes[2].keyword, "NOT");
});

test("heredoc words: valid, invalid (errors), not heredocs", () => {
  for (const w of ["<<EOF", "<<'EOF'", '<<"EOF"', "<<-EOF", "<<-'EOF'", '<<-"EOF"', "<< EOF"]) {
    assert.equal(parseHeredocWord(w)?.name, "EOF", w);
  }
  for (const w of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredocWord(w), w);
  for (const w of ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "a<<EOF"])
    assert.equal(parseHeredocWord(w), null, w);
  assert.deepEqual(
    heredocsFromLine("RUN <<EOF <<-EOF2 '<<NO' \"<<NO\" cat<<NO").map((h) => h.name),
    ["EOF", "EOF2"],
  );
  assert.equal(parseHeredocWord("<<eo'f'")?.expand, false);
  assert.equal(parseHeredocWord("<<eo\\'f")?.expand, true);
  assert.equal(parseHeredocWord("<<eo\\'f")?.name, "eo'f");
});

test("recovery: after a bad instruction the rest of the file is still parsed", () => {
  const r = parseDockerfile("FROM a\nCMD [1]\nRUN <<EOF\nFROM not-an-instruction\nEOF\nENV K\nLABEL x=1\n");
  assert.deepEqual(
    r.errors.map((e) => [e.message, e.range.start.line]),
    [
      ["when using JSON array syntax, arrays must be comprised of strings only", 2],
      ["ENV must have two arguments", 6],
    ],
  );
  assert.deepEqual(
    r.nodes.map((n) => n.keyword),
    ["FROM", "CMD", "RUN", "ENV", "LABEL"],
  );
  assert.equal(r.nodes[2].heredocs[0].content, "FROM not-an-instruction\n");
  assert.equal(
    dumpDockerfile(r),
    "ERROR: when using JSON array syntax, arrays must be comprised of strings only",
  );
});

test("backtick escape in ENV/LABEL words and continuations", () => {
  const r = parseDockerfile('# escape=`\nFROM a\nENV A="x`"y" B=c` d `\n  E=f\n');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.nodes[1].args, ["A", '"x`"y"', "=", "B", "c` d", "=", "E", "f", "="]);
});
