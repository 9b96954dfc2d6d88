/**
 * The linter's view of a Dockerfile, a thin layer over the shared front end (src/dockerfile):
 * each instruction is the shared parser's node and typed instruction (`node`, `typed`) plus what
 * rules need around it — exact original positions (line, column, offsets for fixes) of every
 * logical offset, flag and heredoc marker, preceding comments, directives — and the shared
 * layer's errors (parse, instruction, expansion, stage graph: reported as DL1000, never thrown).
 * Nothing here parses instruction arguments again.
 */
import {
  loadDockerfile as loadShared,
  type Heredoc as SharedHeredoc,
  type Instruction as SharedInstruction,
  type LoadedDockerfile,
  type Node,
} from "../dockerfile/index.js";
import { ShellLex } from "../dockerfile/lexer.js";
import { trimContinuation } from "../dockerfile/parser.js";

export interface Directive {
  name: string;
  value: string;
  line: number;
}

export interface Comment {
  /** Text after the `#`, trimmed. */
  text: string;
  line: number;
  /** Offset of the `#` in the original text. */
  offset: number;
}

export interface Flag {
  name: string;
  value: string | null;
  /** Logical offset (into `Instruction.logical`) where `--` starts. */
  start: number;
  end: number;
}

export interface Heredoc {
  name: string;
  /** Body lines joined with "\n" (CR stripped; tabs stripped for `<<-`). */
  body: string;
  /** 1-based line of the first body line. */
  bodyLine: number;
  /** Whether variables expand in the body (delimiter unquoted). */
  expand: boolean;
  chomp: boolean;
  /** Tabs stripped from each body line (`<<-`), to map columns back. */
  indent: number[];
  /** Logical offsets of the `<<EOF` marker. */
  start: number;
  end: number;
}

/** A piece of the logical line, mapping back to the original text. */
interface Segment {
  logical: number;
  offset: number;
  line: number;
  column: number;
}

export interface Position {
  line: number;
  column: number;
  offset: number;
}

export interface Instruction {
  /** Upper-case keyword: RUN, FROM… */
  keyword: string;
  /** The keyword as written. */
  keywordRaw: string;
  line: number;
  column: number;
  endLine: number;
  /** Original offsets: start of the keyword and end of the last line (before its newline). */
  offset: number;
  end: number;
  /** The text after the keyword with continuations joined (BuildKit's way), flags included. */
  logical: string;
  /** Logical offset of the arguments after the flags. */
  argsStart: number;
  /** The arguments after the flags, trimmed. */
  args: string;
  flags: Flag[];
  /** Exec (JSON array) form, or null for shell form. */
  json: string[] | null;
  heredocs: Heredoc[];
  /** The comment lines directly above (no blank line in between), top to bottom. */
  comments: Comment[];
  /** Comment lines inside a continuation. */
  innerComments: Comment[];
  /** Empty lines inside the continuation (BuildKit NoEmptyContinuation). */
  emptyContinuationLines: number[];
  /** For ONBUILD: the trigger instruction. */
  trigger?: Instruction;
  /** Index among top-level instructions. */
  index: number;
  segs: Segment[];
  /** The shared parser's node. */
  node: Node;
  /** The shared typed instruction (absent when the instruction layer rejected it). */
  typed?: SharedInstruction;
}

export interface ParseError {
  message: string;
  line: number;
  column: number;
  endLine?: number;
}

export interface DockerfileSource {
  text: string;
  escape: string;
  directives: Directive[];
  /** Last line of the directive block (0 if none). */
  directiveEnd: number;
  instructions: Instruction[];
  comments: Comment[];
  errors: ParseError[];
  eol: "\n" | "\r\n";
  /** The shared front end's output: parse, typed model, resolved stages. */
  loaded: LoadedDockerfile;
}

/** Instructions whose exec (JSON) form the rules look at. */
const JSON_FORM = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"]);

