import type { Rule } from "../rule.js";
import { argWords } from "../source.js";
import { URL_RE } from "./DL3020.js";

function toRegex(pattern: string): RegExp {
  let p = pattern.trim().replace(/\\/g, "/").replace(/^\/+/, "").replace(/^\.\//, "").replace(/\/+$/, "");
  p = p.replace(/\/\.(?=\/|$)/g, "");
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        if (p[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const e = p.indexOf("]", i);
      if (e < 0) re += "\\[";
      else {
        re += "[" + p.slice(i + 1, e).replace(/^!/, "^") + "]";
        i = e;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp("^" + re + "$");
}

/** Parsed .dockerignore patterns, or undefined when exceptions (`!`) make a static answer unsafe. */
export function ignorePatterns(text: string): RegExp[] | undefined {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  if (lines.some((l) => l.startsWith("!"))) return undefined;
  return lines.map(toRegex);
}

export function isIgnored(path: string, pats: RegExp[]): boolean {
  const p = path.replace(/\\/g, "/").replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (p === "" || p === ".") return false;
  const parts = p.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    if (pats.some((r) => r.test(prefix))) return true;
  }
  return false;
}

export const rule: Rule = {
  id: "CopyIgnoredFile",
  level: "warning",
  source: "buildkit",
  description: "Attempting to Copy file that is excluded by .dockerignore",
  example: "COPY .env /app/ (with .env in .dockerignore)",
  note: "Needs the build context's .dockerignore (the CLI reads the one beside the Dockerfile, or <Dockerfile>.dockerignore); skipped when it has ! exceptions.",
  check(ctx, report) {
    const text = ctx.options.dockerignore;
    if (!text) return;
    const pats = ignorePatterns(text);
    if (!pats || !pats.length) return;
    for (const ins of ctx.instructions) {
      if ((ins.keyword !== "COPY" && ins.keyword !== "ADD") || ins.heredocs.length) continue;
      if (ins.flags.some((f) => f.name === "from")) continue;
      const words = argWords(ins, ctx.src.escape);
      const scope = ctx.scopeAt(ins);
      for (const s of words.slice(0, -1)) {
        const v = ctx.expand(s, scope);
        if (v === undefined || URL_RE.test(v) || /[*?[]/.test(v)) continue;
        if (isIgnored(v, pats)) {
          report({
            ins,
            message: `Attempting to ${ins.keyword === "ADD" ? "Add" : "Copy"} file "${v}" that is excluded by .dockerignore`,
          });
        }
      }
    }
  },
};
