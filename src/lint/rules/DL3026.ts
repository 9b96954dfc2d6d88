import type { Rule } from "../rule.js";
import { splitImage } from "../model.js";

export function registryOf(image: string): string {
  const { name } = splitImage(image);
  const first = name.split("/")[0]!;
  if (name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost"))
    return first;
  return "docker.io";
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    "^" +
      pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*") +
      "$",
    "i",
  );
  return re.test(s);
}

export const rule: Rule = {
  id: "DL3026",
  level: "error",
  source: "hadolint",
  description: "Use only an allowed registry in the FROM image",
  example: "FROM evil.example.com/debian:12 (with trustedRegistries: [docker.io])",
  note: "Runs only when trustedRegistries (config) or --trusted-registry is set; globs like *.gcr.io match.",
  check(ctx, report) {
    const trusted = ctx.options.trustedRegistries;
    if (trusted.length === 0) return;
    for (const st of ctx.stages) {
      const img = st.resolvedImage;
      if (!img || img.toLowerCase() === "scratch" || ctx.stageByName(img, st.index)) continue;
      const reg = registryOf(img);
      const ok = trusted.some(
        (t) =>
          globMatch(t, reg) ||
          (reg === "docker.io" &&
            ["hub.docker.com", "index.docker.io", "registry-1.docker.io"].some((a) => globMatch(t, a))),
      );
      if (!ok) report({ ins: st.from });
    }
  },
};