/** Maps a logical offset of an instruction back to the original text. */
export function positionAt(ins: Instruction, logical: number): Position {
  const segs = ins.segs;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid]!.logical <= logical) lo = mid;
    else hi = mid - 1;
  }
  const s = segs[lo]!;
  const d = logical - s.logical;
  return { line: s.line, column: s.column + d, offset: s.offset + d };
}

/** Physical lines of the source: where each starts, and its content on demand. */
class Lines {
  /** starts[i] = offset of line i+1. */
  readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = text.indexOf("\n"); i >= 0 && i + 1 < text.length; i = text.indexOf("\n", i + 1))
      this.starts.push(i + 1);
  }
  get count(): number {
    return this.text.length === 0 ? 0 : this.starts.length;
  }
  /** Content of line `no` (1-based) without its line ending. */
  content(no: number): string {
    const s = this.starts[no - 1]!;
    const e = no < this.starts.length ? this.starts[no]! : this.text.length;
    let ce = e;
    while (ce > s && (this.text.charCodeAt(ce - 1) === 0x0a || this.text.charCodeAt(ce - 1) === 0x0d)) ce--;
    return this.text.slice(s, ce);
  }
  start(no: number): number {
    return this.starts[no - 1]!;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0c && c !== 0x0b) return false;
  }
  return true;
}

function isCommentLine(s: string): boolean {
  let i = 0;
  while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  return s[i] === "#";
}

function toComment(lines: Lines, no: number): Comment {
  const t = lines.content(no);
  const i = t.indexOf("#");
  return { text: t.slice(i + 1).trim(), line: no, offset: lines.start(no) + i };
}

/**
 * The positions of an instruction's logical line: where each piece of it (after the keyword, then
 * each continuation line) sits in the original text, and the comment and empty lines inside the
 * continuation. The logical text itself is the shared parser's (`Node.original`); this walks the
 * same physical lines only to map offsets back.
 */
function mapContinuation(
  lines: Lines,
  node: Node,
  escape: string,
  bomLen: number,
): {
  segs: Segment[];
  innerComments: Comment[];
  emptyContinuationLines: number[];
  lastLine: number;
} {
  const segs: Segment[] = [];
  const innerComments: Comment[] = [];
  const emptyContinuationLines: number[] = [];
  const first = node.range.start.line;
  const firstText = lines.content(first);
  // offset of the keyword in the line
  const kwCol = node.range.start.offset - lines.start(first);
  let p = kwCol + node.cmd.length;
  while (p < firstText.length && (firstText[p] === " " || firstText[p] === "\t")) p++;
  let piece = firstText.slice(p);
  let lineNo = first;
  let pieceOff = lines.start(first) + p;
  let pieceCol = p + 1 - (first === 1 ? bomLen : 0);
  let logical = 0;
  let last = first;
  for (;;) {
    const [kept, eol] = trimContinuation(piece, escape);
    segs.push({ logical, offset: pieceOff, line: lineNo, column: pieceCol });
    logical += kept.length;
    if (eol) break;
    let k = lineNo + 1;
    while (k <= lines.count) {
      const t = lines.content(k);
      if (isCommentLine(t)) innerComments.push(toComment(lines, k));
      else if (isBlank(t)) emptyContinuationLines.push(k);
      else break;
      k++;
    }
    if (k > lines.count) {
      last = k - 1;
      break;
    }
    lineNo = k;
    last = k;
    piece = lines.content(k);
    pieceOff = lines.start(k);
    pieceCol = 1;
  }
  return { segs, innerComments, emptyContinuationLines, lastLine: last };
}

/** Logical offsets of the leading `--flag` words (the words the shared parser took as flags). */
function flagSpans(s: string, count: number): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let p = 0;
  while (out.length < count) {
    while (p < s.length && (s[p] === " " || s[p] === "\t")) p++;
    if (p >= s.length) break;
    const start = p;
    let q = "";
    for (; p < s.length; p++) {
      const c = s[p]!;
      if (q) {
        if (c === "\\" && p + 1 < s.length) p++;
        else if (c === q) q = "";
        continue;
      }
      if (c === " " || c === "\t") break;
      if (c === "\\" && p + 1 < s.length) p++;
      else if (c === "'" || c === '"') q = c;
    }
    out.push({ start, end: p });
  }
  return out;
}

