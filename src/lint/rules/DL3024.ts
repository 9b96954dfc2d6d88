import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3024",
  level: "error",
  source: "hadolint",
  description: "FROM aliases (stage names) must be unique",
  example: "FROM a AS x then FROM b AS x",
  twins: ["DuplicateStageName"],
  check(ctx, report) {
    const seen = new Set<string>();
    for (const st of ctx.stages) {
      if (!st.name) continue;
      const n = st.name.toLowerCase();
      if (seen.has(n)) report({ ins: st.from });
      seen.add(n);
    }
  },
};
