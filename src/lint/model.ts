/**
 * What rules see: stages (with names, base stages, per-stage instructions), ARG/ENV scopes with
 * `${VAR:-x}` resolution, and RUN instructions analysed as shell (heredoc bodies included, exec
 * form included) with BuildKit mounts and the stage's SHELL.
 */
import { ShellLex } from "../dockerfile/index.js";
import { parseShell, type ShellScript, type SimpleCommand } from "./shell.js";
import {
  literal,
  positionAt,
  splitWords,
  type DockerfileSource,
  type Heredoc,
  type Instruction,
  type Position,
} from "./source.js";

export interface Stage {
  index: number;
  from: Instruction;
  /** The image as written (`alpine:${TAG}`). */
  image: string;
  /** The image with global ARG defaults substituted; undefined when a variable has no value. */
  resolvedImage: string | undefined;
  /** Stage name as written after AS, if any. */
  name?: string;
  platform?: string | null;
  /** The earlier stage this one builds on (`FROM builder`), if any. */
  base?: Stage;
  /** The base image's ENV is known (local store), so every variable's definition is known. */
  baseEnvKnown?: boolean;
  /** Instructions of the stage, FROM first. */
  instructions: Instruction[];
}

export interface Mount {
  type: string;
  target?: string;
  opts: Record<string, string>;
}

export interface ShellPart {
  text: string;
  script: ShellScript;
  at(offset: number): Position;
  heredoc?: Heredoc;
  /** The shell that runs this text when it is not the stage's SHELL (`RUN bash <<EOF`, a shebang). */
  interpreter?: string;
}

export interface RunCommand {
  cmd: SimpleCommand;
  part: ShellPart;
  /** The RUN this command belongs to. */
  run: RunInfo;
}

export interface RunInfo {
  ins: Instruction;
  /** The top-level instruction (the ONBUILD for a trigger). */
  owner: Instruction;
  stage: Stage | undefined;
  parts: ShellPart[];
  commands: RunCommand[];
  hasPipe: boolean;
  mounts: Mount[];
  /** SHELL in effect, e.g. ["/bin/sh", "-c"]. */
  shell: string[];
  exec: boolean;
  onbuild: boolean;
}

/** Variables visible at a point: has/get/keys (a Map is one). */
export interface VarScope {
  has(name: string): boolean;
  get(name: string): string | undefined;
  keys(): IterableIterator<string>;
}

/**
 * A stage's ARG/ENV values as versions by instruction index, so that the scope at every
 * instruction costs O(1) memory (a 5,000-instruction file must not copy maps 5,000 times).
 */
class StageVars {
  readonly versions = new Map<string, Array<{ at: number; value: string | undefined }>>();
  constructor(readonly base: ReadonlyMap<string, string | undefined>) {}
  set(name: string, value: string | undefined, at: number): void {
    let v = this.versions.get(name);
    if (!v) this.versions.set(name, (v = []));
    v.push({ at, value });
  }
  view(at: number): VarScope {
    return new ScopeView(this, at);
  }
}

class ScopeView implements VarScope {
  constructor(
    private readonly sv: StageVars,
    private readonly at: number,
  ) {}
  private find(name: string): { value: string | undefined } | undefined {
    const v = this.sv.versions.get(name);
    if (v && v[0]!.at < this.at) {
      let lo = 0;
      let hi = v.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (v[mid]!.at < this.at) lo = mid;
        else hi = mid - 1;
      }
      return v[lo];
    }
    if (this.sv.base.has(name)) return { value: this.sv.base.get(name) };
    return undefined;
  }
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }
  get(name: string): string | undefined {
    return this.find(name)?.value;
  }
  *keys(): IterableIterator<string> {
    const seen = new Set<string>();
    for (const k of this.sv.base.keys()) {
      seen.add(k);
      yield k;
    }
    for (const [k, v] of this.sv.versions) if (!seen.has(k) && v[0]!.at < this.at) yield k;
  }
}

