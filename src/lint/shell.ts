/**
 * Shell analysis for RUN: a POSIX/bash tokenizer and command-level parser that turns a script into
 * the list of simple commands it runs (name, arguments, flags, assignments, redirects) with
 * pipelines, `&&`/`||`/`;`, subshells, brace groups, if/while/until/for/case bodies, functions and
 * command substitutions flattened, each with source offsets.
 *
 * It handles quoting ('…', "…", $'…'), escapes, line continuations, comments, `$(…)`, `$((…))`,
 * backticks, `${…}`, here-documents (bodies are skipped) and process substitution.
 *
 * Why not sh-syntax (mvdan/sh in WebAssembly): measured 13 ms per call (it instantiates the Go
 * WASM module on every call, ~31 ms the first time), it is async only, and its JSON AST drops the
 * content of every command node (a `Stmt.Cmd` is serialised with only `Pos`/`End`), so it cannot
 * tell the command name or arguments. This parser takes microseconds and results are cached.
 */

export interface ShWord {
  /** Value after quote removal; expansions are kept as written (`$VERSION`). */
  value: string;
  raw: string;
  start: number;
  end: number;
  /** Contains an unquoted or quoted expansion ($x, ${x}, $(…), `…`). */
  dynamic: boolean;
}

export interface SimpleCommand {
  /** The command name (value of the first word after assignments), "" if none. */
  name: string;
  /** Words after the name. */
  args: ShWord[];
  /** All words including the name. */
  words: ShWord[];
  assignments: ShWord[];
  redirects: Array<{ op: string; target: string }>;
  start: number;
  end: number;
  /** Part of a pipeline `a | b` (either side). */
  inPipeline: boolean;
  /** Inside `$(…)` or backticks. */
  nested: boolean;
}

export interface ShellScript {
  commands: SimpleCommand[];
  /** A `|` (or `|&`) pipeline appears (not `||`). */
  hasPipe: boolean;
  /** Unbalanced quotes or parentheses, if any. */
  error?: { message: string; offset: number };
}

type Tok =
  { t: "word"; w: ShWord } | { t: "op"; op: string; start: number; end: number } | { t: "nl"; start: number };

const OPS = [
  "&&",
  "||",
  ";;&",
  ";;",
  ";&",
  "|&",
  "<<<",
  "<<-",
  "<<",
  ">>",
  "<&",
  ">&",
  "<>",
  ">|",
  "&>>",
  "&>",
  "|",
  "&",
  ";",
  "(",
  ")",
  "<",
  ">",
];
const RESERVED_START = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "!",
  "{",
  "}",
  "time",
]);

class Lexer {
  pos = 0;
  toks: Tok[] = [];
  heredocs: Array<{ delim: string; chomp: boolean }> = [];
  nestedScripts: Array<{ text: string; offset: number }> = [];
  error?: { message: string; offset: number };
  constructor(readonly s: string) {}

