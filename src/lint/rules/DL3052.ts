import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

export function isUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (
      /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) &&
      (u.host !== "" || u.protocol === "mailto:" || u.protocol === "urn:")
    );
  } catch {
    return false;
  }
}

export const rule: Rule = {
  id: "DL3052",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` is not a valid URL.",
  example: "LABEL org.opencontainers.image.url=not-a-url (type url)",
  check(ctx, report) {
    checkTyped(ctx, "url", isUrl, (ins, key) =>
      report({ ins, message: `Label \`${key}\` is not a valid URL.` }),
    );
  },
};