export const PREDEFINED_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETARCH",
  "TARGETVARIANT",
  "TARGETSTAGE",
  "BUILDKIT_SYNTAX",
];
export const PROXY_ARGS = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];

export interface Model {
  src: DockerfileSource;
  instructions: Instruction[];
  /** Instructions before the first FROM. */
  preamble: Instruction[];
  stages: Stage[];
  globalArgs: Map<string, string | undefined>;
  stageOf(ins: Instruction): Stage | undefined;
  /** Variables visible at an instruction (before it runs). */
  scopeAt(ins: Instruction): VarScope;
  /** Expands $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} in `text`; undefined if a variable is unknown. */
  expand(text: string, scope: VarScope): string | undefined;
  runs: RunInfo[];
  runOf(ins: Instruction): RunInfo | undefined;
  /** Top-level instructions by keyword. */
  byKeyword: ReadonlyMap<string, Instruction[]>;
  /** The stage named `name` (case-insensitive) defined before stage index `before`. */
  stageByName(name: string, before?: number): Stage | undefined;
}

export function buildModel(
  src: DockerfileSource,
  opts: { imageEnv?: (image: string) => Record<string, string> | undefined } = {},
): Model {
  const instructions = src.instructions;
  const resolved = src.loaded.resolved;
  const expand = (t: string, sc: VarScope) => expandWith(t, sc, src.escape);
  const stages: Stage[] = [];
  const preamble: Instruction[] = [];
  const globalArgs = new Map<string, string | undefined>();
  const stageIdx = new Map<Instruction, Stage>();
  const scopes = new Map<Instruction, VarScope>();
  const escape = src.escape;

  let cur: Stage | undefined;
  let vars = new StageVars(new Map());
  let envKeys = new Set<string>();
  /** ENV set by each stage (inherited by stages built on it). */
  const stageEnv = new Map<Stage, Map<string, string | undefined>>();
  const globalScope = (): Map<string, string | undefined> => {
    const m = new Map<string, string | undefined>();
    for (const a of PREDEFINED_ARGS) m.set(a, undefined);
    for (const [k, v] of globalArgs) m.set(k, v);
    return m;
  };
  const closeStage = () => {
    if (!cur) return;
    const env = new Map<string, string | undefined>();
    const end = vars.view(Infinity);
    for (const k of envKeys) env.set(k, end.get(k));
    stageEnv.set(cur, env);
  };
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      closeStage();
      // the typed FROM and its place in the stage graph come from the shared front end
      const typed = ins.typed?.kind === "FROM" ? ins.typed : undefined;
      const image = typed?.image ?? "";
      const gs = globalScope();
      const stage: Stage = {
        index: stages.length,
        from: ins,
        image,
        resolvedImage: expand(image, gs),
        name: typed?.nameAsWritten,
        platform: ins.flags.find((f) => f.name === "platform")?.value,
        instructions: [ins],
      };
      const rs = resolved.stages[stage.index];
      if (rs?.base.type === "stage") stage.base = stages[rs.base.index];
      stages.push(stage);
      cur = stage;
      scopes.set(ins, gs);
      stageIdx.set(ins, stage);
      // A stage inherits the ENV (not the ARGs) of its base stage, or of its base image when known.
      let imgEnv: Record<string, string> | undefined;
      if (!stage.base && stage.resolvedImage && stage.resolvedImage.toLowerCase() !== "scratch")
        imgEnv = opts.imageEnv?.(stage.resolvedImage);
      if (imgEnv) stage.baseEnvKnown = true;
      else if (stage.base?.baseEnvKnown) stage.baseEnvKnown = true;
      const inherited = new Map<string, string | undefined>(
        stage.base ? stageEnv.get(stage.base) : Object.entries(imgEnv ?? {}),
      );
      vars = new StageVars(inherited);
      envKeys = new Set(inherited.keys());
      continue;
    }
    if (!cur) {
      preamble.push(ins);
      scopes.set(ins, globalScope());
      if (ins.keyword === "ARG") {
        for (const [k, v] of argPairs(ins, escape)) {
          globalArgs.set(k, v === undefined ? undefined : (expand(v, globalScope()) ?? v));
        }
      }
      continue;
    }
    cur.instructions.push(ins);
    stageIdx.set(ins, cur);
    scopes.set(ins, vars.view(ins.index));
    if (ins.keyword === "ARG") {
      for (const [k, v] of argPairs(ins, escape)) {
        const now = vars.view(Infinity);
        if (v !== undefined) vars.set(k, expand(v, now) ?? v, ins.index);
        else if (now.get(k) === undefined)
          vars.set(k, globalArgs.has(k) ? globalArgs.get(k) : undefined, ins.index);
      }
    } else if (ins.keyword === "ENV") {
      const before = vars.view(ins.index);
      for (const p of kvPairs(ins, escape)) {
        vars.set(p.key, expand(p.value, before) ?? p.value, ins.index);
        envKeys.add(p.key);
      }
    }
  }
  closeStage();

  // RUNs are analysed as shell only when a rule asks (the build checks never do)
  let runs: RunInfo[] | undefined;
  const runIdx = new Map<Instruction, RunInfo>();
  const analyseRuns = (): RunInfo[] => {
    if (runs) return runs;
    runs = [];
    for (const stage of stages) {
      let shell: string[] = stage.base ? shellOf(stage.base) : ["/bin/sh", "-c"];
      for (const ins of stage.instructions) {
        if (ins.keyword === "SHELL" && ins.json) shell = ins.json;
        const target =
          ins.keyword === "RUN"
            ? ins
            : ins.keyword === "ONBUILD" && ins.trigger?.keyword === "RUN"
              ? ins.trigger
              : undefined;
        if (!target) continue;
        const info = analyseRun(target, ins, stage, shell);
        runs.push(info);
        runIdx.set(ins, info);
        if (target !== ins) runIdx.set(target, info);
      }
    }
    return runs;
  };
  function shellOf(stage: Stage): string[] {
    let sh: string[] = stage.base ? shellOf(stage.base) : ["/bin/sh", "-c"];
    for (const ins of stage.instructions) if (ins.keyword === "SHELL" && ins.json) sh = ins.json;
    return sh;
  }

  const byKeyword = new Map<string, Instruction[]>();
  for (const ins of instructions) {
    let l = byKeyword.get(ins.keyword);
    if (!l) byKeyword.set(ins.keyword, (l = []));
    l.push(ins);
  }
  return {
    src,
    byKeyword,
    instructions,
    preamble,
    stages,
    globalArgs,
    stageOf: (ins) => stageIdx.get(ins),
    scopeAt: (ins) => scopes.get(ins) ?? new Map(),
    expand,
    get runs() {
      return analyseRuns();
    },
    runOf: (ins) => (analyseRuns(), runIdx.get(ins)),
    stageByName(name, before = Infinity) {
      const n = name.toLowerCase();
      return stages.find((s) => s.index < before && s.name !== undefined && s.name.toLowerCase() === n);
    },
  };
}

