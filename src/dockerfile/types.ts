/** The parser's output types. Lines and columns are 1-based; offsets are 0-based string indexes. */

export interface Position {
  /** 1-based physical line. */
  line: number;
  /** 1-based column in UTF-16 code units (a BOM on line 1 is not counted). */
  column: number;
  /** 0-based index into `ParseResult.source`. */
  offset: number;
}

/** `end` is exclusive: the position just past the last character. */
export interface Range {
  start: Position;
  end: Position;
}

export interface Heredoc {
  /** The terminator word, quotes removed (`EOF` for `<<"EOF"`). */
  name: string;
  /** False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no variable expansion. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body by the consumer (see `chompHeredoc`). */
  chomp: boolean;
  /** The `3` in `3<<EOF`; 0 when absent. */
  fileDescriptor: number;
  /** The body exactly as written, line endings included, terminator line excluded. */
  content: string;
  /** From the first body line to the end of the terminator line. */
  range: Range;
}

/** One instruction, as BuildKit's parser produces it, with positions and the source text. */
export interface Node {
  /** The keyword upper-cased (`RUN`); unknown words are kept (upper-cased) too. */
  keyword: string;
  /** The keyword exactly as written (`run`, `Copy`). */
  cmd: string;
  /** Leading `--flags` as BuildKit extracts them (quotes removed): `--mount=type=cache,target=/x`. */
  flags: string[];
  /**
   * Arguments after BuildKit's per-instruction line parser: exec form → the JSON strings; RUN/CMD/
   * ENTRYPOINT/SHELL shell form → one string; ENV/LABEL → key, value, separator triples (separator
   * `=` or `""` for the legacy `KEY value` form); HEALTHCHECK → type then command; ONBUILD → [].
   */
  args: string[];
  /** Exec (JSON array) form. */
  json: boolean;
  /** Heredocs in the order their bodies appear (for ONBUILD they belong to the trigger). */
  heredocs: Heredoc[];
  /** ONBUILD's trigger instruction. */
  sub?: Node;
  /** The logical line: continuation lines joined, comments and line breaks removed (BuildKit's `Original`). */
  original: string;
  /** The text after the keyword and flags, trimmed: what the line parser saw. */
  rest: string;
  /** The exact source slice of the instruction, from its first character to the end of its last line
   * (continuation lines, interleaved comments and heredoc bodies included). */
  raw: string;
  range: Range;
  /** Comment lines just before the instruction (text after `#`, trimmed). */
  prevComment: string[];
  /** Set when the line parser rejected the instruction (the error is also in `ParseResult.errors`). */
  error?: string;
}

export interface Directive {
  /** `syntax`, `escape` or `check` (lower-cased). */
  name: string;
  value: string;
  range: Range;
}

export interface ParseWarning {
  message: string;
  detail?: string;
  url?: string;
  range: Range;
}

export interface ParseError {
  message: string;
  range: Range;
}

export interface ParseResult {
  file?: string;
  /** The decoded source text (as given, BOM included if present). */
  source: string;
  /** Parser directives found at the top of the file. */
  directives: Directive[];
  /** The effective escape character: `\` or a backtick. */
  escape: string;
  nodes: Node[];
  warnings: ParseWarning[];
  /** Errors as BuildKit reports them; BuildKit stops at the first, we record it and go on when we can. */
  errors: ParseError[];
  /** Number of physical lines. */
  lineCount: number;
}

export interface ParseOptions {
  /** File name carried into the result (for messages). */
  file?: string;
}
