import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function isRfc3339(v: string): boolean {
  const m = RFC3339.exec(v);
  if (!m) return false;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

export const rule: Rule = {
  id: "DL3053",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` is not a valid time format - must conform to RFC3339.",
  example: "LABEL org.opencontainers.image.created=yesterday (type rfc3339)",
  check(ctx, report) {
    checkTyped(ctx, "rfc3339", isRfc3339, (ins, key) =>
      report({ ins, message: `Label \`${key}\` is not a valid time format - must conform to RFC3339.` }),
    );
  },
};
