import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lint, RULES_BY_ID, type LintOptions } from "../../src/lint/index.js";
import type { Finding } from "../../src/lint/finding.js";

export interface Case {
  df: string;
  /** Expected lines of the rule's findings (exactly), when given. */
  lines?: number[];
  opts?: LintOptions;
  name?: string;
}

/** Findings of one rule run alone (twins do not hide BuildKit checks here). */
export function findingsOf(id: string, df: string, opts: LintOptions = {}): Finding[] {
  const rule = RULES_BY_ID.get(id);
  assert.ok(rule, `rule ${id} exists`);
  const config = { ...opts.config, override: { ...opts.config?.override } };
  // Enable rules that are off by default, so their cases can trigger.
  if (rule.level === "ignore") config.override.info = [...(config.override.info ?? []), id];
  return lint(df, { ...opts, config, rules: [rule] }).findings.filter((f) => f.code === id);
}

/** hadolint-style spec: every `triggers` case reports the rule, no `passes` case does. */
export function ruleCases(
  id: string,
  spec: { triggers: Array<string | Case>; passes: Array<string | Case> },
): void {
  describe(id, () => {
    for (const [i, c0] of spec.triggers.entries()) {
      const c = typeof c0 === "string" ? { df: c0 } : c0;
      it(`triggers: ${c.name ?? `case ${i + 1}`}`, () => {
        const fs = findingsOf(id, c.df, c.opts);
        assert.ok(fs.length > 0, `${id} should trigger on:\n${c.df}`);
        if (c.lines)
          assert.deepEqual(
            fs.map((f) => f.line),
            c.lines,
          );
        for (const f of fs) assert.equal(f.level === undefined, false);
      });
    }
    for (const [i, c0] of spec.passes.entries()) {
      const c = typeof c0 === "string" ? { df: c0 } : c0;
      it(`passes: ${c.name ?? `case ${i + 1}`}`, () => {
        const fs = findingsOf(id, c.df, c.opts);
        assert.deepEqual(fs, [], `${id} should not trigger on:\n${c.df}`);
      });
    }
  });
}
