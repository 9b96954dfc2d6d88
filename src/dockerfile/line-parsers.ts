/**
 * BuildKit's per-instruction line parsers (`frontend/dockerfile/parser/line_parsers.go`,
 * `split_command.go`), reimplemented: how the text after a keyword becomes arguments.
 */
import { goQuote, isSpace, splitTokenSpace, trimLeftSpace, trimSpace } from "./text.js";

export class LineParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LineParseError";
  }
}

export const NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only";

/** What a line parser returns: null = no arguments at all. */
export interface LineParse {
  args: string[] | null;
  json: boolean;
  /** ONBUILD: the trigger's text. */
  subLine?: string;
}

/** Split a logical line into keyword, leading flags and the rest. */
export function splitCommand(line: string): { cmd: string; flags: string[]; rest: string } {
  const parts = splitTokenSpace(trimSpace(line), 2);
  const cmd = parts[0];
  let flags: string[] = [];
  let rest = "";
  if (parts.length === 2) {
    const r = extractBuilderFlags(parts[1]);
    rest = r.rest;
    flags = r.flags;
  }
  return { cmd, flags, rest: trimSpace(rest) };
}

const IN_SPACES = 0;
const IN_WORD = 1;
const IN_QUOTE = 2;

/** Leading `--word` flags; quotes and `\` are removed from them, as BuildKit does. */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase = IN_SPACES;
  let word = "";
  let quote = "";
  let blankOK = false;
  let ch = "";
  const n = line.length;
  for (let pos = 0; pos <= n; pos++) {
    if (pos !== n) ch = line[pos];
    if (phase === IN_SPACES) {
      if (pos === n) break;
      if (isSpace(ch.charCodeAt(0))) continue;
      if (ch !== "-" || pos + 1 === n || line[pos + 1] !== "-")
        return { rest: line.slice(pos), flags: words };
      phase = IN_WORD;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === n) {
      if (word !== "--" && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isSpace(ch.charCodeAt(0))) {
        phase = IN_SPACES;
        if (word === "--") return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === n) continue;
        pos++;
        ch = line[pos];
      }
      word += ch;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) {
      phase = IN_WORD;
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === n) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      ch = line[pos];
    }
    word += ch;
  }
  return { rest: "", flags: words };
}

/** Words of an ENV/LABEL/ARG line: split on spaces outside quotes; quotes and escapes are kept. */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase = IN_SPACES;
  let word = "";
  let quote = "";
  let blankOK = false;
  let ch = "";
  const n = rest.length;
  for (let pos = 0; pos <= n; pos++) {
    if (pos !== n) ch = rest[pos];
    if (phase === IN_SPACES) {
      if (pos === n) break;
      if (isSpace(ch.charCodeAt(0))) continue;
      phase = IN_WORD;
    }
    if ((phase === IN_WORD || phase === IN_QUOTE) && pos === n) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === IN_WORD) {
      if (isSpace(ch.charCodeAt(0))) {
        phase = IN_SPACES;
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = IN_QUOTE;
      }
      if (ch === escape) {
        if (pos + 1 === n) continue;
        word += ch;
        pos++;
        ch = rest[pos];
      }
      word += ch;
      continue;
    }
    // IN_QUOTE
    if (ch === quote) phase = IN_WORD;
    if (ch === escape && quote !== "'") {
      if (pos + 1 === n) {
        phase = IN_WORD;
        continue;
      }
      pos++;
      word += ch;
      ch = rest[pos];
    }
    word += ch;
  }
  return words;
}

function parseNameVal(rest: string, key: string, escape: string): LineParse {
  const words = parseWords(rest, escape);
  if (words.length === 0) return { args: null, json: false };
  if (!words[0].includes("=")) {
    const parts = splitTokenSpace(rest, 2);
    if (parts.length < 2) throw new LineParseError(`${key} must have two arguments`);
    return { args: [parts[0], parts[1], ""], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq < 0) {
      throw new LineParseError(
        `Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`,
      );
    }
    args.push(w.slice(0, eq), w.slice(eq + 1), "=");
  }
  return { args, json: false };
}

function parseStringsWhitespaceDelimited(rest: string): LineParse {
  if (rest === "") return { args: null, json: false };
  return { args: splitTokenSpace(rest, -1), json: false };
}

function parseString(rest: string): LineParse {
  return { args: rest === "" ? null : [rest], json: false };
}

const NOT_JSON = Symbol("not json");

/** The JSON array form, or NOT_JSON when the text is not a JSON array (→ shell form). */
export function parseJSONArray(rest: string): string[] | typeof NOT_JSON {
  const t = trimLeftSpace(rest);
  if (t.charCodeAt(0) !== 0x5b /* [ */) return NOT_JSON;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(v)) return NOT_JSON;
  for (const s of v) if (typeof s !== "string") throw new LineParseError(NOT_STRING_ARRAY);
  return v as string[];
}

function parseMaybeJSON(rest: string): LineParse {
  if (rest === "") return { args: null, json: false };
  const j = parseJSONArray(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return { args: [rest], json: false };
}

function parseMaybeJSONToList(rest: string): LineParse {
  const j = parseJSONArray(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return parseStringsWhitespaceDelimited(rest);
}

function parseHealthConfig(rest: string): LineParse {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest.charCodeAt(sep))) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest.charCodeAt(next))) next++;
  if (sep === 0) return { args: null, json: false };
  const cmd = parseMaybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...(cmd.args ?? [])], json: cmd.json };
}

/** Dispatch by lower-cased keyword; unknown instructions keep a single empty argument, like BuildKit. */
export function parseLine(keywordLower: string, rest: string, escape: string): LineParse {
  switch (keywordLower) {
    case "add":
    case "copy":
    case "volume":
      return parseMaybeJSONToList(rest);
    case "arg": {
      const w = parseWords(rest, escape);
      return { args: w.length === 0 ? null : w, json: false };
    }
    case "cmd":
    case "entrypoint":
    case "run":
    case "shell":
      return parseMaybeJSON(rest);
    case "env":
      return parseNameVal(rest, "ENV", escape);
    case "label":
      return parseNameVal(rest, "LABEL", escape);
    case "expose":
    case "from":
      return parseStringsWhitespaceDelimited(rest);
    case "healthcheck":
      return parseHealthConfig(rest);
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      return parseString(rest);
    case "onbuild":
      return rest === "" ? { args: null, json: false } : { args: [], json: false, subLine: rest };
    default:
      return { args: [""], json: false };
  }
}
