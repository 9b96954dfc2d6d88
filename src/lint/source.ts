/**
 * The linter's view of a Dockerfile: instructions with exact original positions (line, column,
 * byte offsets for fixes), flags, JSON vs shell form, heredocs, preceding comments, directives,
 * ONBUILD triggers, and BuildKit-style parse errors (reported as DL1000, never thrown).
 *
 * It follows BuildKit's parser: the escape directive, line continuations (comment lines and
 * empty lines inside a continuation are dropped; empty ones are reported), heredocs on
 * RUN/COPY/ADD (`<<EOF`, `<<-EOF`, quoted delimiters), flags before the arguments.
 */

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
}

const KNOWN = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** Flags BuildKit accepts per instruction (dockerfile frontend 1.x, labs included). */
const ALLOWED_FLAGS: Record<string, string[]> = {
  FROM: ["platform"],
  RUN: ["mount", "network", "security", "device"],
  COPY: ["from", "chown", "chmod", "link", "parents", "exclude"],
  ADD: ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"],
  HEALTHCHECK: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

const JSON_FORM = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "VOLUME", "COPY", "ADD"]);
const HEREDOC_FORM = new Set(["RUN", "COPY", "ADD"]);
const NEEDS_ARGS = new Set([
  "ADD",
  "ARG",
  "COPY",
  "ENV",
  "EXPOSE",
  "FROM",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
  "HEALTHCHECK",
]);

const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

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

interface Line {
  text: string; // without EOL
  offset: number;
  no: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let no = 1;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) {
      if (start < text.length) lines.push({ text: stripCR(text.slice(start)), offset: start, no });
      break;
    }
    lines.push({ text: stripCR(text.slice(start, nl)), offset: start, no });
    start = nl + 1;
    no++;
  }
  return lines;
}

function stripCR(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

function isBlank(s: string): boolean {
  return s.trim() === "";
}

function isCommentLine(s: string): boolean {
  return s.trimStart().startsWith("#");
}

function toComment(l: Line): Comment {
  const i = l.text.indexOf("#");
  return { text: l.text.slice(i + 1).trim(), line: l.no, offset: l.offset + i };
}

/** Whether `s` (trimmed of trailing whitespace) ends with the escape character (continuation). */
function continues(s: string, escape: string): boolean {
  const t = s.replace(/[ \t]+$/, "");
  return t.endsWith(escape);
}

export function parseDockerfile(text: string): DockerfileSource {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = splitLines(text);
  const eol: "\n" | "\r\n" = /\r\n/.test(text.slice(0, 4096)) ? "\r\n" : "\n";
  const directives: Directive[] = [];
  const comments: Comment[] = [];
  const errors: ParseError[] = [];
  const instructions: Instruction[] = [];
  let escape = "\\";
  let i = 0;
  // Directive block: only at the very top, one directive per comment line, stops at anything else.
  const seenDirective = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!.text.trim());
    if (!m) break;
    const name = m[1]!.toLowerCase();
    if (seenDirective.has(name)) break;
    seenDirective.add(name);
    directives.push({ name, value: m[2]!, line: lines[i]!.no });
    comments.push(toComment(lines[i]!));
    if (name === "escape") {
      if (m[2] === "`" || m[2] === "\\") escape = m[2];
      else
        errors.push({
          message: `invalid escape token '${m[2]}' does not match ` + "` or \\",
          line: lines[i]!.no,
          column: 1,
        });
    }
  }
  const directiveEnd = i > 0 ? lines[i - 1]!.no : 0;
  let pending: Comment[] = [];
  while (i < lines.length) {
    const l = lines[i]!;
    if (isBlank(l.text)) {
      pending = [];
      i++;
      continue;
    }
    if (isCommentLine(l.text)) {
      const c = toComment(l);
      comments.push(c);
      pending.push(c);
      i++;
      continue;
    }
    const r = readInstruction(lines, i, escape, errors);
    i = r.next;
    const ins = r.ins;
    ins.comments = pending;
    ins.index = instructions.length;
    pending = [];
    comments.push(...ins.innerComments);
    instructions.push(ins);
  }
  if (instructions.length === 0 && errors.length === 0) {
    errors.push({ message: "the Dockerfile has no instructions", line: 1, column: 1 });
  }
  return { text, escape, directives, directiveEnd, instructions, comments, errors, eol };
}

