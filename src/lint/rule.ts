import type { Severity } from "./finding.js";
import type { Model, RunInfo, RunCommand } from "./model.js";
import type { Instruction } from "./source.js";

/** A text replacement on the original file (byte-exact: offsets are string indices). */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Report {
  /** The instruction the finding is about (gives line/column when they are not set). */
  ins?: Instruction;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** Overrides the rule's message. */
  message?: string;
  /** A safe fix for this finding. */
  fix?: Edit[];
}

export interface LabelSchema {
  [label: string]: "text" | "url" | "semver" | "hash" | "rfc3339" | "spdx" | "email";
}

/** Options rules read (from config and flags). */
export interface RuleOptions {
  trustedRegistries: string[];
  labelSchema: LabelSchema;
  strictLabels: boolean;
  /** Contents of the build context's .dockerignore, when known (CopyIgnoredFile). */
  dockerignore?: string;
  /**
   * Resolves a base image's platform (InvalidBaseImagePlatform): the platform of the image that
   * would be used for `expected`. The CLI and the build look in the local store (never the network).
   */
  resolveImagePlatform?: (image: string, expected?: string) => string | undefined;
  /** A base image's ENV when known (local store): UndefinedVar then knows what the base defines. */
  imageEnv?: (image: string) => Record<string, string> | undefined;
  /** The build's target platform (default linux/amd64) for InvalidBaseImagePlatform. */
  targetPlatform?: string;
}

export interface RuleContext extends Model {
  options: RuleOptions;
  /** RUN commands named one of `names` (basename match), across all RUNs (ONBUILD included). */
  commands(...names: string[]): Array<RunCommand & { run: RunInfo }>;
}

export interface Rule {
  id: string;
  /** Default severity; "ignore" = off unless enabled by config. */
  level: Severity;
  /** One line: what the rule asks for (also the default message). */
  description: string;
  source: "hadolint" | "buildkit";
  /** A one-line Dockerfile snippet that triggers the rule (README table; tested). */
  example: string;
  /** Rules reporting the same problem (hadolint ↔ BuildKit): ignoring either suppresses both. */
  twins?: string[];
  /** BuildKit experimental: runs only when named in `# check=experimental=`. */
  experimental?: boolean;
  /** Whether the rule offers a `--fix`. */
  fixable?: boolean;
  /** Extra note for the docs (limits, what needs more than the file). */
  note?: string;
  check(ctx: RuleContext, report: (r: Report) => void): void;
}

export function docsUrl(rule: Pick<Rule, "id" | "source">): string {
  if (rule.source === "hadolint") return `https://github.com/hadolint/hadolint/wiki/${rule.id}`;
  const kebab = rule.id.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return `https://docs.docker.com/go/dockerfile/rule/${kebab}/`;
}
