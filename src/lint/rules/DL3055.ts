import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

export const rule: Rule = {
  id: "DL3055",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` is not a valid git hash.",
  example: "LABEL org.opencontainers.image.revision=main (type hash)",
  check(ctx, report) {
    checkTyped(
      ctx,
      "hash",
      (v) => /^[0-9a-f]{7,40}$/i.test(v) || /^[0-9a-f]{64}$/i.test(v),
      (ins, key) => report({ ins, message: `Label \`${key}\` is not a valid git hash.` }),
    );
  },
};
