/**
 * Small text helpers with Go's semantics, so the parser treats whitespace and quoting exactly as
 * BuildKit (written in Go) does.
 */

/** Go's `unicode.IsSpace` for one UTF-16 code unit (no astral code point is a space). */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  if (c === 0x85 || c === 0xa0) return true;
  if (c < 0x1680) return false;
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Go's `strings.TrimSpace`. */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftSpace(s: string): string {
  let a = 0;
  while (a < s.length && isSpace(s.charCodeAt(a))) a++;
  return a === 0 ? s : s.slice(a);
}

/** BuildKit's `reWhitespace` class: `[\t\v\f\r ]`. */
export function isTokenSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/**
 * `reWhitespace.Split(s, n)` as Go's regexp.Split does it (n = -1: all pieces). Linear scan,
 * no regular expression.
 */
export function splitTokenSpace(s: string, n: number): string[] {
  if (n === 0) return [];
  if (s.length === 0) return [""];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  let i = 0;
  while (i < s.length) {
    if (!isTokenSpace(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < s.length && isTokenSpace(s.charCodeAt(j))) j++;
    if (n > 0 && out.length === n - 1) break;
    end = i;
    out.push(s.slice(beg, end));
    beg = j;
    i = j;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Go's `strconv.Quote`: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c < 0x80 || c === 0x7f) {
      switch (c) {
        case 7:
          out += "\\a";
          break;
        case 8:
          out += "\\b";
          break;
        case 12:
          out += "\\f";
          break;
        case 10:
          out += "\\n";
          break;
        case 13:
          out += "\\r";
          break;
        case 9:
          out += "\\t";
          break;
        case 11:
          out += "\\v";
          break;
        default:
          out += "\\x" + hex(c, 2);
      }
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd";
    else if (PRINTABLE.test(ch)) out += ch;
    else if (c < 0x10000) out += "\\u" + hex(c, 4);
    else out += "\\U" + hex(c, 8);
  }
  return out + '"';
}
