import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3065",
  level: "warning",
  source: "hadolint",
  description: "`FROM --platform=$TARGETPLATFORM` is redundant: it is the default.",
  example: "FROM --platform=$TARGETPLATFORM debian:12",
  twins: ["RedundantTargetPlatform"],
  check(ctx, report) {
    for (const st of ctx.stages) {
      if (st.platform === "$TARGETPLATFORM" || st.platform === "${TARGETPLATFORM}") report({ ins: st.from });
    }
  },
};