/** ARG name[=default] … pairs (the shared typed ARG's). */
const argMemo = new WeakMap<Instruction, Array<[string, string | undefined]>>();
export function argPairs(ins: Instruction, escape = "\\"): Array<[string, string | undefined]> {
  let hit = argMemo.get(ins);
  if (!hit) {
    const t = ins.typed;
    hit =
      t?.kind === "ARG"
        ? t.args.map(
            (a) =>
              [literal(a.key, escape), a.value === undefined ? undefined : literal(a.value, escape)] as [
                string,
                string | undefined,
              ],
          )
        : [];
    argMemo.set(ins, hit);
  }
  return hit;
}

export interface KV {
  key: string;
  value: string;
  /** Logical offsets in the instruction of the key and the whole pair. */
  start: number;
  end: number;
  legacy: boolean;
}

/** ENV/LABEL pairs: `k=v k2="v 2"` or the legacy `k v` form. */
const kvMemo = new WeakMap<Instruction, KV[]>();
export function kvPairs(ins: Instruction, escape = "\\"): KV[] {
  let hit = kvMemo.get(ins);
  if (!hit) kvMemo.set(ins, (hit = kvPairsUncached(ins, escape)));
  return hit;
}

function kvPairsUncached(ins: Instruction, escape: string): KV[] {
  // keys and values are the shared typed ENV/LABEL's; words only place them in the text
  const t = ins.typed;
  if (t?.kind !== "ENV" && t?.kind !== "LABEL") return [];
  const base = ins.argsStart;
  if (t.pairs.length === 1 && t.pairs[0]!.legacy) {
    const w0 = splitWords(ins.args, escape)[0];
    const p = t.pairs[0]!;
    return [
      {
        key: literal(p.key, escape),
        value: literal(p.value, escape),
        start: base + (w0?.start ?? 0),
        end: base + ins.args.length,
        legacy: true,
      },
    ];
  }
  const words = splitWords(ins.args, escape);
  return t.pairs.map((p, i) => {
    const w = words[i];
    return {
      key: literal(p.key, escape),
      value: literal(p.value, escape),
      start: base + (w?.start ?? 0),
      end: base + (w?.end ?? ins.args.length),
      legacy: p.legacy === true,
    };
  });
}