function readInstruction(
  lines: Line[],
  start: number,
  escape: string,
  errors: ParseError[],
): { ins: Instruction; next: number } {
  const first = lines[start]!;
  const lead = first.text.length - first.text.trimStart().length;
  const m = /^(\S+)/.exec(first.text.slice(lead))!;
  const keywordRaw = m[1]!;
  const segs: Segment[] = [];
  const innerComments: Comment[] = [];
  const emptyContinuationLines: number[] = [];
  let logical = "";
  // The first line's part after the keyword (leading whitespace dropped).
  const afterKw = lead + keywordRaw.length;
  const rest = first.text.slice(afterKw);
  const ws = rest.length - rest.trimStart().length;
  let piece = rest.slice(ws);
  let pieceCol = afterKw + ws + 1;
  let pieceOff = first.offset + afterKw + ws;
  let lineNo = first.no;
  let j = start;
  let endOffset = first.offset + first.text.length;
  for (;;) {
    const cont = continues(piece, escape);
    let keep = piece;
    if (cont) {
      keep = piece.replace(/[ \t]+$/, "");
      keep = keep.slice(0, -1);
    }
    segs.push({ logical: logical.length, offset: pieceOff, line: lineNo, column: pieceCol });
    logical += keep;
    if (!cont) break;
    // Continuation: skip comment lines; empty lines are dropped (and reported).
    let k = j + 1;
    let emptyHere = false;
    while (k < lines.length) {
      const t = lines[k]!.text;
      if (isBlank(t)) {
        emptyContinuationLines.push(lines[k]!.no);
        emptyHere = true;
        k++;
        continue;
      }
      if (isCommentLine(t)) {
        innerComments.push(toComment(lines[k]!));
        k++;
        continue;
      }
      break;
    }
    void emptyHere;
    if (k >= lines.length) {
      j = k - 1;
      break;
    }
    j = k;
    const nl = lines[j]!;
    piece = nl.text;
    pieceCol = 1;
    pieceOff = nl.offset;
    lineNo = nl.no;
    endOffset = nl.offset + nl.text.length;
  }
  const keyword = keywordRaw.toUpperCase();
  const ins: Instruction = {
    keyword,
    keywordRaw,
    line: first.no,
    column: lead + 1,
    endLine: lines[j]!.no,
    offset: first.offset + lead,
    end: endOffset,
    logical,
    argsStart: 0,
    args: "",
    flags: [],
    json: null,
    heredocs: [],
    comments: [],
    innerComments,
    emptyContinuationLines,
    index: 0,
    segs,
  };
  let next = j + 1;
  analyseArgs(ins, escape, errors);
  // Heredocs: bodies follow the instruction's last line.
  const hdKw = ins.keyword === "ONBUILD" && ins.trigger ? ins.trigger.keyword : ins.keyword;
  if (HEREDOC_FORM.has(hdKw) && ins.json === null) {
    const target = ins.keyword === "ONBUILD" && ins.trigger ? ins.trigger : ins;
    const marks = findHeredocs(target.logical, target.argsStart, escape);
    for (const mk of marks) {
      const bodyLines: string[] = [];
      const indent: number[] = [];
      let k = next;
      let closed = false;
      for (; k < lines.length; k++) {
        const raw = lines[k]!.text;
        const t = mk.chomp ? raw.replace(/^\t+/, "") : raw;
        if (t === mk.name) {
          closed = true;
          break;
        }
        bodyLines.push(t);
        indent.push(raw.length - t.length);
      }
      const bodyLine = next < lines.length ? lines[next]!.no : ins.endLine + 1;
      if (!closed) {
        const p = positionAt(target, mk.start);
        errors.push({
          message: `unterminated heredoc: no line "${mk.name}" closes the heredoc started here`,
          line: p.line,
          column: p.column,
        });
        next = lines.length;
        ins.endLine = lines.length ? lines[lines.length - 1]!.no : ins.endLine;
        ins.end = lines.length
          ? lines[lines.length - 1]!.offset + lines[lines.length - 1]!.text.length
          : ins.end;
      } else {
        ins.endLine = lines[k]!.no;
        ins.end = lines[k]!.offset + lines[k]!.text.length;
        next = k + 1;
      }
      target.heredocs.push({ ...mk, body: bodyLines.join("\n"), bodyLine, indent });
      if (target !== ins) {
        ins.heredocs.push(target.heredocs[target.heredocs.length - 1]!);
        target.endLine = ins.endLine;
        target.end = ins.end;
      }
    }
  }
  return { ins, next };
}

