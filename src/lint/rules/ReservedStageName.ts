import type { Rule } from "../rule.js";
import { RESERVED_STAGE_NAMES } from "./DL3063.js";

export const rule: Rule = {
  id: "ReservedStageName",
  level: "warning",
  source: "buildkit",
  description: "Reserved words should not be used as stage names",
  example: "FROM debian:12 AS context",
  twins: ["DL3063"],
  check(ctx, report) {
    for (const st of ctx.stages) {
      const n = st.name?.toLowerCase();
      if (n && RESERVED_STAGE_NAMES.includes(n)) {
        report({ ins: st.from, message: `Stage name should not use the same name as reserved stage "${n}"` });
      }
    }
  },
};
