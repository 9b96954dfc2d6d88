/**
 * The engine: parse → model → rules → findings, with severities from config, pragmas and the
 * BuildKit `# check=` directive applied, and parse errors reported as DL1000.
 */
import { SEVERITY_ORDER, type Finding, type Severity } from "./finding.js";
import { buildModel, type Model, type RunCommand, type RunInfo } from "./model.js";
import { parseCheckDirective, type LoadedDockerfile } from "../dockerfile/index.js";
import type { Edit, Report, Rule, RuleContext, RuleOptions } from "./rule.js";
import { runShellcheck, shellcheckAvailable } from "./shellcheck.js";
import { parseDockerfile, type Instruction } from "./source.js";
import { emptyConfig, type LintConfig } from "./config.js";

export type Level = Exclude<Severity, "ignore">;

/** Front-end errors that have a hadolint rule of their own (reported under that id). */
const COVERED: Array<[RegExp, string]> = [
  [/^circular dependency detected on stage: /, "DL3023"],
  [/isn't allowed as an ONBUILD trigger$|^Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed$/, "DL3043"],
  [/^no build stage in current context$/, "DL3061"],
];

export interface LintOptions extends Partial<RuleOptions> {
  /** File name used in findings (default "Dockerfile"; "-" for stdin). */
  file?: string;
  config?: Partial<LintConfig>;
  /** Extra rule ids to ignore (CLI --ignore). */
  ignore?: string[];
  /** Run shellcheck on RUNs: true = when installed (default false for the library). */
  shellcheck?: boolean;
  /** Rules to run (default: all). */
  rules?: Rule[];
  /** The shared front end's result for this text, when the caller has it (the build does). */
  loaded?: LoadedDockerfile;
}

export interface LintResult {
  findings: Finding[];
  /** fixes[i] is the safe fix for findings[i], if any. */
  fixes: Array<Edit[] | undefined>;
}

interface Scope {
  from: number;
  to: number;
  codes: Set<string>;
}

const PRAGMA_RE = /^hadolint\s+(?:(global|stage)\s+)?ignore\s*=\s*([A-Za-z0-9_,\s]+?)\s*(?:#.*)?$/;
const CHECK_RE = /^check\s*=\s*(.*)$/i;
const SHELL_PRAGMA_RE = /^hadolint\s+shell\s*=\s*(\S+)/;

function codes(list: string): string[] {
  return list
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
}

/** `skip=A,B;error=true;experimental=C` (BuildKit's check directive, read by src/dockerfile). */
export function parseCheckValue(v: string): { skip: string[]; error: boolean; experimental: string[] } {
  const d = parseCheckDirective(v);
  return { skip: d.skipAll ? [...d.skip, "all"] : d.skip, error: d.error, experimental: d.experimental };
}

/**
 * Lints with a rule set (`options.rules` wins). `lint` in ./lint.ts runs every rule; the build's
 * checks (./build-checks.ts) load and run only BuildKit's.
 */
export function lintWith(defaultRules: Rule[], text: string, options: LintOptions = {}): LintResult {
  const file = options.file ?? "Dockerfile";
  const cfg: LintConfig = { ...emptyConfig(), ...options.config };
  const rules = options.rules ?? defaultRules;
  const src = parseDockerfile(text, options.loaded);
  const out: Array<{ f: Finding; fix?: Edit[] }> = [];

  // DL1000: every error of the shared front end (the one `dockyard build` runs).
  const errors = src.errors;
  const meta = metaOf(rules);
  const dl1000 = (e: (typeof errors)[number]) =>
    out.push({
      f: { code: "DL1000", message: e.message, level: "error", file, line: e.line, column: e.column },
    });
  // Errors a hadolint error-level rule reports in its own words (DL3023, DL3043, DL3061): the
  // rules run, and the error becomes DL1000 only if its rule does not report it on that line.
  const covered: Array<{ e: (typeof errors)[number]; rule: string }> = [];
  for (const e of errors) {
    const id = COVERED.find(([re]) => re.test(e.message))?.[1];
    if (id && meta.byId.has(id)) covered.push({ e, rule: id });
    else {
      covered.length = 0;
      for (const x of errors) dl1000(x);
      return finish(out);
    }
  }

  const model = buildModel(src, { imageEnv: options.imageEnv });
  const byId = meta.byId;
  const twinsOf = (id: string): string[] => meta.twins.get(id) ?? [id];
  const expandTwins = (list: string[]): Set<string> => {
    const s = new Set<string>();
    for (const c of list) for (const t of twinsOf(c)) s.add(t);
    return s;
  };

  // BuildKit directive at the top: # check=skip=…;error=…;experimental=…
  const dir = src.directives.find((d) => d.name === "check");
  const check = dir ? parseCheckValue(dir.value) : { skip: [], error: false, experimental: [] };
  const skipAllBuildkit = check.skip.some((s) => s.toLowerCase() === "all");

  // Global suppressions.
  const usePragmas = !cfg.disableIgnorePragma;
  const globalIgnore = expandTwins([...cfg.ignored, ...(options.ignore ?? []), ...check.skip]);
  const scopes: Scope[] = [];
  let shellOverride: string | undefined;
  const stageEnd = (from: Instruction): number => {
    const st = model.stageOf(from);
    const last = st?.instructions[st.instructions.length - 1];
    return last ? last.endLine : from.endLine;
  };
  // `# hadolint global ignore=…` anywhere; `# hadolint shell=…`.
  for (const c of src.comments) {
    const sp = SHELL_PRAGMA_RE.exec(c.text);
    if (sp) shellOverride = sp[1];
    const m = PRAGMA_RE.exec(c.text);
    if (m && m[1] === "global" && usePragmas)
      scopes.push({ from: 0, to: Infinity, codes: expandTwins(codes(m[2]!)) });
  }
  // Inline pragmas apply to the instruction right below their comment block; stage ones to the stage.
  if (usePragmas) {
    for (const ins of src.instructions) {
      for (const c of ins.comments) {
        const m = PRAGMA_RE.exec(c.text);
        if (m) {
          const list = expandTwins(codes(m[2]!));
          if (m[1] === "stage" && ins.keyword === "FROM")
            scopes.push({ from: ins.line, to: stageEnd(ins), codes: list });
          else if (!m[1]) scopes.push({ from: ins.line, to: ins.endLine, codes: list });
          continue;
        }
        const cm = CHECK_RE.exec(c.text);
        if (cm) {
          const cv = parseCheckValue(cm[1]!);
          const list = expandTwins(cv.skip);
          if (cv.skip.some((x) => x.toLowerCase() === "all")) list.add("*buildkit");
          scopes.push({
            from: ins.line,
            to: ins.keyword === "FROM" ? stageEnd(ins) : ins.endLine,
            codes: list,
          });
        }
      }
    }
  }

  const hasOverride = Object.values(cfg.override).some((l) => l && l.length);
  const levelOf = (id: string, base: Severity, buildkit: boolean): Severity => {
    if (!hasOverride && !check.error) return base;
    let lvl: Severity = base;
    for (const l of ["style", "info", "warning", "error"] as const) {
      if (cfg.override[l]?.includes(id)) lvl = l;
    }
    if (buildkit && check.error && lvl !== "ignore") lvl = "error";
    return lvl;
  };
  const isBuildkit = (id: string) => byId.get(id)?.source === "buildkit";
  const suppressed = (id: string, line: number): boolean => {
    if (globalIgnore.has(id)) return true;
    if (skipAllBuildkit && isBuildkit(id)) return true;
    for (const s of scopes) {
      if (line < s.from || line > s.to) continue;
      if (s.codes.has(id)) return true;
      if (s.codes.has("*buildkit") && isBuildkit(id)) return true;
    }
    return false;
  };
  const enabled = (r: Rule): boolean => {
    if (r.experimental && !check.experimental.some((e) => e === r.id || e.toLowerCase() === "all"))
      return false;
    return levelOf(r.id, r.level, r.source === "buildkit") !== "ignore";
  };

  const options2: RuleOptions = {
    trustedRegistries: options.trustedRegistries ?? cfg.trustedRegistries ?? [],
    labelSchema: options.labelSchema ?? cfg.labelSchema ?? {},
    strictLabels: options.strictLabels ?? cfg.strictLabels ?? false,
    dockerignore: options.dockerignore,
    resolveImagePlatform: options.resolveImagePlatform,
    imageEnv: options.imageEnv,
    targetPlatform: options.targetPlatform,
  };
  let cmdIndex: Map<string, Array<RunCommand & { run: RunInfo }>> | undefined;
  const ctx: RuleContext = Object.assign(Object.create(model) as Model, {
    options: options2,
    commands(...names: string[]) {
      if (!cmdIndex) {
        cmdIndex = new Map();
        for (const run of model.runs) {
          for (const rc of run.commands) {
            const n = rc.cmd.name;
            const b = n.slice(n.lastIndexOf("/") + 1);
            let l = cmdIndex.get(b);
            if (!l) cmdIndex.set(b, (l = []));
            l.push(rc);
          }
        }
      }
      if (names.length === 1) return cmdIndex.get(names[0]!) ?? [];
      if (!names.some((n) => cmdIndex!.has(n))) return [];
      return names
        .flatMap((n) => cmdIndex!.get(n) ?? [])
        .sort((a, b) => a.run.ins.index - b.run.ins.index || a.cmd.start - b.cmd.start);
    },
  });

  for (const rule of rules) {
    if (!enabled(rule)) continue;
    // A BuildKit check whose hadolint twin runs is reported once, under the hadolint id.
    if (rule.source === "buildkit" && rule.twins?.some((t) => byId.has(t) && enabled(byId.get(t)!))) continue;
    const level = levelOf(rule.id, rule.level, rule.source === "buildkit") as Level;
    const url = meta.urls.get(rule.id)!;
    const report = (r: Report) => {
      const line = r.line ?? r.ins?.line ?? 1;
      if (suppressed(rule.id, line)) return;
      const f: Finding = {
        code: rule.id,
        message: r.message ?? rule.description,
        level,
        file,
        line,
        column: r.column ?? r.ins?.column ?? 1,
        url,
      };
      if (r.endLine !== undefined) f.endLine = r.endLine;
      if (r.endColumn !== undefined) f.endColumn = r.endColumn;
      out.push({ f, fix: r.fix });
    };
    rule.check(ctx, report);
  }
  for (const c of covered) {
    const hit = out.some((o) => o.f.code === c.rule && o.f.level === "error" && o.f.line === c.e.line);
    if (!hit) dl1000(c.e);
  }

  if (options.shellcheck && shellcheckAvailable()) {
    for (const sc of runShellcheck(model, file, shellOverride)) {
      const lvl = levelOf(sc.code, sc.level, false);
      if (lvl === "ignore" || suppressed(sc.code, sc.line)) continue;
      out.push({ f: { ...sc, level: lvl as Level } });
    }
  }
  return finish(out);
}

interface RulesMeta {
  byId: Map<string, Rule>;
  twins: Map<string, string[]>;
  urls: Map<string, string>;
}
const metaCache = new WeakMap<Rule[], RulesMeta>();

/** Per rule set: ids, twin groups and docs links, computed once. */
function metaOf(rules: Rule[]): RulesMeta {
  const hit = metaCache.get(rules);
  if (hit) return hit;
  const byId = new Map(rules.map((r) => [r.id, r] as const));
  const twins = new Map<string, string[]>();
  for (const r of rules) {
    const set = new Set<string>([r.id, ...(r.twins ?? [])]);
    for (const other of rules) if (other.twins?.includes(r.id)) set.add(other.id);
    twins.set(r.id, [...set]);
  }
  const urls = new Map(rules.map((r) => [r.id, docsUrlFor(r)] as const));
  const meta = { byId, twins, urls };
  metaCache.set(rules, meta);
  return meta;
}

function docsUrlFor(rule: Rule): string {
  if (rule.source === "hadolint") return `https://github.com/hadolint/hadolint/wiki/${rule.id}`;
  const kebab = rule.id.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return `https://docs.docker.com/go/dockerfile/rule/${kebab}/`;
}

function finish(out: Array<{ f: Finding; fix?: Edit[] }>): LintResult {
  out.sort(
    (a, b) =>
      a.f.line - b.f.line ||
      a.f.column - b.f.column ||
      (a.f.code < b.f.code ? -1 : a.f.code > b.f.code ? 1 : 0) ||
      (a.f.message < b.f.message ? -1 : a.f.message > b.f.message ? 1 : 0),
  );
  return { findings: out.map((o) => o.f), fixes: out.map((o) => o.fix) };
}

/** Whether any finding is at or above the threshold. */
export function exceeds(findings: Finding[], threshold: Level | "none"): boolean {
  if (threshold === "none") return false;
  const t = SEVERITY_ORDER[threshold];
  return findings.some((f) => SEVERITY_ORDER[f.level] >= t);
}