/** Logical offsets of the heredoc markers (`<<EOF`, `<<-"EOF"`), in order. */
function heredocMarks(s: string, from: number, escape: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let q: string | null = null;
  for (let k = from; k < s.length; k++) {
    const c = s[k]!;
    if (c === escape && q !== "'") {
      k++;
      continue;
    }
    if (q) {
      if (c === q) q = null;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      continue;
    }
    if (c === "<" && s[k + 1] === "<" && s[k + 2] !== "<" && s[k - 1] !== "<") {
      const m = /^<<(-?)(["']?)([^\s"'<>]+)\2/.exec(s.slice(k, k + 256));
      if (m) {
        out.push({ start: k, end: k + m[0].length });
        k += m[0].length - 1;
      }
    }
  }
  return out;
}

function toHeredoc(h: SharedHeredoc, mark: { start: number; end: number } | undefined): Heredoc {
  const raw = h.content.split("\n");
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  const lines: string[] = [];
  const indent: number[] = [];
  for (let l of raw) {
    if (l.endsWith("\r")) l = l.slice(0, -1);
    let k = 0;
    if (h.chomp) while (k < l.length && l.charCodeAt(k) === 0x09) k++;
    lines.push(k ? l.slice(k) : l);
    indent.push(k);
  }
  return {
    name: h.name,
    body: lines.join("\n"),
    bodyLine: h.range.start.line,
    expand: h.expand,
    chomp: h.chomp,
    indent,
    start: mark?.start ?? 0,
    end: mark?.end ?? 0,
  };
}

/** `args` (the text after the flags) and where it starts in `logical`. */
function argsOf(logical: string, node: Node): { argsStart: number; args: string } {
  const rest = node.rest;
  let e = logical.length;
  while (e > 0 && /\s/.test(logical[e - 1]!)) e--;
  const argsStart = Math.max(0, e - rest.length);
  return { argsStart, args: rest };
}

function flagsOf(node: Node, logical: string): Flag[] {
  const spans = flagSpans(logical, node.flags.length);
  return node.flags.map((f, i) => {
    const body = f.startsWith("--") ? f.slice(2) : f;
    const eq = body.indexOf("=");
    const sp = spans[i] ?? { start: 0, end: 0 };
    return {
      name: eq < 0 ? body : body.slice(0, eq),
      value: eq < 0 ? null : body.slice(eq + 1),
      start: sp.start,
      end: sp.end,
    };
  });
}

/**
 * Errors of the shared layer that lint reports as DL1000. A FROM whose base name is blank only
 * because an ARG has no default is BuildKit's InvalidDefaultArgInFrom warning (a build with
 * `--build-arg` works), not a parse error.
 */
function lintErrors(loaded: LoadedDockerfile): ParseError[] {
  const out: ParseError[] = [];
  for (const e of loaded.errors) {
    if (/^base name \(.*\$.*\) should not be blank$/.test(e.message)) continue;
    out.push({
      message: e.message,
      line: e.range.start.line,
      column: e.range.start.column,
      endLine: e.range.end.line,
    });
  }
  return out;
}

/**
 * The linter's view, built on the shared front end: `loadDockerfile` (src/dockerfile) parses,
 * types and resolves the file — the same call `dockyard build` makes, so every error it finds is
 * a DL1000 here — and this layer adds what rules need on top: positions of every logical offset,
 * flags and heredoc markers, the comments around instructions, the original text.
 */
export function parseDockerfile(text: string, loaded?: LoadedDockerfile): DockerfileSource {
  loaded ??= loadShared(text);
  const parse = loaded.parse;
  const source = parse.source;
  const bomLen = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  const lines = new Lines(source);
  const escape = parse.escape;
  const eol: "\n" | "\r\n" = /\r\n/.test(source.slice(0, 4096)) ? "\r\n" : "\n";
  const typed = new Map<Node, SharedInstruction>();
  for (const t of loaded.model.instructions) typed.set(t.node, t);
  const directives: Directive[] = parse.directives.map((d) => ({
    name: d.name,
    value: d.value,
    line: d.range.start.line,
  }));
  const directiveEnd = directives.length ? Math.max(...directives.map((d) => d.line)) : 0;
  const comments: Comment[] = [];
  for (const d of directives) comments.push(toComment(lines, d.line));
  const instructions: Instruction[] = [];
  let gapFrom = directiveEnd + 1;
  const gap = (to: number): Comment[] => {
    // lines between instructions: comments (a blank line ends a block) and blank lines only
    let pending: Comment[] = [];
    for (let no = gapFrom; no < to; no++) {
      const t = lines.content(no);
      if (isCommentLine(t)) {
        const c = toComment(lines, no);
        comments.push(c);
        pending.push(c);
      } else if (isBlank(t)) pending = [];
    }
    return pending;
  };
  for (const node of parse.nodes) {
    const ins = toInstruction(node, lines, escape, bomLen, typed);
    ins.comments = gap(node.range.start.line);
    ins.index = instructions.length;
    comments.push(...ins.innerComments);
    instructions.push(ins);
    gapFrom = ins.endLine + 1;
  }
  gap(lines.count + 1);
  return {
    text: source,
    escape,
    directives,
    directiveEnd,
    instructions,
    comments,
    errors: lintErrors(loaded),
    eol,
    loaded,
  };
}

function toInstruction(
  node: Node,
  lines: Lines,
  escape: string,
  bomLen: number,
  typed: Map<Node, SharedInstruction>,
): Instruction {
  const m = mapContinuation(lines, node, escape, bomLen);
  let logical = node.original.slice(node.cmd.length);
  let lead = 0;
  while (lead < logical.length && (logical[lead] === " " || logical[lead] === "\t")) lead++;
  logical = logical.slice(lead);
  const { argsStart, args } = argsOf(logical, node);
  const keyword = node.keyword;
  const ins: Instruction = {
    keyword,
    keywordRaw: node.cmd,
    line: node.range.start.line,
    column: node.range.start.column,
    endLine: node.range.end.line,
    offset: node.range.start.offset,
    end: node.range.end.offset,
    logical,
    argsStart,
    args,
    flags: flagsOf(node, logical),
    json: node.json && JSON_FORM.has(keyword) ? node.args : null,
    heredocs: [],
    comments: [],
    innerComments: m.innerComments,
    emptyContinuationLines: m.emptyContinuationLines,
    index: 0,
    segs: m.segs,
    node,
  };
  const t = typed.get(node);
  if (t) ins.typed = t;
  if (node.sub) {
    // the trigger: its logical line starts after `ONBUILD` and the trigger word's leading space
    const at = argsStart;
    let ws = at + node.sub.cmd.length;
    while (ws < logical.length && (logical[ws] === " " || logical[ws] === "\t")) ws++;
    const subLogical = logical.slice(ws);
    const sa = argsOf(subLogical, node.sub);
    const tp = positionAt(ins, at);
    const sub: Instruction = {
      ...ins,
      keyword: node.sub.keyword,
      keywordRaw: node.sub.cmd,
      line: tp.line,
      column: tp.column,
      offset: tp.offset,
      logical: subLogical,
      argsStart: sa.argsStart,
      args: sa.args,
      flags: flagsOf(node.sub, subLogical),
      json: node.sub.json && JSON_FORM.has(node.sub.keyword) ? node.sub.args : null,
      heredocs: [],
      innerComments: [],
      emptyContinuationLines: [],
      segs: shiftSegs(ins.segs, ws),
      node: node.sub,
    };
    delete sub.typed;
    if (t?.kind === "ONBUILD" && t.trigger) sub.typed = t.trigger;
    const marks = heredocMarks(sub.logical, sub.argsStart, escape);
    sub.heredocs = node.heredocs.map((h, i) => toHeredoc(h, marks[i]));
    ins.heredocs = sub.heredocs;
    ins.trigger = sub;
  } else if (node.heredocs.length) {
    const marks = heredocMarks(logical, argsStart, escape);
    ins.heredocs = node.heredocs.map((h, i) => toHeredoc(h, marks[i]));
  }
  return ins;
}

function shiftSegs(segs: Segment[], by: number): Segment[] {
  // Re-base the mapping so that logical offset 0 of the sub-instruction is `by` of the parent.
  const out: Segment[] = [];
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k]!;
    const nextStart = k + 1 < segs.length ? segs[k + 1]!.logical : Infinity;
    if (nextStart <= by) continue;
    if (s.logical <= by) {
      const d = by - s.logical;
      out.push({ logical: 0, offset: s.offset + d, line: s.line, column: s.column + d });
    } else out.push({ ...s, logical: s.logical - by });
  }
  return out;
}

