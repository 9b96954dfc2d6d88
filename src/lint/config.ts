/**
 * Configuration as hadolint users have it: `.hadolint.yaml` (found like hadolint does), plus
 * BuildKit's `# check=` directive handled in the engine.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { DockyardError } from "../image/errors.js";
import type { Severity } from "./finding.js";
import type { LabelSchema } from "./rule.js";

export type Threshold = Exclude<Severity, "ignore"> | "none";

export interface LintConfig {
  ignored: string[];
  override: Partial<Record<Exclude<Severity, "ignore">, string[]>>;
  failureThreshold?: Threshold;
  trustedRegistries: string[];
  labelSchema: LabelSchema;
  strictLabels: boolean;
  disableIgnorePragma: boolean;
  noFail: boolean;
  format?: string;
  /** Where the config came from (for messages). */
  path?: string;
}

export function emptyConfig(): LintConfig {
  return {
    ignored: [],
    override: {},
    trustedRegistries: [],
    labelSchema: {},
    strictLabels: false,
    disableIgnorePragma: false,
    noFail: false,
  };
}

const LABEL_TYPES = ["text", "url", "semver", "hash", "rfc3339", "spdx", "email"];
const THRESHOLDS = ["error", "warning", "info", "style", "ignore", "none"];

/** hadolint's search order; the first file found wins. */
export function configCandidates(cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, ".config");
  const names = (dir: string, base: string) => [join(dir, `${base}.yaml`), join(dir, `${base}.yml`)];
  return [
    ...names(cwd, ".hadolint"),
    ...names(xdg, "hadolint"),
    ...names(join(home, ".config"), "hadolint"),
    ...names(join(home, ".hadolint"), "hadolint"),
    ...names(join(home, "hadolint"), "config"),
    ...names(home, ".hadolint"),
  ];
}

export function findConfig(cwd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return configCandidates(cwd, env).find((p) => existsSync(p));
}

export function loadConfigFile(path: string): LintConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `cannot read lint config ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}

function strList(v: unknown, key: string, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number"))
    return v.map(String);
  throw new DockyardError("CONFIG_INVALID", `${path}: "${key}" must be a string or a list of strings`);
}

export function parseConfig(text: string, path = ".hadolint.yaml"): LintConfig {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `${path}: invalid YAML: ${(err as Error).message}`);
  }
  const cfg = emptyConfig();
  cfg.path = path;
  if (doc === null || doc === undefined) return cfg;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new DockyardError("CONFIG_INVALID", `${path}: expected a mapping of settings`);
  }
  const d = doc as Record<string, unknown>;
  for (const [key, v] of Object.entries(d)) {
    switch (key) {
      case "ignored":
        cfg.ignored = strList(v, key, path);
        break;
      case "override": {
        if (v === null || v === undefined) break;
        if (typeof v !== "object" || Array.isArray(v)) {
          throw new DockyardError(
            "CONFIG_INVALID",
            `${path}: "override" must map error/warning/info/style to lists`,
          );
        }
        for (const [lvl, list] of Object.entries(v as Record<string, unknown>)) {
          if (!["error", "warning", "info", "style"].includes(lvl)) {
            throw new DockyardError(
              "CONFIG_INVALID",
              `${path}: unknown override level "${lvl}" (use error, warning, info, style)`,
            );
          }
          cfg.override[lvl as "error"] = strList(list, `override.${lvl}`, path);
        }
        break;
      }
      case "failure-threshold": {
        const t = String(v);
        if (!THRESHOLDS.includes(t)) {
          throw new DockyardError(
            "CONFIG_INVALID",
            `${path}: failure-threshold must be one of ${THRESHOLDS.join(", ")}`,
          );
        }
        cfg.failureThreshold = (t === "ignore" ? "none" : t) as Threshold;
        break;
      }
      case "trustedRegistries":
        cfg.trustedRegistries = strList(v, key, path);
        break;
      case "label-schema": {
        if (v === null || v === undefined) break;
        if (typeof v !== "object" || Array.isArray(v)) {
          throw new DockyardError("CONFIG_INVALID", `${path}: "label-schema" must map label names to types`);
        }
        for (const [label, type] of Object.entries(v as Record<string, unknown>)) {
          if (!LABEL_TYPES.includes(String(type))) {
            throw new DockyardError(
              "CONFIG_INVALID",
              `${path}: label "${label}" has unknown type "${String(type)}" (use ${LABEL_TYPES.join(", ")})`,
            );
          }
          cfg.labelSchema[label] = String(type) as LabelSchema[string];
        }
        break;
      }
      case "strict-labels":
        cfg.strictLabels = v === true;
        break;
      case "disable-ignore-pragma":
        cfg.disableIgnorePragma = v === true;
        break;
      case "no-fail":
        cfg.noFail = v === true;
        break;
      case "format":
        cfg.format = String(v);
        break;
      case "formats":
      case "no-color":
      case "verbose":
        break;
      default:
        throw new DockyardError("CONFIG_INVALID", `${path}: unknown setting "${key}"`);
    }
  }
  return cfg;
}

/** A `--require-label name:type` value. */
export function parseRequireLabel(s: string): [string, LabelSchema[string]] {
  const i = s.lastIndexOf(":");
  const type = i < 0 ? "" : s.slice(i + 1);
  if (i <= 0 || !LABEL_TYPES.includes(type)) {
    throw new DockyardError(
      "USAGE",
      `--require-label expects NAME:TYPE with TYPE one of ${LABEL_TYPES.join(", ")}, got "${s}"`,
    );
  }
  return [s.slice(0, i), type as LabelSchema[string]];
}

let yamlModule: typeof import("yaml") | undefined;
/** The YAML parser, loaded on first use (a build's checks never read a config file). */
function yaml(): typeof import("yaml") {
  return (yamlModule ??= createRequire(import.meta.url)("yaml") as typeof import("yaml"));
}
