import type { Finding } from "../finding.js";

export interface FormatOptions {
  /** Source text per file name, for code frames (tty). */
  sources?: Map<string, string> | Record<string, string>;
  /** ANSI colours (tty). Default: false; the CLI passes `stream.isTTY`. */
  color?: boolean;
  /** Tool version written into sarif/junit. */
  version?: string;
  /** Clock for junit's run id/timestamp (tests pass a fixed date). */
  now?: Date;
  /** Rule descriptions and links for sarif's rule table. */
  rules?: (code: string) => { description?: string; url?: string } | undefined;
  /** Files that were linted, so formats with per-file sections (junit, checkstyle) list clean files too. */
  files?: string[];
}

export type Formatter = (findings: Finding[], options: FormatOptions) => string;

export function sourceOf(options: FormatOptions, file: string): string | undefined {
  const s = options.sources;
  if (!s) return undefined;
  if (s instanceof Map) return s.get(file);
  return Object.prototype.hasOwnProperty.call(s, file) ? s[file] : undefined;
}

/** Findings grouped by file, files in first-seen order (plus `options.files`). */
export function byFile(findings: Finding[], files: string[] = []): Map<string, Finding[]> {
  const m = new Map<string, Finding[]>();
  for (const f of files) m.set(f, []);
  for (const f of findings) {
    let l = m.get(f.file);
    if (!l) m.set(f.file, (l = []));
    l.push(f);
  }
  return m;
}

/** XML text/attribute escaping; characters XML 1.0 cannot carry are dropped. */
export function xmlEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "'") out += "&apos;";
    else if (c === 0x9 || c === 0xa || c === 0xd) out += `&#${c};`;
    else if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) continue;
    else out += ch;
  }
  return out;
}
