import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "InvalidBaseImagePlatform",
  level: "warning",
  source: "buildkit",
  description: "Base image platform does not match the expected target platform",
  example: "FROM --platform=linux/arm64 img (an amd64-only image)",
  note: "Needs the base image's platform: `dockyard lint` and `dockyard build` read it from the local store (never the network); images not in the store are not checked.",
  check(ctx, report) {
    const resolve = ctx.options.resolveImagePlatform;
    if (!resolve) return;
    for (const st of ctx.stages) {
      const img = st.resolvedImage;
      if (!img || img.toLowerCase() === "scratch" || ctx.stageByName(img, st.index)) continue;
      const expected =
        st.platform && !st.platform.includes("$")
          ? st.platform
          : (ctx.options.targetPlatform ?? "linux/amd64");
      const want = expected.split("/").slice(0, 2).join("/");
      const got = resolve(img, want);
      if (got && got !== want) {
        report({
          ins: st.from,
          message: `Base image ${img} was pulled with platform "${got}", expected "${expected}" for current build`,
        });
      }
    }
  },
};
