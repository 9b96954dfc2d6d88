/** `--fix`: applies the safe fixes of a lint run, preserving every other byte. */
import { type LintOptions } from "./engine.js";
import { lint } from "./lint.js";
import type { Edit } from "./rule.js";

/** Applies non-overlapping edits (later ones that overlap an applied edit are dropped). */
export function applyEdits(text: string, edits: Edit[]): { text: string; applied: number } {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let pos = 0;
  let applied = 0;
  const seen = new Set<string>();
  for (const e of sorted) {
    const key = `${e.start}:${e.end}:${e.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (e.start < pos) continue;
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
    applied++;
  }
  return { text: out + text.slice(pos), applied };
}

/**
 * Lints, applies every available fix, and repeats (a fix can enable another, e.g. casing then
 * MAINTAINER) until nothing changes (at most 5 rounds).
 */
export function fixText(text: string, options: LintOptions = {}): { text: string; applied: number } {
  let cur = text;
  let total = 0;
  for (let round = 0; round < 5; round++) {
    const res = lint(cur, { ...options, shellcheck: false });
    const edits = res.fixes.flatMap((f) => f ?? []);
    if (!edits.length) break;
    const r = applyEdits(cur, edits);
    if (r.applied === 0 || r.text === cur) break;
    cur = r.text;
    total += r.applied;
  }
  return { text: cur, applied: total };
}
