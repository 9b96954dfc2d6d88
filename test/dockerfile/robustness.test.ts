// Hostile input never throws: mutated fixtures, binary junk, huge inputs, through every layer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dumpDockerfile, loadDockerfile } from "../../src/dockerfile/index.js";

const SEEDS = [
  "# escape=`\nFROM a `\n  AS b\nRUN x `\n\n  y\n",
  "FROM a\nRUN <<EOF <<-'X' cat\nbody $V\nEOF\n\tX\nCOPY <<F /f\nF\n",
  'ARG B=x\nFROM ${B:-y}:${T:+z} AS s\nENV A="q r" B=c\\ d\nLABEL "k"="v"\nONBUILD RUN --mount=type=cache,target=/c x\n',
  'FROM a\nCMD ["a", "b"]\nHEALTHCHECK --interval=5s CMD ["x"]\nSHELL ["sh", "-c"]\nEXPOSE 80/tcp\nUSER 1:1\n',
  "\ufeff# syntax=x\nFROM a\r\nRUN a \\\r\n  # c\r\n  b\r\n",
];
const ALPHABET = [
  "\\",
  "`",
  "\n",
  "\r\n",
  " ",
  "\t",
  "#",
  "$",
  "{",
  "}",
  ":",
  "-",
  "+",
  "?",
  "%",
  "/",
  "'",
  '"',
  "<<",
  "<<-",
  "EOF",
  "[",
  "]",
  ",",
  "=",
  "--",
  "RUN ",
  "COPY ",
  "FROM ",
  "ONBUILD ",
  "ENV ",
  "ARG ",
  "\u00a0",
  "\ufeff",
  "\0",
  "é",
  "😀",
  "\ud800",
];

test("3,000 mutated Dockerfiles: no exception, raw slices match ranges", () => {
  let x = 4242;
  const rnd = (n: number) => (x = (x * 1103515245 + 12345) >>> 0) % n;
  for (let it = 0; it < 3000; it++) {
    let s = SEEDS[rnd(SEEDS.length)];
    for (let j = 0, k = 1 + rnd(6); j < k; j++) {
      const p = rnd(s.length + 1);
      const op = rnd(3);
      if (op === 0) s = s.slice(0, p) + ALPHABET[rnd(ALPHABET.length)] + s.slice(p);
      else if (op === 1) s = s.slice(0, p) + s.slice(p + 1 + rnd(5));
      else s = s.slice(0, p) + s.slice(rnd(s.length));
    }
    const l = loadDockerfile(s, { buildArgs: { T: "1" }, target: it % 7 === 0 ? "s" : undefined });
    assert.equal(typeof dumpDockerfile(l.parse), "string");
    for (const n of l.parse.nodes) {
      assert.equal(l.parse.source.slice(n.range.start.offset, n.range.end.offset), n.raw, JSON.stringify(s));
      assert.ok(n.range.start.line >= 1 && n.range.end.line >= n.range.start.line);
    }
    for (const e of l.errors) assert.ok(e.range.start.line >= 1 && e.message.length > 0);
  }
});

test("random bytes of every length up to 2 KiB", () => {
  let x = 99;
  for (let len = 0; len < 2048; len += 7) {
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const l = loadDockerfile(b);
    assert.ok(l.parse.nodes.length > 0 || l.errors.length > 0);
  }
});

test("a 4 MB Dockerfile parses and resolves in linear time", () => {
  const line = "RUN echo " + "x".repeat(80) + " && true\n";
  const src = "FROM a\n" + line.repeat(4e6 / line.length);
  const t0 = performance.now();
  const l = loadDockerfile(src);
  const ms = performance.now() - t0;
  assert.deepEqual(l.errors, []);
  assert.ok(l.parse.nodes.length > 40000);
  assert.ok(ms < 5000, `${ms} ms`);
});
