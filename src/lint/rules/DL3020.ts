import type { Rule } from "../rule.js";
import { each } from "./_util.js";
import { argWords } from "../source.js";

export const ARCHIVE_RE =
  /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|tar\.lz|gz|bz2|xz|zst|lz|lzma)$/i;
export const URL_RE = /^(https?|git|ssh):\/\/|^git@|\.git(#.*)?$/;

export const rule: Rule = {
  id: "DL3020",
  level: "error",
  source: "hadolint",
  description: "Use COPY instead of ADD for files and folders",
  example: "ADD app.py /app/",
  check(ctx, report) {
    for (const ins of each(ctx, "ADD")) {
      if (ins.heredocs.length) continue;
      const words = argWords(ins, ctx.src.escape);
      const srcs = words.slice(0, -1);
      const scope = ctx.scopeAt(ins);
      const local = srcs.some((s) => {
        const v = ctx.expand(s, scope);
        if (v === undefined) return false;
        return !URL_RE.test(v) && !ARCHIVE_RE.test(v);
      });
      if (local) report({ ins });
    }
  },
};
