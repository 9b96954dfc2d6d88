import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL3043",
  level: "error",
  source: "hadolint",
  description: "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.",
  example: "ONBUILD FROM debian:12",
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      const t = ins.trigger?.keyword;
      if (ins.keyword === "ONBUILD" && (t === "ONBUILD" || t === "FROM" || t === "MAINTAINER"))
        report({ ins });
    }
  },
};
