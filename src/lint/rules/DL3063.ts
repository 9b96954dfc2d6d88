import type { Rule } from "../rule.js";

export const RESERVED_STAGE_NAMES = ["scratch", "context"];

export const rule: Rule = {
  id: "DL3063",
  level: "warning",
  source: "hadolint",
  description: "Stage name is a reserved word; do not name a stage `scratch` or `context`.",
  example: "FROM debian:12 AS scratch",
  twins: ["ReservedStageName"],
  check(ctx, report) {
    for (const st of ctx.stages) {
      if (st.name && RESERVED_STAGE_NAMES.includes(st.name.toLowerCase())) report({ ins: st.from });
    }
  },
};
