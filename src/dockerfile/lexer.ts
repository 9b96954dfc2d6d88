/**
 * The shell-word lexer BuildKit uses for variable expansion and word splitting
 * (`frontend/dockerfile/shell`): quotes, the escape character, `$VAR`, `${VAR}` and the
 * `${VAR:-x}` family of modifiers, shell patterns for `#`, `%` and `/`. It is not a shell: no
 * command substitution, no globbing, no arithmetic — exactly what BuildKit expands, no more.
 */
import { goQuote, isSpace } from "./text.js";

/** Variables visible to an expansion. `get` returns undefined for an unset variable. */
export interface EnvGetter {
  get(name: string): string | undefined;
}

/** An EnvGetter over a Map or a plain record. */
export function envFrom(vars: Map<string, string> | Record<string, string> | undefined): EnvGetter {
  if (!vars) return EMPTY_ENV;
  if (vars instanceof Map) return { get: (k) => vars.get(k) };
  return { get: (k) => (Object.prototype.hasOwnProperty.call(vars, k) ? vars[k] : undefined) };
}

export const EMPTY_ENV: EnvGetter = { get: () => undefined };

export interface LexOptions {
  /** Keep quote characters in the result (default false). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result (default false). */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (default false): used for heredoc bodies. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (default false). */
  skipUnsetEnv?: boolean;
}

export interface ProcessResult {
  /** The expanded text, spaces between words kept. */
  result: string;
  /** The expanded text split into words (quotes respected). */
  words: string[];
  /** Variables referenced and set. */
  matched: Set<string>;
  /** Variables referenced but unset. */
  unmatched: Set<string>;
  /** Unset variables the result depends on (`$X`, `${X}`, `${X%…}`; not `${X:-default}`). */
  unknown: Set<string>;
}

/** An expansion error (`${X:?msg}`, a bad substitution, an unterminated quote). */
export class ShellLexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellLexError";
  }
}

const EOF = -1;

