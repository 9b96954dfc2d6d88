/** The `# check=` directive BuildKit's linter reads: `# check=skip=A,B;error=true`. */
import type { ParseResult } from "./types.js";

export interface CheckDirective {
  /** Check names to skip; `all` skips every check. */
  skip: string[];
  skipAll: boolean;
  /** Fail the build on a check violation. */
  error: boolean;
  /** Experimental checks to enable (`all` enables every one). */
  experimental: string[];
  /** Parts we could not understand (`key=value` with an unknown key or a bad value). */
  invalid: string[];
}

/** Parse a `check` directive value (or find it in a parse result). */
export function parseCheckDirective(value: string | ParseResult | undefined): CheckDirective {
  const out: CheckDirective = { skip: [], skipAll: false, error: false, experimental: [], invalid: [] };
  let v: string | undefined;
  if (typeof value === "string") v = value;
  else if (value) v = value.directives.find((d) => d.name === "check")?.value;
  if (!v) return out;
  const body = v.split("//")[0]!; // a trailing `// comment`
  for (const part of body.split(";")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    if (eq < 0) {
      out.invalid.push(p);
      continue;
    }
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1).trim();
    if (key === "skip") {
      for (const name of val.split(",")) {
        const n = name.trim();
        if (n === "") continue;
        if (n.toLowerCase() === "all") out.skipAll = true;
        else out.skip.push(n);
      }
    } else if (key === "experimental") {
      for (const name of val.split(",")) if (name.trim() !== "") out.experimental.push(name.trim());
    } else if (key === "error") {
      const b = val.toLowerCase();
      if (b === "true" || b === "1") out.error = true;
      else if (b === "false" || b === "0") out.error = false;
      else out.invalid.push(p);
    } else out.invalid.push(p);
  }
  return out;
}
