import type { Rule } from "../rule.js";
import { argWords } from "../source.js";

export const rule: Rule = {
  id: "DL3002",
  level: "warning",
  source: "hadolint",
  description: "Last USER should not be root",
  example: "USER root",
  check(ctx, report) {
    for (const stage of ctx.stages) {
      const users = stage.instructions.filter((i) => i.keyword === "USER");
      const last = users[users.length - 1];
      if (!last) continue;
      const raw = argWords(last, ctx.src.escape).join(" ");
      const user = (ctx.expand(raw, ctx.scopeAt(last)) ?? raw).split(":")[0]!;
      if (user === "root" || user === "0") report({ ins: last });
    }
  },
};
