import type { Rule } from "../rule.js";
import { argPairs, kvPairs } from "../model.js";

const SECRET = /(?:^|_)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const ALLOW = /(?:^|_)(?:public|file|version)(?:_|$)/i;

/** BuildKit's test: a secret-ish `_`-delimited token and no allow token. */
export function isSecretName(name: string): boolean {
  return SECRET.test(name) && !ALLOW.test(name);
}

/** Shared with its BuildKit twin SecretsUsedInArgOrEnv: ARG/ENV names that look like secrets. */
export const reportSecretNames: Rule["check"] = (ctx, report) => {
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
};

export const rule: Rule = {
  id: "DL3064",
  level: "warning",
  source: "hadolint",
  description: "Do not use ARG or ENV instructions for sensitive data.",
  example: "ARG API_TOKEN",
  twins: ["SecretsUsedInArgOrEnv"],
  check: reportSecretNames,
};
