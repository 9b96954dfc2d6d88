import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export const rule: Rule = {
  id: "DL3056",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` does not conform to semantic versioning.",
  example: "LABEL org.opencontainers.image.version=1.2 (type semver)",
  check(ctx, report) {
    checkTyped(
      ctx,
      "semver",
      (v) => SEMVER.test(v),
      (ins, key) => report({ ins, message: `Label \`${key}\` does not conform to semantic versioning.` }),
    );
  },
};
