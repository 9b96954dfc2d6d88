/**
 * Lint output formats. `formatFindings(format, findings, options)` renders findings as one string;
 * `FORMAT_NAMES` lists the formats (`tty` is the default, `github` = GitHub Actions annotations).
 */
import { DockyardError } from "../../image/errors.js";
import type { Finding } from "../finding.js";
import { formatCheckstyle } from "./checkstyle.js";
import { formatCodeclimate, formatGitlabCodeclimate } from "./codeclimate.js";
import { formatGithub } from "./github.js";
import { formatGnu } from "./gnu.js";
import { formatJson } from "./json.js";
import { formatJunit } from "./junit.js";
import { formatSarif } from "./sarif.js";
import { formatTty } from "./tty.js";
import type { FormatOptions, Formatter } from "./types.js";

export type { FormatOptions, Formatter } from "./types.js";

export const FORMATTERS = {
  tty: formatTty,
  json: formatJson,
  sarif: formatSarif,
  checkstyle: formatCheckstyle,
  codeclimate: formatCodeclimate,
  gitlab_codeclimate: formatGitlabCodeclimate,
  gnu: formatGnu,
  junit: formatJunit,
  github: formatGithub,
} satisfies Record<string, Formatter>;

export type FormatName = keyof typeof FORMATTERS;

export const FORMAT_NAMES = Object.keys(FORMATTERS) as FormatName[];

/** Accepted spellings besides the names: hadolint's `github-actions`, `gitlab-codeclimate`. */
const ALIASES: Record<string, FormatName> = {
  "github-actions": "github",
  github_actions: "github",
  "gitlab-codeclimate": "gitlab_codeclimate",
};

export function isFormatName(name: string): name is FormatName {
  return Object.prototype.hasOwnProperty.call(FORMATTERS, name);
}

/** The canonical format name for `name` (aliases accepted), or undefined. */
export function resolveFormatName(name: string): FormatName | undefined {
  if (isFormatName(name)) return name;
  return ALIASES[name];
}

export function formatFindings(format: string, findings: Finding[], options: FormatOptions = {}): string {
  const name = resolveFormatName(format);
  if (!name)
    throw new DockyardError(
      "USAGE",
      `unknown output format ${JSON.stringify(format)}; use one of ${FORMAT_NAMES.join(", ")}`,
    );
  return FORMATTERS[name](findings, options);
}
