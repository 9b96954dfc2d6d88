import type { Finding } from "../finding.js";
import { sourceOf, type FormatOptions, type Formatter } from "./types.js";

const RESET = "\x1b[0m";
const BOLD = "\x1b[1m";
const DIM = "\x1b[2m";
const LEVEL_COLOR: Record<Finding["level"], string> = {
  error: "\x1b[31m",
  warning: "\x1b[33m",
  info: "\x1b[36m",
  style: "\x1b[35m",
};

/** Lines of a source text, split once per text. */
const linesCache = new WeakMap<object, Map<string, string[]>>();
function linesOf(options: FormatOptions, file: string): string[] | undefined {
  const key = (options.sources ?? options) as object;
  let m = linesCache.get(key);
  if (!m) linesCache.set(key, (m = new Map()));
  let l = m.get(file);
  if (!l) {
    const src = sourceOf(options, file);
    if (src === undefined) return undefined;
    l = src
      .replace(/^\ufeff/, "")
      .split("\n")
      .map((s) => s.replace(/\r$/, ""));
    m.set(file, l);
  }
  return l;
}

const MAX_FRAME_LINES = 4;

function frame(f: Finding, lines: string[], paint: (code: string, s: string) => string): string {
  const first = f.line;
  if (first < 1 || first > lines.length) return "";
  const last = Math.min(Math.max(f.endLine ?? first, first), lines.length, first + MAX_FRAME_LINES - 1);
  const from = Math.max(1, first - 1);
  const width = String(last).length;
  let out = "";
  for (let n = from; n <= last; n++) {
    const text = lines[n - 1];
    const marked = n >= first && n <= last;
    const gutter = `${marked ? ">" : " "} ${String(n).padStart(width)} | `;
    out += paint(marked ? BOLD : DIM, gutter) + text + "\n";
    if (n === first) {
      const col = Math.min(Math.max(f.column, 1), text.length + 1);
      let end = text.length + 1;
      if ((f.endLine ?? first) === first && f.endColumn !== undefined && f.endColumn > col) {
        end = Math.min(f.endColumn, text.length + 1);
      }
      if (end <= col) end = col + 1;
      // keep tabs so the caret lines up under tab-indented text
      const lead = text.slice(0, col - 1).replace(/[^\t]/g, " ");
      out +=
        paint(DIM, `  ${" ".repeat(width)} | `) +
        lead +
        paint(LEVEL_COLOR[f.level] + BOLD, "^".repeat(end - col)) +
        "\n";
    }
  }
  if ((f.endLine ?? first) > last) out += paint(DIM, `  ${" ".repeat(width)} | …`) + "\n";
  return out;
}

/**
 * The default human format: `FILE:LINE:COL CODE level: message`, then a code frame of the offending
 * line(s) with a caret when the source is known, and the rule's link. Colour only when asked.
 */
export const formatTty: Formatter = (findings, options) => {
  const color = !!options.color;
  const paint = (code: string, s: string) => (color ? code + s + RESET : s);
  let out = "";
  for (const f of findings) {
    out +=
      paint(BOLD, `${f.file}:${f.line}:${f.column}`) +
      " " +
      paint(BOLD, f.code) +
      " " +
      paint(LEVEL_COLOR[f.level], f.level) +
      ": " +
      f.message +
      "\n";
    const lines = linesOf(options, f.file);
    if (lines) out += frame(f, lines, paint);
    if (f.url) out += paint(DIM, `  ${f.url}`) + "\n";
    if (lines) out += "\n";
  }
  return out;
};