  run(): Tok[] {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === " " || c === "\t" || c === "\r") {
        this.pos++;
        continue;
      }
      if (c === "\\" && s[this.pos + 1] === "\n") {
        this.pos += 2;
        continue;
      }
      if (c === "\n") {
        this.toks.push({ t: "nl", start: this.pos });
        this.pos++;
        if (this.heredocs.length) this.skipHeredocBodies();
        continue;
      }
      if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
        continue;
      }
      const op = this.matchOp();
      if (op) {
        const start = this.pos;
        this.pos += op.length;
        // Process substitution <(…) / >(…) is a word.
        if ((op === "<" || op === ">") && s[this.pos] === "(") {
          this.pos = start;
          this.toks.push({ t: "word", w: this.word() });
          continue;
        }
        this.toks.push({ t: "op", op, start, end: this.pos });
        if (op === "<<" || op === "<<-") {
          while (s[this.pos] === " " || s[this.pos] === "\t") this.pos++;
          const w = this.word();
          this.toks.push({ t: "word", w });
          this.heredocs.push({ delim: w.value, chomp: op === "<<-" });
        }
        continue;
      }
      const w = this.word();
      // An IO number (`2>&1`) belongs to the redirect, not to the command's words.
      if (/^\d+$/.test(w.raw) && (s[this.pos] === "<" || s[this.pos] === ">")) continue;
      this.toks.push({ t: "word", w });
    }
    return this.toks;
  }

  matchOp(): string | undefined {
    const s = this.s;
    const c = s[this.pos]!;
    if (!"&|;()<>".includes(c)) return undefined;
    for (const op of OPS) if (s.startsWith(op, this.pos)) return op;
    return undefined;
  }

  skipHeredocBodies(): void {
    const s = this.s;
    for (const h of this.heredocs) {
      for (;;) {
        if (this.pos >= s.length) break;
        const nl = s.indexOf("\n", this.pos);
        const lineEnd = nl < 0 ? s.length : nl;
        let line = s.slice(this.pos, lineEnd).replace(/\r$/, "");
        if (h.chomp) line = line.replace(/^\t+/, "");
        this.pos = nl < 0 ? s.length : nl + 1;
        if (line === h.delim) break;
      }
    }
    this.heredocs = [];
  }

  /** Reads a word starting at pos. */
  word(): ShWord {
    const s = this.s;
    const start = this.pos;
    let v = "";
    let dynamic = false;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === " " || c === "\t" || c === "\n" || c === "\r") break;
      if ("&|;<>()".includes(c)) {
        if ((c === "<" || c === ">") && s[this.pos + 1] === "(") {
          const e = this.skipParens(this.pos + 1);
          v += s.slice(this.pos, e);
          dynamic = true;
          this.pos = e;
          continue;
        }
        break;
      }
      if (c === "\\") {
        if (s[this.pos + 1] === "\n") {
          this.pos += 2;
          continue;
        }
        v += s[this.pos + 1] ?? "";
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        const e = s.indexOf("'", this.pos + 1);
        if (e < 0) {
          this.fail("unterminated single quote", this.pos);
          v += s.slice(this.pos + 1);
          this.pos = s.length;
          break;
        }
        v += s.slice(this.pos + 1, e);
        this.pos = e + 1;
        continue;
      }
      if (c === '"') {
        this.pos++;
        let closed = false;
        while (this.pos < s.length) {
          const d = s[this.pos]!;
          if (d === '"') {
            this.pos++;
            closed = true;
            break;
          }
          if (d === "\\") {
            const n = s[this.pos + 1] ?? "";
            if (n === "\n") {
              this.pos += 2;
              continue;
            }
            if ('"\\$`'.includes(n)) v += n;
            else v += "\\" + n;
            this.pos += 2;
            continue;
          }
          if (d === "$" || d === "`") {
            const e = this.expansionEnd(this.pos);
            v += s.slice(this.pos, e);
            dynamic = true;
            this.pos = e;
            continue;
          }
          v += d;
          this.pos++;
        }
        if (!closed) this.fail("unterminated double quote", start);
        continue;
      }
      if (c === "$" && s[this.pos + 1] === "'") {
        // ANSI-C quoting.
        let k = this.pos + 2;
        while (k < s.length && s[k] !== "'") k += s[k] === "\\" ? 2 : 1;
        v += s.slice(this.pos + 2, k);
        this.pos = Math.min(k + 1, s.length);
        continue;
      }
      if (c === "$" || c === "`") {
        const e = this.expansionEnd(this.pos);
        const isVar = e > this.pos + 1;
        v += s.slice(this.pos, e);
        if (isVar) dynamic = true;
        this.pos = e;
        continue;
      }
      v += c;
      this.pos++;
    }
    return { value: v, raw: s.slice(start, this.pos), start, end: this.pos, dynamic };
  }

  fail(message: string, offset: number): void {
    this.error ??= { message, offset };
  }

  /** End offset of the expansion starting at `p` (`$x`, `${…}`, `$(…)`, `$((…))`, `` `…` ``). */
  expansionEnd(p: number): number {
    const s = this.s;
    if (s[p] === "`") {
      let k = p + 1;
      while (k < s.length && s[k] !== "`") k += s[k] === "\\" ? 2 : 1;
      if (k >= s.length) this.fail("unterminated backquote", p);
      this.nestedScripts.push({ text: s.slice(p + 1, Math.min(k, s.length)), offset: p + 1 });
      return Math.min(k + 1, s.length);
    }
    const n = s[p + 1];
    if (n === "(") {
      const e = this.skipParens(p + 1);
      if (s[p + 2] !== "(") this.nestedScripts.push({ text: s.slice(p + 2, e - 1), offset: p + 2 });
      return e;
    }
    if (n === "{") {
      let depth = 0;
      let k = p + 1;
      for (; k < s.length; k++) {
        const c = s[k]!;
        if (c === "\\") {
          k++;
          continue;
        }
        if (c === "{") depth++;
        else if (c === "}" && --depth === 0) return k + 1;
      }
      this.fail("unterminated ${", p);
      return s.length;
    }
    if (n !== undefined && /[A-Za-z_]/.test(n)) {
      let k = p + 1;
      while (k < s.length && /[A-Za-z0-9_]/.test(s[k]!)) k++;
      return k;
    }
    if (n !== undefined && /[0-9@*#?$!-]/.test(n)) return p + 2;
    return p + 1;
  }

  /** Given s[p] === "(", returns the offset after the matching ")" (quotes respected). */
  skipParens(p: number): number {
    const s = this.s;
    let depth = 0;
    let k = p;
    for (; k < s.length; k++) {
      const c = s[k]!;
      if (c === "\\") {
        k++;
        continue;
      }
      if (c === "'") {
        const e = s.indexOf("'", k + 1);
        k = e < 0 ? s.length : e;
        continue;
      }
      if (c === '"') {
        k++;
        while (k < s.length && s[k] !== '"') k += s[k] === "\\" ? 2 : 1;
        continue;
      }
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) return k + 1;
    }
    this.fail("unbalanced parentheses", p);
    return s.length;
  }
}