class Words {
  buf = "";
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    const sp = ch.length === 1 && isSpace(ch.charCodeAt(0));
    if (sp && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else if (!sp) this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (let i = 0; i < s.length; i++) this.addChar(s[i]);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  getWords(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
function isLetterCp(c: number): boolean {
  if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  return LETTER.test(String.fromCodePoint(c));
}
function isDigitCp(c: number): boolean {
  if (c < 0x80) return isAsciiDigit(c);
  return DIGIT.test(String.fromCodePoint(c));
}
function isSpecialParam(c: number): boolean {
  // @ * # ? - $ ! 0
  return (
    c === 0x40 ||
    c === 0x2a ||
    c === 0x23 ||
    c === 0x3f ||
    c === 0x2d ||
    c === 0x24 ||
    c === 0x21 ||
    c === 0x30
  );
}

/** One run of the lexer over one input. */
class ShellWord {
  private pos = 0;
  rawEscapes: boolean;
  matched = new Set<string>();
  unmatched = new Set<string>();
  /** Unset variables the result depends on (not those with a `-`/`+` default). */
  unknown = new Set<string>();
  constructor(
    private readonly src: string,
    private readonly env: EnvGetter,
    private readonly escape: string,
    private readonly opts: LexOptions,
  ) {
    this.rawEscapes = !!opts.rawEscapes;
  }

  private peek(): string {
    if (this.pos >= this.src.length) return "";
    const c = this.src.charCodeAt(this.pos);
    if (c >= 0xd800 && c <= 0xdbff && this.pos + 1 < this.src.length) {
      const d = this.src.charCodeAt(this.pos + 1);
      if (d >= 0xdc00 && d <= 0xdfff) return this.src.slice(this.pos, this.pos + 2);
    }
    return this.src[this.pos];
  }
  private next(): string {
    const ch = this.peek();
    this.pos += ch.length;
    return ch;
  }
  private peekCode(): number {
    const ch = this.peek();
    return ch === "" ? EOF : ch.codePointAt(0)!;
  }

  run(): [string, string[]] {
    return this.processStopOn("", this.rawEscapes);
  }

  /** Process until `stop` (or the end when stop is ""). */
  processStopOn(stop: string, rawEscapes: boolean): [string, string[]] {
    let result = "";
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    const quotes = !this.opts.skipProcessQuotes;
    try {
      while (this.pos < this.src.length) {
        const ch = this.peek();
        if (stop !== "" && ch === stop) {
          this.next();
          return [result, words.getWords()];
        }
        if (ch === "$") {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if (ch === "<") {
          const tmp = this.processPossibleHeredoc();
          result += tmp;
          words.addRawString(tmp);
        } else if (quotes && ch === "'") {
          const tmp = this.processSingleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else if (quotes && ch === '"') {
          const tmp = this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          let c = this.next();
          if (c === this.escape) {
            if (this.rawEscapes) {
              words.addRawChar(c);
              result += c;
            }
            c = this.next();
            if (c === "") break;
            words.addRawChar(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== "") {
        throw new ShellLexError(`unexpected end of statement while looking for matching ${stop}`);
      }
      return [result, words.getWords()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = "";
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === "")
        throw new ShellLexError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === "")
        throw new ShellLexError("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        const ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const n = this.peek();
        if (n === "") continue;
        if (n === '"' || n === "$" || n === this.escape) ch = this.next();
      }
      result += ch;
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    for (;;) {
      const p = this.peek();
      if (p === " " || p === "\t" || p === "\r") {
        space += p;
        this.next();
      } else break;
    }
    return "<<" + space;
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processName(): string {
    let name = "";
    while (this.pos < this.src.length) {
      const c = this.peekCode();
      if (name.length === 0 && isDigitCp(c)) {
        while (this.pos < this.src.length && isDigitCp(this.peekCode())) name += this.next();
        return name;
      }
      if (name.length === 0 && isSpecialParam(c)) return this.next();
      if (!isLetterCp(c) && !isDigitCp(c) && c !== 0x5f) break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const v = this.getEnv(name);
      if (v === undefined) this.unknown.add(name);
      if (v === undefined && this.opts.skipUnsetEnv) return "$" + name;
      return v ?? "";
    }
    this.next();
    const p = this.peek();
    if (p === "") throw new ShellLexError("syntax error: missing '}'");
    if (p === "{" || p === "}" || p === ":") throw new ShellLexError("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    // BuildKit reports "unsupported modifier (\ufffd)" here; say what is wrong instead
    if (ch === "") throw new ShellLexError("syntax error: missing '}'");
    let chs = ch === "" ? "\ufffd" : ch;
    let nullIsUnset = false;
    if (ch === "}") {
      const v = this.getEnv(name);
      if (v === undefined) this.unknown.add(name);
      if (v === undefined && this.opts.skipUnsetEnv) return "${" + name + "}";
      return v ?? "";
    }
    if (ch === ":" || ch === "+" || ch === "-" || ch === "?" || ch === "#" || ch === "%") {
      if (ch === ":") {
        nullIsUnset = true;
        ch = this.next();
        chs += ch === "" ? "\ufffd" : ch;
      }
      const raw = ch === "#" || ch === "%";
      if (nullIsUnset && raw) throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        word = this.processStopOn("}", raw)[0];
      } catch (e) {
        if (this.pos >= this.src.length) throw new ShellLexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      const set = value !== undefined;
      if (this.opts.skipUnsetEnv && !set) return "${" + name + chs + word + "}";
      const v = value ?? "";
      switch (ch) {
        case "-":
          return !set || (nullIsUnset && v === "") ? word : v;
        case "+":
          return !set || (nullIsUnset && v === "") ? "" : word;
        case "?":
          if (!set) throw new ShellLexError(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
          if (nullIsUnset && v === "")
            throw new ShellLexError(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
          return v;
        case "%":
        case "#": {
          if (!set) this.unknown.add(name);
          let greedy = false;
          if (word.length > 0 && word[0] === ch) {
            greedy = true;
            word = word.slice(1);
          }
          return ch === "%" ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
        }
        default:
          throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === "/") {
      const all = this.peek() === "/";
      if (all) this.next();
      let pattern: string;
      try {
        pattern = this.processStopOn("/", true)[0];
      } catch (e) {
        if (this.pos >= this.src.length) throw new ShellLexError("syntax error: missing '/' in ${}");
        throw e;
      }
      let replacement: string;
      try {
        replacement = this.processStopOn("}", true)[0];
      } catch (e) {
        if (this.pos >= this.src.length) throw new ShellLexError("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (value === undefined) this.unknown.add(name);
      if (this.opts.skipUnsetEnv && value === undefined)
        return "${" + name + "/" + pattern + "/" + replacement + "}";
      const re = patternToRegExp(pattern, true, false, all);
      const v = value ?? "";
      return v.replace(re, () => replacement);
    }
    throw new ShellLexError(`unsupported modifier (${chs}) in substitution`);
  }
}

/**
 * A shell pattern (`*`, `?`, `\` escapes; no bracket expressions, like BuildKit) as a RegExp.
 * Linear to build; the patterns come from the Dockerfile author.
 */
function patternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const cps = Array.from(pattern);
  let out = anchored ? "^" : "";
  const star = greedy ? "[^\\n]*" : "[^\\n]*?";
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i];
    if (tok === "*") {
      out += star;
      continue;
    }
    if (tok === "?") {
      out += "[^\\n]";
      continue;
    }
    if (tok === "\\") {
      const n = cps[i + 1];
      if (n === "}" || n === "/") continue;
      i++;
      if (n !== "*" && n !== "?" && n !== "\\") {
        throw new ShellLexError(
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ""}'`,
        );
      }
      out += "\\" + n;
      continue;
    }
    if ("[]{}.+()|^$/".includes(tok)) out += "\\" + tok;
    else out += tok;
  }
  return new RegExp(out, global ? "gu" : "u");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out = new Array<string>(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last;) {
    const o = last - i;
    if (p[i] === "\\" && i !== last) {
      out[o - 1] = p[i];
      out[o] = p[i + 1];
      i += 2;
    } else {
      out[o] = p[i];
      i++;
    }
  }
  return out.join("");
}

function reverseString(s: string): string {
  return Array.from(s).reverse().join("");
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverseString(trimPrefix(reversePattern(pattern), reverseString(value), greedy));
}

/**
 * BuildKit's shell lexer. `escape` is the Dockerfile's escape character (`\` or backtick).
 * Methods throw ShellLexError with BuildKit's message (`failed to process "…": …`).
 */
export class ShellLex {
  constructor(
    readonly escape: string = "\\",
    readonly options: LexOptions = {},
  ) {}

  /** Expand and also split into words; returns the variables used and the unset ones. */
  process(word: string, env: EnvGetter = EMPTY_ENV): ProcessResult {
    const sw = new ShellWord(word, env, this.escape, this.options);
    try {
      const [result, words] = sw.run();
      return { result, words, matched: sw.matched, unmatched: sw.unmatched, unknown: sw.unknown };
    } catch (e) {
      if (e instanceof ShellLexError)
        throw new ShellLexError(`failed to process ${goQuote(word)}: ${e.message}`);
      throw e;
    }
  }

  /** Expand variables in one word (spaces kept). */
  processWord(word: string, env: EnvGetter = EMPTY_ENV): string {
    return this.process(word, env).result;
  }

  /** Expand variables and split into words. */
  processWords(word: string, env: EnvGetter = EMPTY_ENV): string[] {
    return this.process(word, env).words;
  }
}
