import type { Rule } from "../rule.js";
import { splitImage } from "../model.js";

export const rule: Rule = {
  id: "DL3006",
  level: "warning",
  source: "hadolint",
  description: "Always tag the version of an image explicitly",
  example: "FROM debian",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const img = st.resolvedImage;
      if (img === undefined || img === "" || img.includes("$")) continue;
      if (img.toLowerCase() === "scratch") continue;
      if (ctx.stageByName(img, st.index)) continue;
      const { tag, digest } = splitImage(img);
      if (!tag && !digest) report({ ins: st.from });
    }
  },
};
