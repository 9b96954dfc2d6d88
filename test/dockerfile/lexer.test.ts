import { test } from "node:test";
import assert from "node:assert/strict";
import { ShellLex, ShellLexError, envFrom } from "../../src/dockerfile/index.js";

const env = envFrom({ PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "", V: "aXbXc", SP: "a b" });
const lex = new ShellLex("\\");
const word = (w: string) => lex.processWord(w, env);

test("quotes and escapes", () => {
  const cases: [string, string][] = [
    ["hello", "hello"],
    ["he'll'o", "hello"],
    ['he"ll"o', "hello"],
    ['"hello"', "hello"],
    ["'hello'", "hello"],
    ["he\\'llo", "he'llo"],
    ['"he\\"llo"', 'he"llo'],
    ["'he\\'llo", "he\\llo"],
    ['"a\\b"', "a\\b"],
    ['"a\\\\b"', "a\\b"],
    ["a\\ b", "a b"],
    ["trailing\\", "trailing"],
    ["'$PWD'", "$PWD"],
    ['"$PWD"', "/home"],
    ["\\$PWD", "$PWD"],
    ['"\\$PWD"', "$PWD"],
  ];
  for (const [i, o] of cases) assert.equal(word(i), o, i);
});

test("variables and every ${} modifier", () => {
  const cases: [string, string][] = [
    ["$PWD", "/home"],
    ["${PWD}", "/home"],
    ["x${PWD}y", "x/homey"],
    ["$PWD/x", "/home/x"],
    ["$KOREAN", "한국어"],
    ["$UNSET", ""],
    ["$", "$"],
    ["a$", "a$"],
    ["$1", ""],
    ["${PWD:-x}", "/home"],
    ["${UNSET:-x}", "x"],
    ["${NULL:-x}", "x"],
    ["${NULL-x}", ""],
    ["${UNSET-x}", "x"],
    ["${UNSET:-$PWD/y}", "/home/y"],
    ["${UNSET:-'a b'}", "a b"],
    ["${PWD:+x}", "x"],
    ["${UNSET:+x}", ""],
    ["${NULL:+x}", ""],
    ["${NULL+x}", "x"],
    ["${NULL?}", ""],
    ["${PWD:?boom}", "/home"],
    ["${V#*X}", "bXc"],
    ["${V##*X}", "c"],
    ["${V%X*}", "aXb"],
    ["${V%%X*}", "a"],
    ["${V#nomatch}", "aXbXc"],
    ["${PWD#/}", "home"],
    ["${V#a?b}", "Xc"],
    ["${V/X/-}", "a-bXc"],
    ["${V//X/-}", "a-b-c"],
    ["${UNSET/X/-}", ""],
    ["${V/\\//x}", "aXbXc"],
  ];
  for (const [i, o] of cases) assert.equal(word(i), o, i);
});

test("expansion errors carry BuildKit's messages", () => {
  const cases: [string, string][] = [
    ["${UNSET:?need it}", 'failed to process "${UNSET:?need it}": UNSET: need it'],
    ["${UNSET?}", 'failed to process "${UNSET?}": UNSET: is not allowed to be unset'],
    ["${NULL:?}", 'failed to process "${NULL:?}": NULL: is not allowed to be empty'],
    ["${}", 'failed to process "${}": syntax error: bad substitution'],
    ["${:x}", 'failed to process "${:x}": syntax error: bad substitution'],
    ["${PWD", `failed to process "\${PWD": syntax error: missing '}'`],
    ["${PWD:-x", `failed to process "\${PWD:-x": syntax error: missing '}'`],
    ["${PWD:1}", 'failed to process "${PWD:1}": unsupported modifier (:1) in substitution'],
    ["${PWD:#x}", 'failed to process "${PWD:#x}": unsupported modifier (:#) in substitution'],
    ["${V/X}", `failed to process "\${V/X}": syntax error: missing '/' in \${}`],
    ["${PWD!}", 'failed to process "${PWD!}": unsupported modifier (!) in substitution'],
    [
      "'open",
      'failed to process "\'open": unexpected end of statement while looking for matching single-quote',
    ],
    [
      '"open',
      'failed to process "\\"open": unexpected end of statement while looking for matching double-quote',
    ],
  ];
  for (const [i, msg] of cases) {
    assert.throws(
      () => word(i),
      (e: unknown) => e instanceof ShellLexError && e.message === msg,
      i,
    );
  }
});

test("word splitting", () => {
  assert.deepEqual(lex.processWords('a "b c" d', env), ["a", "b c", "d"]);
  assert.deepEqual(lex.processWords("$SP", env), ["a", "b"]);
  assert.deepEqual(lex.processWords('"$SP"', env), ["a b"]);
  assert.deepEqual(lex.processWords("  x  y  ", env), ["x", "y"]);
  assert.deepEqual(lex.processWords("a\\ b c", env), ["a b", "c"]);
  assert.deepEqual(lex.processWords("", env), []);
});

test("backtick escape", () => {
  const bt = new ShellLex("`");
  assert.equal(bt.processWord("`$PWD", env), "$PWD");
  assert.equal(bt.processWord("c:\\dir", env), "c:\\dir");
  assert.equal(bt.processWord('"a`"b"', env), 'a"b');
});

test("options: raw quotes, raw escapes, skip unset, skip quotes; matched/unmatched", () => {
  const raw = new ShellLex("\\", { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  assert.deepEqual(raw.processWords(`cat <<'EOF' \\x $NOPE \${NOPE:-d}`, env), [
    "cat",
    "<<'EOF'",
    "\\x",
    "$NOPE",
    "${NOPE:-d}",
  ]);
  assert.deepEqual(raw.processWords("cat << EOF", env), ["cat", "<< EOF"]);
  const sq = new ShellLex("\\", { skipProcessQuotes: true });
  assert.equal(sq.processWord(`echo '$PWD' "$SHELL"`, env), `echo '/home' "bash"`);
  const r = lex.process("$PWD $NOPE ${NULL}", env);
  assert.deepEqual([...r.matched].sort(), ["NULL", "PWD"]);
  assert.deepEqual([...r.unmatched], ["NOPE"]);
});
