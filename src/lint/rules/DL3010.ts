import type { Rule } from "../rule.js";
import { argWords } from "../source.js";

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz|zip)$/i;

export const rule: Rule = {
  id: "DL3010",
  level: "info",
  source: "hadolint",
  description: "Use ADD for extracting archives into an image",
  example: "COPY app.tar.gz /tmp/ then RUN tar -xzf /tmp/app.tar.gz",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const copied = new Map<string, (typeof st.instructions)[number]>();
      for (const ins of st.instructions) {
        if (
          ins.keyword === "COPY" &&
          ins.flags.every((f) => f.name !== "from") &&
          ins.heredocs.length === 0
        ) {
          const words = argWords(ins, ctx.src.escape);
          const srcs = words.slice(0, -1);
          const dest = words[words.length - 1] ?? "";
          for (const s of srcs) {
            if (!ARCHIVE.test(s)) continue;
            const base = s.slice(s.lastIndexOf("/") + 1);
            copied.set(base, ins);
            if (!dest.endsWith("/")) copied.set(dest.slice(dest.lastIndexOf("/") + 1), ins);
          }
        }
        if (ins.keyword !== "RUN" || copied.size === 0) continue;
        const run = ctx.runOf(ins);
        if (!run) continue;
        for (const rc of run.commands) {
          const n = rc.cmd.name;
          const extracting =
            (n === "tar" &&
              rc.cmd.args.some((a) => /^-?[a-zA-Z]*x/.test(a.value) || a.value === "--extract")) ||
            n === "unzip" ||
            n === "gunzip" ||
            n === "bunzip2" ||
            n === "unxz";
          if (!extracting) continue;
          for (const a of rc.cmd.args) {
            const base = a.value.slice(a.value.lastIndexOf("/") + 1);
            const src = copied.get(base);
            if (src) {
              report({ ins: src });
              copied.delete(base);
            }
          }
        }
      }
    }
  },
};
