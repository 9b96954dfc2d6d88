import type { Rule } from "../rule.js";
import { argPairs, kvPairs } from "../model.js";
import { isSecretName } from "./DL3064.js";

export const rule: Rule = {
  id: "SecretsUsedInArgOrEnv",
  level: "warning",
  source: "buildkit",
  description: "Sensitive data should not be used in the ARG or ENV commands",
  example: "ENV DB_PASSWORD=hunter2",
  twins: ["DL3064"],
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      const names =
        ins.keyword === "ARG"
          ? argPairs(ins, ctx.src.escape).map((p) => p[0])
          : ins.keyword === "ENV"
            ? kvPairs(ins, ctx.src.escape).map((p) => p.key)
            : [];
      for (const n of names) {
        if (isSecretName(n))
          report({
            ins,
            message: `Do not use ARG or ENV instructions for sensitive data (${ins.keyword} "${n}")`,
          });
      }
    }
  },
};
