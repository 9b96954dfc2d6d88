/** BuildKit's S-expression dump of a parse (the format of BuildKit's parser test results). */
import { goQuote } from "./text.js";
import type { Node, ParseResult } from "./types.js";

/** One node as BuildKit's `Node.Dump()` prints it: `run ["--mount=…"] "apk add curl"`. */
export function dumpNode(node: Node): string {
  let s = node.cmd.toLowerCase();
  if (node.flags.length > 0) s += " [" + node.flags.map(goQuote).join(" ") + "]";
  if (node.sub) s += " (" + dumpNode(node.sub) + ")";
  for (const a of node.args) s += " " + goQuote(a);
  return s.trim();
}

/** The whole file: one `(…)` line per instruction, or `ERROR: <message>` when parsing failed. */
export function dumpDockerfile(result: ParseResult): string {
  if (result.errors.length > 0) return "ERROR: " + result.errors[0].message;
  return result.nodes.map((n) => "(" + dumpNode(n) + ")").join("\n");
}
