/**
 * The Dockerfile parser: physical lines → instructions, faithful to BuildKit's
 * `frontend/dockerfile/parser` (directives, continuation lines, comments inside continuations,
 * empty-continuation warnings, heredocs, JSON vs shell form, flags, ONBUILD, CRLF, BOM), with
 * positions and source text kept for every node. Linear in the input; no regular expression runs
 * over a whole line.
 */
import { ShellLex, ShellLexError } from "./lexer.js";
import { LineParseError, parseLine, splitCommand } from "./line-parsers.js";
import { isSpace, trimLeftSpace, trimSpace } from "./text.js";
import type {
  Directive,
  Heredoc,
  Node,
  ParseError,
  ParseOptions,
  ParseResult,
  ParseWarning,
  Position,
} from "./types.js";

/** bufio.Scanner's limit in BuildKit: a physical line of 64 KiB or more is an error. */
const MAX_LINE_BYTES = 64 * 1024;
const DECODER = new TextDecoder("utf-8", { ignoreBOM: true });

const VALID_DIRECTIVES = new Set(["syntax", "escape", "check"]);
const HEREDOC_KEYWORDS = new Set(["ADD", "COPY", "RUN"]);

/** Physical lines, split on `\n` only (as BuildKit's scanner does), line endings kept. */
class LineScanner {
  start = 0;
  /** End of the line including its `\n`. */
  end = 0;
  /** End of the content: trailing `\r`/`\n` characters excluded. */
  contentEnd = 0;
  lineNo = 0;
  tooLong = false;
  private next = 0;
  constructor(private readonly text: string) {}
  scan(): boolean {
    if (this.tooLong || this.next >= this.text.length) return false;
    const s = this.next;
    const nl = this.text.indexOf("\n", s);
    const e = nl < 0 ? this.text.length : nl + 1;
    let ce = e;
    while (ce > s && (this.text.charCodeAt(ce - 1) === 0x0a || this.text.charCodeAt(ce - 1) === 0x0d)) ce--;
    // A UTF-16 unit is at most 3 UTF-8 bytes: only long lines need counting.
    const contentWithCR = (nl < 0 ? e : nl) - s;
    if (
      contentWithCR * 3 >= MAX_LINE_BYTES &&
      Buffer.byteLength(this.text.slice(s, nl < 0 ? e : nl)) >= MAX_LINE_BYTES
    ) {
      this.tooLong = true;
      this.start = s;
      this.end = e;
      this.contentEnd = ce;
      return false;
    }
    this.start = s;
    this.end = e;
    this.contentEnd = ce;
    this.next = e;
    this.lineNo++;
    return true;
  }
}

function trimNewline(s: string): string {
  let e = s.length;
  while (e > 0 && (s.charCodeAt(e - 1) === 0x0a || s.charCodeAt(e - 1) === 0x0d)) e--;
  return e === s.length ? s : s.slice(0, e);
}

function isComment(s: string): boolean {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i < s.length && s.charCodeAt(i) === 0x23;
}

