import type { Rule } from "../rule.js";
import { PREDEFINED_ARGS, referencedVars } from "../model.js";
import { suggest } from "./_util.js";

export const rule: Rule = {
  id: "UndefinedArgInFrom",
  level: "warning",
  source: "buildkit",
  description: "FROM command must use declared ARGs",
  example: "FROM node:${NODE_VERSION} (no ARG NODE_VERSION before the first FROM)",
  check(ctx, report) {
    const declared = new Set([...ctx.globalArgs.keys(), ...PREDEFINED_ARGS]);
    for (const st of ctx.stages) {
      const texts = [st.from.args, ...st.from.flags.map((f) => f.value ?? "")];
      for (const t of texts) {
        for (const v of referencedVars(t, ctx.src.escape)) {
          if (declared.has(v.name)) continue;
          const s = suggest(v.name, ctx.globalArgs.keys());
          report({
            ins: st.from,
            message: `FROM argument '${v.name}' is not declared${s ? ` (did you mean ${s}?)` : ""}`,
          });
        }
      }
    }
  },
};