export interface Word {
  /** Value with quotes removed and escapes applied. */
  value: string;
  raw: string;
  /** Offsets relative to the string that was split. */
  start: number;
  end: number;
}

function readWord(s: string, p: number, escape: string): { value: string; end: number } {
  let v = "";
  let q: string | null = null;
  let k = p;
  for (; k < s.length; k++) {
    const c = s[k]!;
    if (!q && (c === " " || c === "\t")) break;
    if (c === escape && q !== "'" && k + 1 < s.length) {
      const n = s[k + 1]!;
      if (q === '"' && n !== '"' && n !== escape && n !== "$") v += c;
      v += n;
      k++;
      continue;
    }
    if (q) {
      if (c === q) q = null;
      else v += c;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      continue;
    }
    v += c;
  }
  return { value: v, end: k };
}

const wordCache = new Map<string, Word[]>();

/**
 * Where the words of an argument text sit (offsets, raw text), for rules that report on or fix one
 * word (a port, `AS`, a key=value pair). Values come from the shared typed instructions; this only
 * places them. Memoised, do not mutate.
 */
export function splitWords(s: string, escape = "\\"): Word[] {
  const key = escape + s;
  let hit = wordCache.get(key);
  if (!hit) {
    if (wordCache.size > 20000) wordCache.clear();
    wordCache.set(key, (hit = splitWordsUncached(s, escape)));
  }
  return hit;
}

