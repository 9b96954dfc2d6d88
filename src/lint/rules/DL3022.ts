import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3022",
  level: "warning",
  source: "hadolint",
  description: "`COPY --from` should reference a previously defined `FROM` alias",
  example: "COPY --from=build /app /app (no stage named build)",
  check(ctx, report) {
    for (const st of ctx.stages) {
      for (const ins of st.instructions) {
        if (ins.keyword !== "COPY") continue;
        const from = ins.flags.find((f) => f.name === "from")?.value;
        if (!from) continue;
        const v = ctx.expand(from, ctx.scopeAt(ins));
        if (v === undefined || v.includes(":") || v.includes("@")) continue;
        if (/^\d+$/.test(v) && Number(v) < st.index) continue;
        if (/^\d+$/.test(v) && Number(v) === st.index) continue; // DL3023
        if (st.name && st.name.toLowerCase() === v.toLowerCase()) continue; // DL3023
        if (ctx.stageByName(v, st.index)) continue;
        report({ ins });
      }
    }
  },
};
