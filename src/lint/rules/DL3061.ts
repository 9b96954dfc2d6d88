import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3061",
  level: "error",
  source: "hadolint",
  description: "Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.",
  example: "RUN echo hi (before any FROM)",
  check(ctx, report) {
    for (const ins of ctx.preamble) if (ins.keyword !== "ARG") report({ ins });
  },
};
