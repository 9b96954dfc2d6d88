import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command, CommandIO } from "../command.js";
import type { ParsedArgs } from "../args.js";
import { ExitCode } from "../exit-codes.js";
import { DockyardError } from "../../image/errors.js";
import { atomicWriteFile } from "../../util/fs.js";
import { loadDockerfile } from "../../dockerfile/index.js";
import { formatPlatform, hostPlatform } from "../../image/platform.js";
import type { LocalStore } from "../../image/transports/store.js";
import { localBaseImages } from "../../lint/base-images.js";

async function openLocalStore(): Promise<LocalStore> {
  const { LocalStore } = await import("../../image/transports/store.js");
  return new LocalStore();
}
import {
  RULES,
  RULES_BY_ID,
  docsUrl,
  emptyConfig,
  findConfig,
  fixText,
  lint,
  loadConfigFile,
  parseRequireLabel,
  type Finding,
  type LintConfig,
  type Threshold,
} from "../../lint/index.js";
import { rulesMarkdown } from "../../lint/docs.js";
import { FORMAT_NAMES, formatFindings, resolveFormatName } from "../../lint/formatters/index.js";
import { VERSION } from "../../version.js";
import { SEVERITY_ORDER } from "../../lint/finding.js";

const FORMATS: string[] = FORMAT_NAMES;
const THRESHOLDS = ["error", "warning", "info", "style", "ignore", "none"];

function list(v: unknown): string[] {
  if (v === undefined || v === false) return [];
  const arr = Array.isArray(v) ? v : [String(v)];
  return arr
    .flatMap((s) => String(s).split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function format(
  name: string,
  findings: Finding[],
  io: CommandIO,
  sources: Map<string, string>,
  files: string[],
): string {
  return formatFindings(name, findings, {
    sources,
    files,
    color: !!io.stdout.isTTY && !process.env.NO_COLOR,
    version: VERSION,
    rules: (code) => {
      const r = RULES_BY_ID.get(code);
      if (r) return { description: r.description, url: docsUrl(r) };
      if (code.startsWith("SC")) return { url: `https://www.shellcheck.net/wiki/${code}` };
      if (code === "DL1000") return { description: "Dockerfile parse error" };
      return undefined;
    },
  });
}

/** A unified diff of two texts whose edits never change the line count (our fixes don't). */
export function unifiedDiff(a: string, b: string, name: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  const rel = !name.startsWith("/") && name !== "-";
  const out = [rel ? `--- a/${name}` : `--- ${name}`, rel ? `+++ b/${name}` : `+++ ${name}`];
  if (al.length !== bl.length) {
    out.push(`@@ -1,${al.length} +1,${bl.length} @@`, ...al.map((l) => "-" + l), ...bl.map((l) => "+" + l));
    return out.join("\n") + "\n";
  }
  const changed: number[] = [];
  for (let i = 0; i < al.length; i++) if (al[i] !== bl[i]) changed.push(i);
  const C = 3;
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - C);
    let end = Math.min(al.length - 1, changed[k]! + C);
    let j = k;
    while (j + 1 < changed.length && changed[j + 1]! - C <= end + 1) {
      j++;
      end = Math.min(al.length - 1, changed[j]! + C);
    }
    const body: string[] = [];
    for (let i = start; i <= end; i++) {
      if (al[i] === bl[i]) body.push(" " + al[i]);
      else {
        body.push("-" + al[i]);
        body.push("+" + bl[i]);
      }
    }
    const n = end - start + 1;
    out.push(`@@ -${start + 1},${n} +${start + 1},${n} @@`, ...body);
    k = j + 1;
  }
  return out.join("\n") + "\n";
}

