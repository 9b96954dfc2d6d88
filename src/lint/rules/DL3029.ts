import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3029",
  level: "warning",
  source: "hadolint",
  description: "Do not use --platform flag with FROM",
  example: "FROM --platform=linux/amd64 debian:12",
  twins: ["FromPlatformFlagConstDisallowed"],
  note: "A variable value (--platform=$BUILDPLATFORM) is not reported.",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const p = st.platform;
      if (p === undefined) continue;
      if (p !== null && p.includes("$")) continue;
      report({ ins: st.from });
    }
  },
};
