import type { Rule } from "../rule.js";
import { PREDEFINED_ARGS, PROXY_ARGS, referencedVars, type Stage } from "../model.js";
import { suggest } from "./_util.js";

const EXPANDING = new Set([
  "ADD",
  "ARG",
  "COPY",
  "ENV",
  "EXPOSE",
  "LABEL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);
const KNOWN = new Set([...PREDEFINED_ARGS, ...PROXY_ARGS]);

/** Whether every variable the stage can see is known: built on scratch, or on an image whose ENV is. */
function allKnown(st: Stage): boolean {
  let s = st;
  while (s.base) s = s.base;
  return (s.resolvedImage ?? s.image).toLowerCase() === "scratch" || s.baseEnvKnown === true;
}

export const rule: Rule = {
  id: "UndefinedVar",
  level: "warning",
  source: "buildkit",
  description: "Variables should be defined before their use",
  example: "FROM scratch then COPY $SRC /app",
  note: "A base image's ENV is known when the image is in the local store (never fetched): then, as on scratch, every undefined variable is reported; for other images only likely typos (a declared name within 2 edits) are.",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const strict = allKnown(st);
      for (const ins of st.instructions) {
        if (!EXPANDING.has(ins.keyword) || ins.heredocs.length) continue;
        const scope = ctx.scopeAt(ins);
        const texts = [
          ins.args,
          ...ins.flags
            .filter((f) => f.name === "chown" || f.name === "chmod" || f.name === "from")
            .map((f) => f.value ?? ""),
        ];
        const seen = new Set<string>();
        for (const t of texts) {
          for (const v of referencedVars(t, ctx.src.escape)) {
            if (scope.has(v.name) || KNOWN.has(v.name) || seen.has(v.name)) continue;
            // ARG X=$X style self-reference in the same ARG is still undefined; ENV a=1 b=$a is defined.
            seen.add(v.name);
            const s = suggest(v.name, scope.keys());
            const global = ctx.globalArgs.has(v.name);
            if (!strict && !s && !global) continue;
            const hint = global
              ? ` (a global ARG: declare "ARG ${v.name}" in this stage to use it)`
              : s
                ? ` (did you mean $${s}?)`
                : "";
            report({ ins, message: `Usage of undefined variable '$${v.name}'${hint}` });
          }
        }
      }
    }
  },
};
