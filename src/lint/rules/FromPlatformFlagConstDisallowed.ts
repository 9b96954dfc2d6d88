import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "FromPlatformFlagConstDisallowed",
  level: "warning",
  source: "buildkit",
  description: "FROM --platform flag should not use a constant value",
  example: "FROM --platform=linux/amd64 debian:12",
  twins: ["DL3029"],
  note: "Allowed when the stage name contains the platform's os or arch (e.g. AS build-amd64).",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const p = st.platform;
      if (!p || p.includes("$")) continue;
      const parts = p.toLowerCase().split("/");
      if (st.name && parts.some((x) => x && st.name!.toLowerCase().includes(x))) continue;
      report({ ins: st.from, message: `FROM --platform flag should not use constant value "${p}"` });
    }
  },
};