const ASSIGN_RE = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

function segment(toks: Tok[], nested: boolean, out: SimpleCommand[]): boolean {
  let hasPipe = false;
  let cur: SimpleCommand | null = null;
  let pipeNext = false;
  // case handling: 0 none, 1 expecting word, 2 expecting "in", 3 in patterns, 4 in body
  const caseStack: number[] = [];
  let skipUntilSep = false; // for `for x in …` headers
  const finish = () => {
    if (cur && cur.words.length > 0) {
      if (pipeNext) cur.inPipeline = true;
      out.push(cur);
    }
    cur = null;
    pipeNext = false;
  };
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k]!;
    const cs = caseStack.length ? caseStack[caseStack.length - 1]! : 0;
    if (tk.t === "nl") {
      finish();
      skipUntilSep = false;
      continue;
    }
    if (tk.t === "op") {
      const op = tk.op;
      if (cs === 3) {
        if (op === ")") caseStack[caseStack.length - 1] = 4;
        continue;
      }
      if (op === "|" || op === "|&") {
        hasPipe = true;
        if (cur) cur.inPipeline = true;
        finish();
        pipeNext = true;
        continue;
      }
      if (op === ";;" || op === ";&" || op === ";;&") {
        finish();
        if (cs === 4) caseStack[caseStack.length - 1] = 3;
        continue;
      }
      if (["&&", "||", ";", "&", "(", ")"].includes(op)) {
        if (op === "(" && cur && cur.words.length === 1 && toks[k + 1]?.t === "op") {
          // function definition `name() {…}`
          cur = null;
          k++;
          continue;
        }
        finish();
        skipUntilSep = false;
        continue;
      }
      // redirect: the next word is its target
      const nx = toks[k + 1];
      if (nx && nx.t === "word") {
        cur ??= newCmd(tk.start, nested);
        cur.redirects.push({ op, target: nx.w.value });
        cur.end = nx.w.end;
        k++;
      }
      continue;
    }
    const w = tk.w;
    if (skipUntilSep) {
      if (w.value === "do" && !cur) {
        skipUntilSep = false;
      }
      continue;
    }
    if (cs === 1) {
      caseStack[caseStack.length - 1] = 2;
      continue;
    }
    if (cs === 2) {
      if (w.value === "in") caseStack[caseStack.length - 1] = 3;
      continue;
    }
    if (cs === 3) {
      if (w.value === "esac") caseStack.pop();
      continue;
    }
    if (!cur) {
      if (cs === 4 && w.value === "esac") {
        caseStack.pop();
        continue;
      }
      if (RESERVED_START.has(w.value) && !w.raw.includes("'") && !w.raw.includes('"')) continue;
      if (w.value === "case") {
        caseStack.push(1);
        continue;
      }
      if (w.value === "for" || w.value === "select") {
        skipUntilSep = true;
        continue;
      }
      cur = newCmd(w.start, nested);
    }
    cur.end = w.end;
    if (cur.words.length === 0 && ASSIGN_RE.test(w.raw)) {
      cur.assignments.push(w);
      continue;
    }
    if (cur.words.length === 0) cur.name = w.value;
    else cur.args.push(w);
    cur.words.push(w);
  }
  finish();
  return hasPipe;
}

