import type { Rule } from "../rule.js";
import { each } from "./_util.js";
import { argWords } from "../source.js";

export const rule: Rule = {
  id: "DL3066",
  level: "info",
  source: "hadolint",
  description:
    "Use a numeric UID in USER: a user name may not resolve (e.g. on the host, or with runAsNonRoot).",
  example: "USER app",
  check(ctx, report) {
    for (const ins of each(ctx, "USER")) {
      const raw = argWords(ins, ctx.src.escape).join(" ");
      const v = ctx.expand(raw, ctx.scopeAt(ins));
      if (v === undefined || v === "") continue;
      const [user, group] = v.split(":");
      // root always resolves (uid 0 in every image); DL3002 is about running as root.
      if (user === "root" && (group === undefined || group === "root")) continue;
      if (!/^\d+$/.test(user!) || (group !== undefined && !/^\d+$/.test(group))) report({ ins });
    }
  },
};
