import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3023",
  level: "error",
  source: "hadolint",
  description: "`COPY --from` cannot reference its own `FROM` alias",
  example: "FROM x AS a then COPY --from=a / /",
  check(ctx, report) {
    for (const st of ctx.stages) {
      for (const ins of st.instructions) {
        if (ins.keyword !== "COPY") continue;
        const from = ins.flags.find((f) => f.name === "from")?.value;
        if (!from) continue;
        const v = ctx.expand(from, ctx.scopeAt(ins)) ?? from;
        if ((st.name && st.name.toLowerCase() === v.toLowerCase()) || v === String(st.index)) report({ ins });
      }
    }
  },
};