function resolveConfig(args: ParsedArgs): LintConfig {
  const f = args.flags;
  let cfg = emptyConfig();
  const path = (f.config as string | undefined) ?? findConfig(process.cwd());
  if (f.config && !existsSync(f.config as string)) {
    throw new DockyardError("CONFIG_INVALID", `config file ${String(f.config)} does not exist`);
  }
  if (path) cfg = loadConfigFile(path);
  // Environment (hadolint's variables), then flags.
  const env = process.env;
  if (env.HADOLINT_NOFAIL) cfg.noFail = !["0", "false", ""].includes(env.HADOLINT_NOFAIL);
  if (env.HADOLINT_FAILURE_THRESHOLD) cfg.failureThreshold = env.HADOLINT_FAILURE_THRESHOLD as Threshold;
  if (env.HADOLINT_IGNORE) cfg.ignored = list(env.HADOLINT_IGNORE);
  if (env.HADOLINT_TRUSTED_REGISTRIES) cfg.trustedRegistries = list(env.HADOLINT_TRUSTED_REGISTRIES);
  if (env.HADOLINT_STRICT_LABELS) cfg.strictLabels = !["0", "false", ""].includes(env.HADOLINT_STRICT_LABELS);
  if (env.HADOLINT_DISABLE_IGNORE_PRAGMA)
    cfg.disableIgnorePragma = !["0", "false", ""].includes(env.HADOLINT_DISABLE_IGNORE_PRAGMA);
  for (const lvl of ["error", "warning", "info", "style"] as const) {
    const e = env[`HADOLINT_OVERRIDE_${lvl.toUpperCase()}`];
    if (e) cfg.override[lvl] = [...(cfg.override[lvl] ?? []), ...list(e)];
    const fl = list(f[lvl]);
    if (fl.length) cfg.override[lvl] = [...(cfg.override[lvl] ?? []), ...fl];
  }
  if (env.HADOLINT_REQUIRE_LABELS)
    for (const l of list(env.HADOLINT_REQUIRE_LABELS)) {
      const [k, t] = parseRequireLabel(l);
      cfg.labelSchema[k] = t;
    }
  const ignore = list(f.ignore);
  if (ignore.length) cfg.ignored = ignore; // hadolint: --ignore replaces the config's list
  const trusted = list(f["trusted-registry"]);
  if (trusted.length) cfg.trustedRegistries = trusted;
  for (const l of list(f["require-label"])) {
    const [k, t] = parseRequireLabel(l);
    cfg.labelSchema[k] = t;
  }
  if (f["strict-labels"] === true) cfg.strictLabels = true;
  if (f["disable-ignore-pragma"] === true) cfg.disableIgnorePragma = true;
  if (f["no-fail"] === true) cfg.noFail = true;
  if (typeof f["failure-threshold"] === "string") cfg.failureThreshold = f["failure-threshold"] as Threshold;
  if (cfg.failureThreshold && !THRESHOLDS.includes(cfg.failureThreshold)) {
    throw new DockyardError("USAGE", `--failure-threshold must be one of ${THRESHOLDS.join(", ")}`);
  }
  if ((cfg.failureThreshold as string) === "ignore") cfg.failureThreshold = "none";
  return cfg;
}

function dockerignoreFor(file: string): string | undefined {
  if (file === "-") return existsSync(".dockerignore") ? readFileSync(".dockerignore", "utf8") : undefined;
  const own = `${file}.dockerignore`;
  if (existsSync(own)) return readFileSync(own, "utf8");
  const dir = join(dirname(file), ".dockerignore");
  return existsSync(dir) ? readFileSync(dir, "utf8") : undefined;
}

