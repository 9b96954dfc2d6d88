/** `lint`: every rule (hadolint's DL rules and BuildKit's checks) over a Dockerfile. */
import { lintWith, type LintOptions, type LintResult } from "./engine.js";
import { RULES } from "./rules/index.js";

export function lint(text: string, options: LintOptions = {}): LintResult {
  return lintWith(RULES, text, options);
}
