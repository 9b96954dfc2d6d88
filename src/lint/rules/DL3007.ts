import type { Rule } from "../rule.js";
import { splitImage } from "../model.js";

export const rule: Rule = {
  id: "DL3007",
  level: "warning",
  source: "hadolint",
  description:
    "Using latest is prone to errors if the image will ever update. Pin the version explicitly to a release tag",
  example: "FROM debian:latest",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const img = st.resolvedImage;
      if (!img) continue;
      if (ctx.stageByName(img, st.index)) continue;
      const { tag, digest } = splitImage(img);
      if (tag === "latest" && !digest) report({ ins: st.from });
    }
  },
};
