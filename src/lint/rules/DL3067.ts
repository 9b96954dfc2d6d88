import type { Rule } from "../rule.js";
import { argWords } from "../source.js";
import { each } from "./_util.js";

export const rule: Rule = {
  id: "DL3067",
  level: "warning",
  source: "hadolint",
  description: "Do not COPY the whole filesystem (`/`) from another stage; copy what you need.",
  example: "COPY --from=build / /",
  check(ctx, report) {
    for (const ins of each(ctx, "COPY")) {
      if (!ins.flags.some((f) => f.name === "from")) continue;
      const words = argWords(ins, ctx.src.escape);
      if (words.slice(0, -1).some((s) => /^\/+(\.)?$/.test(s))) report({ ins });
    }
  },
};
