/**
 * BuildKit's build checks for `dockyard build`: the lint engine with only the BuildKit rules
 * loaded (no hadolint rules, no shell analysis, no YAML config, no formatters), over the front
 * end's own result, so checking adds a few milliseconds to a build. `# check=skip=…` and
 * `# check=error=true` apply as BuildKit applies them.
 */
import { loadDockerfile, parseCheckDirective, type LoadedDockerfile } from "../dockerfile/index.js";
import { lintWith } from "./engine.js";
import type { Finding } from "./finding.js";
import type { RuleOptions } from "./rule.js";
import { BUILDKIT_RULES } from "./rules/buildkit.js";

export interface BuildCheckResult {
  findings: Finding[];
  /** `# check=error=true` and at least one finding: the build must fail. */
  fail: boolean;
}

export function runBuildChecks(
  text: string,
  options: { file?: string; loaded?: LoadedDockerfile } & Partial<RuleOptions> = {},
): BuildCheckResult {
  const loaded = options.loaded ?? loadDockerfile(text, { file: options.file });
  const findings = lintWith(BUILDKIT_RULES, text, { ...options, loaded }).findings;
  const d = parseCheckDirective(loaded.parse);
  return { findings, fail: d.error && findings.length > 0 };
}
