import type { Formatter } from "./types.js";

/** GNU error format (https://www.gnu.org/prep/standards/html_node/Errors.html): `dockyard:FILE:LINE:COLUMN: CODE LEVEL: MESSAGE`. */
export const formatGnu: Formatter = (findings) =>
  findings
    .map((f) => `dockyard:${f.file}:${f.line}:${f.column}: ${f.code} ${f.level}: ${oneLine(f.message)}\n`)
    .join("");

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, " ");
}
