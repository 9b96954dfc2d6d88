import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DuplicateStageName",
  level: "warning",
  source: "buildkit",
  description: "Stage names should be unique",
  example: "FROM a AS x then FROM b AS x",
  twins: ["DL3024"],
  check(ctx, report) {
    const seen = new Set<string>();
    for (const st of ctx.stages) {
      if (!st.name) continue;
      const n = st.name.toLowerCase();
      if (seen.has(n))
        report({ ins: st.from, message: `Duplicate stage name "${n}", stage names should be unique` });
      seen.add(n);
    }
  },
};