function analyseArgs(ins: Instruction, escape: string, errors: ParseError[]): void {
  const kw = ins.keyword;
  const at = (off: number) => positionAt(ins, off);
  if (!KNOWN.has(kw)) {
    errors.push({ message: `unknown instruction: ${ins.keywordRaw}`, line: ins.line, column: ins.column });
    ins.args = ins.logical.trim();
    return;
  }
  // Flags: leading `--name[=value]` words.
  const s = ins.logical;
  let p = 0;
  for (;;) {
    while (p < s.length && (s[p] === " " || s[p] === "\t")) p++;
    if (!s.startsWith("--", p)) break;
    if (kw === "ONBUILD") break;
    const w = readWord(s, p, escape);
    const body = w.value.slice(2);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    ins.flags.push({ name, value: eq < 0 ? null : body.slice(eq + 1), start: p, end: w.end });
    p = w.end;
  }
  ins.argsStart = p;
  ins.args = s.slice(p).trimEnd();
  const allowed = ALLOWED_FLAGS[kw] ?? [];
  for (const f of ins.flags) {
    if (!allowed.includes(f.name)) {
      const pos = at(f.start);
      errors.push({ message: `unknown flag: --${f.name} on ${kw}`, line: pos.line, column: pos.column });
    }
  }
  if (NEEDS_ARGS.has(kw) && ins.args === "") {
    errors.push({ message: `${kw} requires at least one argument`, line: ins.line, column: ins.column });
    return;
  }
  if (JSON_FORM.has(kw) && ins.args.startsWith("[")) {
    try {
      const v: unknown = JSON.parse(ins.args);
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) ins.json = v as string[];
    } catch {
      // BuildKit falls back to shell form when the JSON does not parse.
    }
  }
  if (kw === "SHELL" && ins.json === null) {
    errors.push({
      message: 'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]',
      line: ins.line,
      column: ins.column,
    });
  }
  if (kw === "ONBUILD") {
    const t = ins.args;
    const m = /^(\S+)/.exec(t);
    if (m) {
      const trig = m[1]!;
      const after = p + trig.length;
      const rest = s.slice(after);
      const ws = rest.length - rest.trimStart().length;
      const sub: Instruction = {
        ...ins,
        keyword: trig.toUpperCase(),
        keywordRaw: trig,
        logical: s.slice(after + ws),
        argsStart: 0,
        args: "",
        flags: [],
        json: null,
        heredocs: [],
        comments: [],
        innerComments: [],
        emptyContinuationLines: [],
        trigger: undefined,
        segs: shiftSegs(ins.segs, after + ws),
      };
      const tp = at(p);
      sub.line = tp.line;
      sub.column = tp.column;
      sub.offset = tp.offset;
      if (sub.keyword === "ONBUILD" || sub.keyword === "FROM" || sub.keyword === "MAINTAINER") {
        // BuildKit rejects these triggers; hadolint reports them as DL3043 (kept as a rule).
        sub.args = sub.logical.trim();
      } else analyseArgs(sub, escape, errors);
      ins.trigger = sub;
    }
    return;
  }
  if (kw === "FROM") {
    const words = splitWords(ins.args, escape);
    if (words.length !== 1 && !(words.length === 3 && words[1]!.value.toLowerCase() === "as")) {
      errors.push({
        message: "FROM requires either one argument, or three: FROM <image> [AS <name>]",
        line: ins.line,
        column: ins.column,
      });
    }
  }
  if (kw === "ENV" || kw === "LABEL") {
    const words = splitWords(ins.args, escape);
    if (words.length > 0 && !words[0]!.raw.includes("=") && words.length < 2) {
      errors.push({ message: `${kw} must have two arguments`, line: ins.line, column: ins.column });
    }
    if (words.length > 0 && words[0]!.raw.includes("=")) {
      for (const w of words) {
        if (!w.raw.includes("=") || w.raw.startsWith("=")) {
          const pos = at(ins.argsStart + w.start);
          errors.push({
            message: `${kw} names can not be blank / key=value pairs expected, got "${w.raw}"`,
            line: pos.line,
            column: pos.column,
          });
          break;
        }
      }
    }
  }
  if (kw === "HEALTHCHECK") {
    const up = ins.args.split(/\s+/)[0]!.toUpperCase();
    if (up !== "NONE" && up !== "CMD") {
      errors.push({
        message: "HEALTHCHECK expects NONE or CMD <command>",
        line: ins.line,
        column: ins.column,
      });
    }
  }
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

function findHeredocs(
  s: string,
  from: number,
  escape: string,
): Array<Omit<Heredoc, "body" | "bodyLine" | "indent">> {
  const out: Array<Omit<Heredoc, "body" | "bodyLine" | "indent">> = [];
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
      const m = /^<<(-?)(["']?)([A-Za-z0-9_][A-Za-z0-9_.-]*)\2/.exec(s.slice(k));
      if (m) {
        out.push({ name: m[3]!, expand: m[2] === "", chomp: m[1] === "-", start: k, end: k + m[0].length });
        k += m[0].length - 1;
      }
    }
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
const valueCache = new Map<string, string[]>();

/** Splits BuildKit-style words (whitespace separated, quotes group and are removed); memoised, do not mutate. */
export function splitWords(s: string, escape = "\\"): Word[] {
  const key = escape + s;
  let hit = wordCache.get(key);
  if (!hit) {
    if (wordCache.size > 20000) wordCache.clear();
    wordCache.set(key, (hit = splitWordsUncached(s, escape)));
  }
  return hit;
}

/** The word values of `s` (memoised, do not mutate). */
export function wordValues(s: string, escape = "\\"): string[] {
  const key = escape + s;
  let hit = valueCache.get(key);
  if (!hit) {
    if (valueCache.size > 20000) valueCache.clear();
    valueCache.set(key, (hit = splitWords(s, escape).map((w) => w.value)));
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

/** Unquotes a BuildKit value (`"a b"` → `a b`, `'x'` → `x`), applying escapes. */
export function unquote(s: string, escape = "\\"): string {
  return splitWords(s, escape)
    .map((w) => w.value)
    .join(" ");
}

export function flagValue(ins: Instruction, name: string): string | null | undefined {
  const f = ins.flags.find((x) => x.name === name);
  return f ? f.value : undefined;
}
