import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isEmail(v: string): boolean {
  const m = /^[^<>]*<([^<>]+)>$/.exec(v.trim());
  const addr = m ? m[1]! : v.trim();
  return EMAIL.test(addr) && !addr.startsWith(".") && !addr.includes("..");
}

export const rule: Rule = {
  id: "DL3058",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` is not a valid email format - must conform to RFC5322.",
  example: "LABEL maintainer=nobody (type email)",
  check(ctx, report) {
    checkTyped(ctx, "email", isEmail, (ins, key) =>
      report({ ins, message: `Label \`${key}\` is not a valid email format - must conform to RFC5322.` }),
    );
  },
};