function splitWordsUncached(s: string, escape: string): Word[] {
  const out: Word[] = [];
  let p = 0;
  while (p < s.length) {
    while (p < s.length && (s[p] === " " || s[p] === "\t")) p++;
    if (p >= s.length) break;
    const w = readWord(s, p, escape);
    out.push({ value: w.value, raw: s.slice(p, w.end), start: p, end: w.end });
    p = w.end;
  }
  return out;
}

export function flagValue(ins: Instruction, name: string): string | null | undefined {
  const f = ins.flags.find((x) => x.name === name);
  return f ? f.value : undefined;
}

const rawLexers = new Map<string, ShellLex>();
/** A typed value as rules read it: quotes removed and escapes applied, `$VAR` left as written. */
export function literal(word: string, escape = "\\"): string {
  if (!/["'$\\`]/.test(word)) return word;
  let lex = rawLexers.get(escape);
  if (!lex) rawLexers.set(escape, (lex = new ShellLex(escape, { skipUnsetEnv: true })));
  try {
    return lex.processWord(word);
  } catch {
    return word;
  }
}

/**
 * The argument words of an instruction as the shared parser split them (exec form: the JSON
 * strings), quotes removed: e.g. a COPY's sources and destination (heredoc markers included).
 */
export function argWords(ins: Instruction, escape = "\\"): string[] {
  if (ins.json) return ins.json;
  return ins.node.args.map((a) => literal(a, escape));
}