async function run(args: ParsedArgs, io: CommandIO): Promise<number> {
  const f = args.flags;
  const cfg = resolveConfig(args);
  const fmt = (f.format as string | undefined) ?? cfg.format ?? "tty";
  if (f["list-rules"]) {
    if (fmt === "markdown") io.stdout.write(rulesMarkdown());
    else if (fmt === "json") {
      io.stdout.write(
        JSON.stringify(
          RULES.map((r) => ({
            id: r.id,
            level: r.level,
            source: r.source,
            description: r.description,
            url: docsUrl(r),
            fixable: !!r.fixable,
            twins: r.twins ?? [],
            experimental: !!r.experimental,
          })),
          null,
          2,
        ) + "\n",
      );
    } else {
      for (const r of RULES) io.stdout.write(`${r.id.padEnd(32)} ${r.level.padEnd(8)} ${r.description}\n`);
    }
    return ExitCode.ok;
  }
  if (!resolveFormatName(fmt))
    throw new DockyardError("USAGE", `unknown --format ${fmt} (use ${FORMATS.join(", ")})`);
  const files = args.positionals;
  if (files.length === 0)
    throw new DockyardError("USAGE", "lint needs a Dockerfile path (or - for stdin); see --help");
  const threshold = (cfg.failureThreshold ?? "info") as Threshold;
  const useShellcheck = f.shellcheck !== false;
  const all: Finding[] = [];
  const sources = new Map<string, string>();
  const names: string[] = [];
  let localStore: LocalStore | undefined;
  const hostPlatformName = formatPlatform(hostPlatform());
  let unreadable = false;
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? await readStdin(io.stdin) : readFileSync(file, "utf8");
    } catch (err) {
      io.stderr.write(
        `dockyard lint: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
      );
      unreadable = true;
      continue;
    }
    const name = file === "-" ? ((f["file-path-in-report"] as string | undefined) ?? "-") : file;
    const opts = {
      file: name,
      config: cfg,
      shellcheck: useShellcheck,
      dockerignore: dockerignoreFor(file),
    };
    if (f.fix) {
      const fixed = fixText(text, opts);
      if (fixed.text !== text) {
        if (f["dry-run"]) io.stdout.write(unifiedDiff(text, fixed.text, name));
        else if (file === "-") io.stdout.write(fixed.text);
        else {
          await atomicWriteFile(file, fixed.text);
          io.stderr.write(
            `dockyard lint: ${file}: applied ${fixed.applied} fix${fixed.applied === 1 ? "" : "es"}\n`,
          );
        }
        if (!f["dry-run"]) text = fixed.text;
      }
    }
    sources.set(name, text);
    names.push(name);
    // base images in the local store (never fetched): their platform and ENV
    const loaded = loadDockerfile(text, { file: name });
    const bases = await localBaseImages(loaded, { store: (localStore ??= await openLocalStore()) });
    all.push(
      ...lint(text, {
        ...opts,
        loaded,
        resolveImagePlatform: bases.resolveImagePlatform,
        imageEnv: bases.imageEnv,
        targetPlatform: hostPlatformName,
      }).findings,
    );
  }
  if (!(f.fix && (f["dry-run"] || files.includes("-"))))
    io.stdout.write(format(fmt, all, io, sources, names));
  if (unreadable) return ExitCode.invalidInput;
  if (cfg.noFail) return ExitCode.ok;
  const failing =
    all.some((x) => x.code === "DL1000") ||
    (threshold !== "none" && all.some((x) => SEVERITY_ORDER[x.level] >= SEVERITY_ORDER[threshold]));
  return failing ? ExitCode.findings : ExitCode.ok;
}

export const commands: Command[] = [
  {
    name: "lint",
    summary: "Lint Dockerfiles: hadolint's DL rules, BuildKit's build checks, ShellCheck on RUN",
    usage: "lint [flags] FILE… (- for stdin)",
    help: `
Checks Dockerfiles with every hadolint rule (DL3000…DL4006, same ids, levels and pragmas) and every
BuildKit build check (JSONArgsRecommended, UndefinedVar…). RUN commands are analysed as shell
(heredoc bodies too); with the shellcheck binary installed its findings come through as SCxxxx.

Configuration as hadolint has it: .hadolint.yaml in the current directory, then
$XDG_CONFIG_HOME/hadolint.yaml, ~/.config/hadolint.yaml, ~/.hadolint/hadolint.yaml,
~/hadolint/config.yaml, ~/.hadolint.yaml (or --config). Keys: ignored, override, failure-threshold,
trustedRegistries, label-schema, strict-labels, disable-ignore-pragma, no-fail, format.
In the Dockerfile: "# check=skip=Rule,…;error=true" at the top (BuildKit), "# hadolint ignore=DL3008"
or "# check=skip=Rule" above an instruction, "# hadolint global ignore=…", "# hadolint stage ignore=…"
above a FROM. Layering: defaults < config file < HADOLINT_* environment < flags.

A BuildKit check that has a hadolint twin (MaintainerDeprecated ≈ DL4000…) is reported once, under
the hadolint id; ignoring either id silences both.

Exit codes: 0 no finding at or above the threshold, 1 findings at or above it (or a parse error,
DL1000), 2 usage or config error, 3 a file could not be read.

Examples:
  dockyard lint Dockerfile
  dockyard lint --format json --failure-threshold warning Dockerfile build/*.Dockerfile
  cat Dockerfile | dockyard lint -
  dockyard lint --fix --dry-run Dockerfile     # show the safe fixes as a diff
  dockyard lint --list-rules --format markdown`,
    flags: [
      {
        name: "format",
        short: "f",
        type: "string",
        valueName: "FORMAT",
        description: `output format: ${FORMATS.join("|")}`,
        env: "HADOLINT_FORMAT",
      },
      {
        name: "failure-threshold",
        short: "t",
        type: "string",
        valueName: "LEVEL",
        description: "exit 1 when a finding is at or above: error|warning|info|style|none (default info)",
      },
      {
        name: "config",
        short: "c",
        type: "string",
        valueName: "FILE",
        description: "hadolint-style config file (default: searched like hadolint)",
      },
      {
        name: "ignore",
        type: "string[]",
        valueName: "RULE",
        description: "ignore a rule (replaces the config's ignored list)",
      },
      { name: "error", type: "string[]", valueName: "RULE", description: "make a rule an error" },
      { name: "warning", type: "string[]", valueName: "RULE", description: "make a rule a warning" },
      { name: "info", type: "string[]", valueName: "RULE", description: "make a rule info" },
      { name: "style", type: "string[]", valueName: "RULE", description: "make a rule style" },
      {
        name: "trusted-registry",
        type: "string[]",
        valueName: "REGISTRY",
        description: "allowed registry for FROM (DL3026); globs like *.gcr.io",
      },
      {
        name: "require-label",
        type: "string[]",
        valueName: "NAME:TYPE",
        description: "required label with type text|url|semver|hash|rfc3339|spdx|email",
      },
      {
        name: "strict-labels",
        type: "boolean",
        description: "report labels not in the label schema (DL3050)",
      },
      { name: "disable-ignore-pragma", type: "boolean", description: "do not honour inline ignore pragmas" },
      {
        name: "shellcheck",
        type: "boolean",
        default: true,
        description: "run shellcheck on RUN when installed (--no-shellcheck to skip)",
      },
      { name: "no-fail", type: "boolean", description: "always exit 0 when the files could be read" },
      {
        name: "file-path-in-report",
        type: "string",
        valueName: "NAME",
        description: "file name to report for stdin",
      },
      {
        name: "list-rules",
        type: "boolean",
        description: "list the rules (with --format markdown|json for a table)",
      },
      { name: "fix", type: "boolean", description: "apply the safe fixes in place (atomic write)" },
      {
        name: "dry-run",
        type: "boolean",
        description: "with --fix: print a unified diff and change nothing",
      },
    ],
    run,
  },
];
