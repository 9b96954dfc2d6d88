import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "RedundantTargetPlatform",
  level: "warning",
  source: "buildkit",
  description:
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
  example: "FROM --platform=$TARGETPLATFORM debian:12",
  twins: ["DL3065"],
  check(ctx, report) {
    for (const st of ctx.stages) {
      if (st.platform === "$TARGETPLATFORM" || st.platform === "${TARGETPLATFORM}") report({ ins: st.from });
    }
  },
};