const expandLexers = new Map<string, ShellLex>();
/**
 * BuildKit's expansion (the shared lexer; quotes are left as they are, the values rules expand
 * are already unquoted); undefined when a variable the result depends on has no known value.
 */
export function expandWith(text: string, scope: VarScope, escape = "\\"): string | undefined {
  if (!text.includes("$")) return text;
  let lex = expandLexers.get(escape);
  if (!lex) expandLexers.set(escape, (lex = new ShellLex(escape, { skipProcessQuotes: true })));
  try {
    const r = lex.process(text, { get: (k) => scope.get(k) });
    return r.unknown.size > 0 ? undefined : r.result;
  } catch {
    return undefined;
  }
}

/** Variable names referenced in `text` ($X, ${X}, ${X:-…}); escaped `\$` skipped. */
export function referencedVars(text: string, escape = "\\"): Array<{ name: string; index: number }> {
  const out: Array<{ name: string; index: number }> = [];
  const re = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g;
  let m: RegExpExecArray | null;
  let inSingle = false;
  let last = 0;
  while ((m = re.exec(text))) {
    // Single quotes stop expansion in BuildKit word processing.
    for (let k = last; k < m.index; k++) if (text[k] === "'") inSingle = !inSingle;
    last = m.index;
    if (inSingle) continue;
    if (m.index > 0 && text[m.index - 1] === escape) continue;
    out.push({ name: (m[1] ?? m[2])!, index: m.index });
  }
  return out;
}

/** RUN --mount flags, as the shared instruction layer parsed them (values unexpanded). */
export function parseMounts(ins: Instruction): Mount[] {
  const t = ins.typed;
  if (t?.kind !== "RUN") return [];
  return t.mounts.map((m) => {
    const opts: Record<string, string> = {};
    if (m.id !== undefined) opts.id = m.id;
    if (m.from !== undefined) opts.from = m.from;
    if (m.source !== undefined) opts.source = m.source;
    if (m.sharing !== undefined) opts.sharing = m.sharing;
    return {
      type: m.type,
      target: m.target?.replace(/\/+$/, "") || m.target,
      opts,
    };
  });
}

const SHELLS = /^(?:\/usr)?(?:\/bin\/)?(?:sh|bash|dash|ash|ksh|zsh|mksh)$/;