function isWsRe(c: number): boolean {
  // RE2's \s: [\t\n\f\r ]
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}
function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` without backtracking. */
export function matchDirective(token: string): { key: string; value: string } | null {
  if (token.charCodeAt(0) !== 0x23) return null;
  let i = 1;
  const n = token.length;
  while (i < n && isWsRe(token.charCodeAt(i))) i++;
  if (i >= n || !isAsciiLetter(token.charCodeAt(i))) return null;
  const ks = i;
  i++;
  while (
    i < n &&
    (isAsciiLetter(token.charCodeAt(i)) || (token.charCodeAt(i) >= 0x30 && token.charCodeAt(i) <= 0x39))
  )
    i++;
  const key = token.slice(ks, i);
  while (i < n && isWsRe(token.charCodeAt(i))) i++;
  if (i >= n || token.charCodeAt(i) !== 0x3d /* = */) return null;
  i++;
  const r = i;
  while (i < n && isWsRe(token.charCodeAt(i))) i++;
  if (i >= n) {
    // only whitespace after '=': the lazy group takes the last whitespace character
    if (n === r) return null;
    return { key, value: token[n - 1] };
  }
  let e = n;
  while (e > i && isWsRe(token.charCodeAt(e - 1))) e--;
  return { key, value: token.slice(i, e) };
}

/** Remove a trailing escape character (and spaces/tabs after it) that continues the line. */
export function trimContinuation(line: string, escape: string): [string, boolean] {
  let j = line.length;
  while (j > 0 && (line.charCodeAt(j - 1) === 0x20 || line.charCodeAt(j - 1) === 0x09)) j--;
  if (j === 0 || line[j - 1] !== escape) return [line, true];
  if (j === 1) return ["", false];
  if (line[j - 2] === escape) return [line, true];
  return [line.slice(0, j - 1), false];
}

/** Parse a heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or null when the word is not one. */
export function parseHeredocWord(word: string): Omit<Heredoc, "content" | "range"> | null {
  let i = 0;
  while (i < word.length && word.charCodeAt(i) >= 0x30 && word.charCodeAt(i) <= 0x39) i++;
  const fd = word.slice(0, i);
  if (word.charCodeAt(i) !== 0x3c || word.charCodeAt(i + 1) !== 0x3c) return null;
  i += 2;
  let chomp = false;
  if (word[i] === "-") {
    chomp = true;
    i++;
  }
  while (i < word.length && isWsRe(word.charCodeAt(i))) i++;
  const rest = word.slice(i);
  if (rest.includes("<")) return null;
  if (rest.length === 0) return null;
  const words = new ShellLex("\\", { skipUnsetEnv: true }).processWords(rest);
  if (words.length !== 1) return null;
  const raw = new ShellLex("\\", { skipUnsetEnv: true, rawQuotes: true }).processWords(rest);
  if (raw.length !== words.length) {
    throw new LineParseError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const count = (s: string) => {
    let k = 0;
    for (let j = 0; j < s.length; j++) if (s[j] === "'" || s[j] === '"') k++;
    return k;
  };
  return {
    name: words[0],
    expand: count(words[0]) === count(raw[0]),
    chomp,
    fileDescriptor: fd === "" ? 0 : Number(fd),
  };
}

/** The heredoc words of a logical line, in order. */
export function heredocsFromLine(line: string): Omit<Heredoc, "content" | "range">[] {
  let words: string[];
  try {
    words = new ShellLex("\\", { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line);
  } catch (e) {
    if (e instanceof ShellLexError) return [];
    throw e;
  }
  const out: Omit<Heredoc, "content" | "range">[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

/** Strip leading tabs from every line of a `<<-` heredoc body. */
export function chompHeredoc(content: string): string {
  let out = "";
  let atStart = true;
  for (let i = 0; i < content.length; i++) {
    const ch = content[i];
    if (atStart && ch === "\t") continue;
    atStart = ch === "\n";
    out += ch;
  }
  return out;
}

function canContainHeredoc(node: Node): boolean {
  const n = node.keyword === "ONBUILD" && node.sub ? node.sub : node;
  return HEREDOC_KEYWORDS.has(n.keyword) && !n.json;
}

interface DirectiveState {
  escape: string;
  done: boolean;
  seen: Set<string>;
}

/**
 * Parse a Dockerfile. Never throws on bad input: problems are returned in `errors` (BuildKit's
 * messages, with the lines BuildKit reports) and parsing goes on where it can.
 */
export function parseDockerfile(input: string | Uint8Array, options: ParseOptions = {}): ParseResult {
  const text = typeof input === "string" ? input : DECODER.decode(input);
  const sc = new LineScanner(text);
  const ds: DirectiveState = { escape: "\\", done: false, seen: new Set() };
  const nodes: Node[] = [];
  const warnings: ParseWarning[] = [];
  const errors: ParseError[] = [];
  const directives: Directive[] = [];
  let comments: string[] = [];
  let currentLine = 0;
  let bomLen = 0;

  // column base of the current physical line (the BOM on line 1 is not a column)
  const pos = (line: number, lineStart: number, offset: number): Position => ({
    line,
    column: offset - lineStart - (line === 1 ? bomLen : 0) + 1,
    offset,
  });
  // line start offsets, only for the lines we need to refer back to
  const lineRange = (line: number, start: number, contentEnd: number) => ({
    start: pos(line, start, start + (line === 1 ? bomLen : 0)),
    end: pos(line, start, contentEnd),
  });
  const linesRange = (
    a: { line: number; start: number; contentEnd: number },
    b: { line: number; start: number; contentEnd: number },
  ) => ({
    start: lineRange(a.line, a.start, a.contentEnd).start,
    end: lineRange(b.line, b.start, b.contentEnd).end,
  });

  const directive = (token: string, line: number, start: number, contentEnd: number): boolean => {
    if (ds.done) return false;
    const m = matchDirective(token);
    if (!m) {
      ds.done = true;
      return false;
    }
    const k = m.key.toLowerCase();
    if (!VALID_DIRECTIVES.has(k)) {
      ds.done = true;
      return false;
    }
    const range = lineRange(line, start, contentEnd);
    if (ds.seen.has(k)) {
      errors.push({ message: `only one ${k} parser directive can be used`, range });
      return false;
    }
    ds.seen.add(k);
    if (k === "escape") {
      if (m.value !== "`" && m.value !== "\\") {
        errors.push({ message: `invalid escape token '${m.value}' does not match \` or \\`, range });
        return false;
      }
      ds.escape = m.value;
    }
    directives.push({ name: k, value: m.value, range });
    return true;
  };

  const newNode = (line: string, prevComment: string[]): Node => {
    const { cmd, flags, rest } = splitCommand(line);
    const node: Node = {
      keyword: cmd.toUpperCase(),
      cmd,
      flags,
      args: [],
      json: false,
      heredocs: [],
      original: line,
      rest,
      raw: "",
      range: { start: { line: 0, column: 0, offset: 0 }, end: { line: 0, column: 0, offset: 0 } },
      prevComment,
    };
    try {
      const lp = parseLine(cmd.toLowerCase(), rest, ds.escape);
      node.args = lp.args ?? [];
      node.json = lp.json;
      if (lp.subLine !== undefined) node.sub = newNode(lp.subLine, []);
    } catch (e) {
      if (!(e instanceof LineParseError)) throw e;
      node.error = e.message;
    }
    if (node.sub?.error && !node.error) node.error = node.sub.error;
    return node;
  };

  while (sc.scan()) {
    let lineStart = sc.start;
    let raw = text.slice(sc.start, sc.end);
    if (currentLine === 0 && raw.charCodeAt(0) === 0xfeff) {
      raw = raw.slice(1);
      bomLen = 1;
      lineStart = sc.start; // columns subtract bomLen on line 1
    }
    if (isComment(raw)) {
      const c = trimSpace(raw.slice(1));
      if (c === "") comments = [];
      else comments.push(c);
    }
    const untrimmed = trimNewline(raw);
    const token0 = trimLeftSpace(untrimmed);
    const lead = untrimmed.length - token0.length;
    if (directive(token0, currentLine + 1, lineStart, sc.contentEnd)) comments.pop();
    const token = isComment(token0) ? "" : token0;
    currentLine++;

    const first = { line: currentLine, start: lineStart, contentEnd: sc.contentEnd };
    const startOffset = lineStart + (currentLine === 1 ? bomLen : 0) + lead;
    let [line, eol] = trimContinuation(token, ds.escape);
    if (eol && line === "") continue;
    let last = first;

    let hasEmpty = false;
    while (!eol && sc.scan()) {
      const r = text.slice(sc.start, sc.end);
      currentLine++;
      last = { line: currentLine, start: sc.start, contentEnd: sc.contentEnd };
      if (isComment(r)) continue;
      const t = trimNewline(r);
      if (trimLeftSpace(t).length === 0) {
        hasEmpty = true;
        continue;
      }
      const [piece, e] = trimContinuation(t, ds.escape);
      eol = e;
      line += piece;
    }

    if (hasEmpty) {
      warnings.push({
        message: "Empty continuation line found in: " + line,
        detail: "Empty continuation lines will become errors in a future release",
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
        range: lineRange(last.line, last.start, last.contentEnd),
      });
    }

    const node = newNode(line, comments);
    if (node.error) errors.push({ message: node.error, range: linesRange(first, last) });

    // (read heredoc bodies even after a line-parser error, so they are not parsed as instructions)
    if (canContainHeredoc(node) && line.includes("<<")) {
      let docs: Omit<Heredoc, "content" | "range">[] = [];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        if (!(e instanceof LineParseError || e instanceof ShellLexError)) throw e;
        node.error = e.message;
        errors.push({ message: e.message, range: linesRange(first, last) });
      }
      for (const d of docs) {
        let content = "";
        let terminated = false;
        let bodyFirst: typeof last | undefined;
        while (sc.scan()) {
          const r = text.slice(sc.start, sc.end);
          currentLine++;
          last = { line: currentLine, start: sc.start, contentEnd: sc.contentEnd };
          bodyFirst ??= last;
          let possible = trimNewline(r);
          if (d.chomp) {
            let k = 0;
            while (k < possible.length && possible.charCodeAt(k) === 0x09) k++;
            possible = possible.slice(k);
          }
          if (possible === d.name) {
            terminated = true;
            break;
          }
          content += r;
        }
        const hrange = bodyFirst
          ? linesRange(bodyFirst, last)
          : {
              start: lineRange(last.line, last.start, last.contentEnd).end,
              end: lineRange(last.line, last.start, last.contentEnd).end,
            };
        node.heredocs.push({ ...d, content, range: hrange });
        if (!terminated) {
          const message = "unterminated heredoc";
          node.error ??= message;
          errors.push({ message, range: linesRange(first, last) });
          break;
        }
      }
    }

    const endPos = lineRange(last.line, last.start, last.contentEnd).end;
    node.range = { start: pos(first.line, first.start, startOffset), end: endPos };
    node.raw = text.slice(startOffset, endPos.offset);
    if (node.sub) {
      const firstLineText = text.slice(startOffset, first.contentEnd);
      const at = firstLineText.indexOf(node.sub.cmd, node.cmd.length);
      const subStart = at >= 0 ? pos(first.line, first.start, startOffset + at) : node.range.start;
      node.sub.range = { start: subStart, end: endPos };
      node.sub.raw = text.slice(subStart.offset, endPos.offset);
    }
    nodes.push(node);
    comments = [];
  }

  if (nodes.length === 0) {
    const l = Math.max(currentLine, 1);
    const at = { line: l, column: 1, offset: text.length };
    errors.push({ message: "file with no instructions", range: { start: at, end: at } });
  }
  if (sc.tooLong) {
    const at = pos(currentLine + 1, sc.start, sc.start);
    errors.push({
      message: `dockerfile line greater than max allowed size of ${MAX_LINE_BYTES - 1}`,
      range: { start: at, end: pos(currentLine + 1, sc.start, sc.contentEnd) },
    });
  }

  return {
    file: options.file,
    source: text,
    directives,
    escape: ds.escape,
    nodes,
    warnings,
    errors,
    lineCount: sc.lineNo + (sc.tooLong ? 1 : 0),
  };
}