function newCmd(start: number, nested: boolean): SimpleCommand {
  return {
    name: "",
    args: [],
    words: [],
    assignments: [],
    redirects: [],
    start,
    end: start,
    inPipeline: false,
    nested,
  };
}

const cache = new Map<string, ShellScript>();
const CACHE_MAX = 5000;

/** Parses a shell script into its simple commands (cached by text). */
export function parseShell(text: string): ShellScript {
  const hit = cache.get(text);
  if (hit) return hit;
  const res = parseUncached(text, false);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, res);
  return res;
}

function parseUncached(text: string, nested: boolean): ShellScript {
  const lx = new Lexer(text);
  const toks = lx.run();
  const commands: SimpleCommand[] = [];
  let hasPipe = segment(toks, nested, commands);
  let error = lx.error;
  for (const ns of lx.nestedScripts) {
    const sub = parseUncached(ns.text, true);
    for (const c of sub.commands) shift(c, ns.offset);
    commands.push(...sub.commands);
    hasPipe ||= sub.hasPipe;
    if (!error && sub.error) error = { ...sub.error, offset: sub.error.offset + ns.offset };
  }
  commands.sort((a, b) => a.start - b.start);
  return { commands, hasPipe, error };
}

function shift(c: SimpleCommand, by: number): void {
  c.start += by;
  c.end += by;
  // `args` shares its word objects with `words`.
  for (const w of c.words) {
    w.start += by;
    w.end += by;
  }
  for (const w of c.assignments) {
    w.start += by;
    w.end += by;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for rules.

/** Commands named `name` (also `/usr/bin/name`). */
export function commandsNamed(script: ShellScript, ...names: string[]): SimpleCommand[] {
  return script.commands.filter((c) => names.includes(baseName(c.name)));
}

export function baseName(name: string): string {
  const i = name.lastIndexOf("/");
  return i < 0 ? name : name.slice(i + 1);
}

/** Whether an option is present: `-y`, `--yes`, combined short flags `-qy`, `--opt=value`. */
export function hasFlag(cmd: SimpleCommand, ...flags: string[]): boolean {
  for (const a of cmd.args) {
    const v = a.value;
    if (v === "--") break;
    for (const f of flags) {
      if (v === f) return true;
      if (f.startsWith("--") && v.startsWith(f + "=")) return true;
      if (
        f.length === 2 &&
        f[0] === "-" &&
        /^-[A-Za-z0-9]+$/.test(v) &&
        !v.startsWith("--") &&
        v.includes(f[1]!)
      ) {
        return true;
      }
    }
  }
  return false;
}

/** The value of an option (`-o X`, `--opt X`, `--opt=X`, `-oX`). */
export function flagValues(cmd: SimpleCommand, ...flags: string[]): string[] {
  const out: string[] = [];
  const a = cmd.args;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!.value;
    for (const f of flags) {
      if (v === f && i + 1 < a.length) out.push(a[i + 1]!.value);
      else if (f.startsWith("--") && v.startsWith(f + "=")) out.push(v.slice(f.length + 1));
      else if (
        f.length === 2 &&
        !f.startsWith("--") &&
        v.startsWith(f) &&
        v.length > 2 &&
        !v.startsWith("--")
      )
        out.push(v.slice(2));
    }
  }
  return out;
}

/**
 * Positional (non-option) arguments. `valued` lists options that take a separate value, which is
 * skipped with them.
 */
export function positionals(cmd: SimpleCommand, valued: string[] = [], from = 0): ShWord[] {
  const out: ShWord[] = [];
  const a = cmd.args;
  let dd = false;
  for (let i = from; i < a.length; i++) {
    const v = a[i]!.value;
    if (!dd && v === "--") {
      dd = true;
      continue;
    }
    if (!dd && v.startsWith("-") && v.length > 1) {
      if (valued.includes(v)) i++;
      continue;
    }
    out.push(a[i]!);
  }
  return out;
}

/** The first positional argument (the sub-command, e.g. `install` for apt-get), with its index. */
export function subcommand(
  cmd: SimpleCommand,
  valued: string[] = [],
): { word: ShWord; index: number } | undefined {
  const a = cmd.args;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!.value;
    if (v.startsWith("-") && v.length > 1) {
      if (valued.includes(v)) i++;
      continue;
    }
    return { word: a[i]!, index: i };
  }
  return undefined;
}
