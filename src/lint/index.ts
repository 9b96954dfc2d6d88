/**
 * The linter as a library: `lintDockerfile(text, options)` → findings (hadolint DL rules,
 * BuildKit build checks, optional ShellCheck SC codes, DL1000 for parse errors).
 */
import type { Finding } from "./finding.js";
import type { LintOptions } from "./engine.js";
import { lint } from "./lint.js";

export type { Finding, Severity } from "./finding.js";
export { SEVERITY_ORDER } from "./finding.js";
export { lint } from "./lint.js";
export {
  lintWith,
  exceeds,
  parseCheckValue,
  type LintOptions,
  type LintResult,
  type Level,
} from "./engine.js";
export { RULES, RULES_BY_ID } from "./rules/index.js";
export type { Rule, Edit, RuleOptions, LabelSchema } from "./rule.js";
export { docsUrl } from "./rule.js";
export { applyEdits, fixText } from "./fix.js";
export {
  parseConfig,
  loadConfigFile,
  findConfig,
  configCandidates,
  emptyConfig,
  parseRequireLabel,
  type LintConfig,
  type Threshold,
} from "./config.js";
export { parseShell, type ShellScript, type SimpleCommand, type ShWord } from "./shell.js";
export { parseDockerfile, type DockerfileSource, type Instruction } from "./source.js";

/** Lints Dockerfile text; findings sorted by line, column, code. */
export function lintDockerfile(text: string, options: LintOptions = {}): Finding[] {
  return lint(text, options).findings;
}
