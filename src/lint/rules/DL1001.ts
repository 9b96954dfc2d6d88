import type { Rule } from "../rule.js";

const PRAGMA = /^hadolint\s+(?:(?:global|stage)\s+)?ignore\s*=/;

export const rule: Rule = {
  id: "DL1001",
  level: "ignore",
  source: "hadolint",
  description: "Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`.",
  example: "# hadolint ignore=DL3006",
  note: "Off by default; enable it (override) to forbid pragmas in CI.",
  check(ctx, report) {
    for (const c of ctx.src.comments) if (PRAGMA.test(c.text)) report({ line: c.line, column: 1 });
  },
};
