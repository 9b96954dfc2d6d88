import type { Rule } from "../rule.js";
import type { Stage } from "../model.js";

export const rule: Rule = {
  id: "DL3057",
  level: "ignore",
  source: "hadolint",
  description: "`HEALTHCHECK` instruction missing.",
  example: "FROM debian:12 (no HEALTHCHECK)",
  note: "Off by default. Checked on the last stage and the stages it builds on.",
  check(ctx, report) {
    const last = ctx.stages[ctx.stages.length - 1];
    if (!last) return;
    for (let s: Stage | undefined = last; s; s = s.base) {
      if (s.instructions.some((i) => i.keyword === "HEALTHCHECK")) return;
    }
    report({ ins: last.from });
  },
};