function analyseRun(ins: Instruction, owner: Instruction, stage: Stage, shell: string[]): RunInfo {
  const parts: ShellPart[] = [];
  const mounts = parseMounts(ins);
  const posix = shell.length === 0 || SHELLS.test(shell[0]!);
  const exec = ins.json !== null;
  const addPart = (text: string, at: (o: number) => Position, heredoc?: Heredoc, interpreter?: string) => {
    parts.push({ text, script: parseShell(text), at, heredoc, interpreter });
  };
  if (ins.json) {
    const j = ins.json;
    const pos = positionAt(ins, ins.argsStart);
    const at = () => pos;
    if (j.length >= 3 && SHELLS.test(j[0]!) && j[1] === "-c") addPart(j[2]!, at);
    else if (j.length) addPart(j.map((a) => shellQuote(a)).join(" "), at);
  } else if (posix) {
    const hds = ins.heredocs;
    const argText = ins.args;
    const only =
      hds.length > 0 && argText.replace(/<<-?(["']?)[A-Za-z0-9_][A-Za-z0-9_.-]*\1/g, "").trim() === "";
    if (!only) addPart(argText, (o) => positionAt(ins, ins.argsStart + Math.min(o, argText.length)));
    for (const [n, h] of hds.entries()) {
      const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(h.body);
      const interp = shebang ? (shebang[1]!.endsWith("/env") ? (shebang[2] ?? "") : shebang[1]!) : "";
      const isShell = shebang ? SHELLS.test(interp) || SHELLS.test("/bin/" + interp) : true;
      // The body is shell when it is the whole command, or fed to a shell (`RUN bash <<EOF`).
      const fed =
        !only &&
        n === 0 &&
        /^\s*(?:\S*\/)?(?:sh|bash|dash|ash|ksh)(?:\s|$)/.test(
          argText.replace(/<<-?(["']?)[A-Za-z0-9_][A-Za-z0-9_.-]*\1/g, " ").replace(/^\s+/, ""),
        );
      const fedBy = fed
        ? /(sh|bash|dash|ash|ksh)/.exec(
            argText.replace(/<<-?(["']?)[A-Za-z0-9_][A-Za-z0-9_.-]*\1/g, " "),
          )?.[1]
        : undefined;
      const shebangBy = shebang ? /(sh|bash|dash|ash|ksh)$/.exec(interp)?.[1] : undefined;
      if ((only && n === 0 && isShell) || fed) addPart(h.body, bodyMapper(h, ins), h, shebangBy ?? fedBy);
    }
  }
  const commands: RunCommand[] = [];
  let hasPipe = false;
  const info: RunInfo = {
    ins,
    owner,
    stage,
    parts,
    commands,
    hasPipe,
    mounts,
    shell,
    exec,
    onbuild: owner !== ins,
  };
  for (const p of parts) {
    for (const c of p.script.commands) commands.push({ cmd: c, part: p, run: info });
    hasPipe ||= p.script.hasPipe;
  }
  info.hasPipe = hasPipe;
  return info;
}

function bodyMapper(h: Heredoc, ins: Instruction): (o: number) => Position {
  const starts: number[] = [0];
  for (let k = 0; k < h.body.length; k++) if (h.body[k] === "\n") starts.push(k + 1);
  return (o) => {
    let line = 0;
    while (line + 1 < starts.length && starts[line + 1]! <= o) line++;
    return {
      line: h.bodyLine + line,
      column: o - starts[line]! + 1 + (h.indent[line] ?? 0),
      offset: ins.offset,
    };
  };
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Whether a RUN has a cache or tmpfs mount at (or above) one of the given paths. */
export function hasCacheMount(run: RunInfo, ...paths: string[]): boolean {
  return run.mounts.some(
    (m) =>
      (m.type === "cache" || m.type === "tmpfs") &&
      m.target !== undefined &&
      paths.some((p) => p === m.target || p.startsWith(m.target + "/")),
  );
}

/** Splits an image reference into name, tag and digest (registry port kept in the name). */
export function splitImage(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}
