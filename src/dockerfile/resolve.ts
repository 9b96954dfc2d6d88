/**
 * ARG/ENV scoping, variable expansion and the stage graph, as BuildKit's dockerfile2llb applies
 * them: global ARGs (before the first FROM) plus the predefined platform ARGs expand FROM lines; a
 * stage sees a global ARG only after re-declaring it (`ARG NAME`); ENV and ARG values are visible to
 * later instructions of the stage and of stages built FROM it; the instructions BuildKit expands
 * (ENV, LABEL, ARG, ADD, COPY, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, RUN --mount, COPY/ADD
 * heredocs with an unquoted delimiter) get their words expanded.
 */
import { InstructionError } from "./errors.js";
import type {
  ArgInstruction,
  CopyInstruction,
  DockerfileModel,
  Instruction,
  RunInstruction,
  Stage,
} from "./instructions.js";
import { ShellLex, ShellLexError, type EnvGetter } from "./lexer.js";
import { parseMount, type Mount } from "./mount.js";
import type { ParseError } from "./types.js";
import { parseChmod } from "./chmod.js";

/** ARGs BuildKit defines for every build, in the global scope. */
export const PLATFORM_ARGS = [
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETARCH",
  "TARGETVARIANT",
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDARCH",
  "BUILDVARIANT",
] as const;

/** Build args accepted without an ARG instruction; passed to RUN only. */
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
] as const;

export interface ResolveOptions {
  /** `--build-arg` values. */
  buildArgs?: Record<string, string>;
  /** `os/arch[/variant]`; default: the build platform. */
  targetPlatform?: string;
  /** default: this machine (`linux/amd64`, `linux/arm64`, …). */
  buildPlatform?: string;
  /** Stage name or index to build; default: the last stage. */
  target?: string;
  /** The environment of a base image (its config's Env), when known. */
  imageEnv?: (image: string, platform: string | undefined) => Record<string, string> | undefined;
}

export interface ResolvedInstruction {
  instruction: Instruction;
  /** The instruction with its words expanded (the same object when BuildKit expands nothing in it). */
  expanded: Instruction;
  /** Variables visible before the instruction (ENV and ARG of the stage so far). Shared, do not mutate. */
  env: ReadonlyMap<string, string>;
  /** Variables referenced while expanding it that were not set. */
  unmatched: string[];
  error?: string;
}

export type StageBase =
  { type: "stage"; index: number } | { type: "image"; ref: string } | { type: "scratch" };

export interface StageEdge {
  kind: "base" | "copy" | "mount";
  /** The stage that depends. */
  from: number;
  /** The stage depended on; undefined when `image` is set instead. */
  to?: number;
  /** An image reference (`COPY --from=nginx`). */
  image?: string;
  instruction: Instruction;
}

export interface ResolvedStage {
  index: number;
  name?: string;
  stage: Stage;
  /** The FROM image after expansion. */
  baseName: string;
  /** The FROM --platform value after expansion. */
  platform?: string;
  base: StageBase;
  instructions: ResolvedInstruction[];
  /** Edges to what this stage needs, in instruction order. */
  deps: StageEdge[];
  /** The environment at the end of the stage. */
  env: ReadonlyMap<string, string>;
  /** Variables referenced in the FROM line that were not set. */
  fromUnmatched: string[];
}

export interface ResolvedDockerfile {
  model: DockerfileModel;
  /** Global scope: predefined platform ARGs and the ARGs before the first FROM that have a value. */
  globalArgs: ReadonlyMap<string, string>;
  stages: ResolvedStage[];
  /** Lower-cased stage name → index. */
  byName: Map<string, number>;
  /** Index of the stage to build. */
  target: number;
  /** Stages the target needs, dependencies first, the target last. */
  needed: number[];
  edges: StageEdge[];
  /** Model errors plus expansion and graph errors. */
  errors: ParseError[];
  /** Build args that no ARG in a needed stage (or the global scope) declares. */
  unusedBuildArgs: string[];
  /**
   * Expand one instruction of a stage with the variables visible before it (`env`: the stage's ARG
   * and ENV values, e.g. with a base image's ENV that only the build knows), exactly as the static
   * pass does (ARG defaults from the global scope and `--build-arg`s included). Throws
   * `InstructionError` or `ShellLexError`; variables that were not set go to `unmatched` if given.
   */
  expand(ins: Instruction, env: ReadonlyMap<string, string>, unmatched?: Set<string>): Instruction;
  /** What a `--from` / `from=` word (expanded) names: a stage by name or index, or an image. */
  stageRef(from: string): { stage: number } | { image: string } | { error: string };
}

const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
};

function hostPlatform(): string {
  return `linux/${NODE_ARCH[process.arch] ?? process.arch}`;
}

/** The predefined platform ARGs for a target and build platform. */
export function platformArgs(target: string, build: string): Map<string, string> {
  const m = new Map<string, string>();
  const set = (prefix: string, p: string) => {
    const [os = "", arch = "", variant = ""] = p.split("/");
    m.set(prefix + "PLATFORM", p);
    m.set(prefix + "OS", os);
    m.set(prefix + "ARCH", arch);
    m.set(prefix + "VARIANT", variant);
  };
  set("TARGET", target);
  set("BUILD", build);
  return m;
}

class Expander {
  readonly lex: ShellLex;
  readonly rawLex = new ShellLex("\\", { skipProcessQuotes: true });
  unmatched = new Set<string>();
  constructor(escape: string) {
    this.lex = new ShellLex(escape);
  }
  word(w: string, env: ReadonlyMap<string, string>): string {
    if (!needsLex(w, this.lex.escape)) return w;
    const r = this.lex.process(w, mapEnv(env));
    for (const u of r.unmatched) this.unmatched.add(u);
    return r.result;
  }
  /** Expand and split into words (BuildKit's ProcessWords: EXPOSE). */
  words(w: string, env: ReadonlyMap<string, string>): string[] {
    if (!needsLex(w, this.lex.escape)) return w.split(/[ \t\r\n]+/).filter((x) => x !== "");
    const r = this.lex.process(w, mapEnv(env));
    for (const u of r.unmatched) this.unmatched.add(u);
    return r.words;
  }
  raw(w: string, env: ReadonlyMap<string, string>): string {
    if (w.indexOf("$") < 0) return w;
    const r = this.rawLex.process(w, mapEnv(env));
    for (const u of r.unmatched) this.unmatched.add(u);
    return r.result;
  }
}

/** Whether the lexer could change the word: a `$`, a quote or the escape character. */
function needsLex(w: string, escape: string): boolean {
  const e = escape.charCodeAt(0);
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c === 0x24 || c === 0x22 || c === 0x27 || c === e) return true;
  }
  return false;
}

/**
 * The environment seen by each instruction of a stage, without copying a map per instruction:
 * one assignment log per stage; a snapshot is built when someone asks for it.
 */
class EnvLog {
  readonly log: [string, string][] = [];
  readonly live: Map<string, string>;
  constructor(base: Iterable<[string, string]>) {
    this.live = new Map(base);
    for (const e of this.live) this.log.push(e);
  }
  set(k: string, v: string): void {
    this.live.set(k, v);
    this.log.push([k, v]);
  }
}

class LazyResolvedInstruction implements ResolvedInstruction {
  expanded: Instruction;
  unmatched: string[] = [];
  error?: string;
  private cached?: Map<string, string>;
  constructor(
    readonly instruction: Instruction,
    private readonly envLog: EnvLog,
    private readonly len: number,
  ) {
    this.expanded = instruction;
  }
  get env(): ReadonlyMap<string, string> {
    return (this.cached ??= new Map(this.envLog.log.slice(0, this.len)));
  }
}

function mapEnv(m: ReadonlyMap<string, string>): EnvGetter {
  return { get: (k) => m.get(k) };
}

/** Expand a word with variables (BuildKit's ProcessWord); throws ShellLexError. */
export function expandWord(
  word: string,
  vars: ReadonlyMap<string, string> | Record<string, string>,
  escape = "\\",
): string {
  const env: EnvGetter =
    vars instanceof Map ? { get: (k) => vars.get(k) } : { get: (k) => (vars as Record<string, string>)[k] };
  return new ShellLex(escape).processWord(word, env);
}

/** Resolve stage references, expansions and the build graph. Never throws on bad input. */
export function resolveDockerfile(model: DockerfileModel, options: ResolveOptions = {}): ResolvedDockerfile {
  const errors: ParseError[] = [...model.errors];
  const buildArgs = options.buildArgs ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(buildArgs, k);
  const buildPlatform = options.buildPlatform ?? hostPlatform();
  const targetPlatform = options.targetPlatform ?? buildPlatform;
  const ex = new Expander(model.parse.escape);
  const declared = new Set<string>();

  // global scope
  const global = platformArgs(targetPlatform, buildPlatform);
  const metaDefaults = new Map<string, string>(global);
  for (const a of model.metaArgs) {
    for (const { key, value } of a.args) {
      declared.add(key);
      let v: string | undefined;
      if (has(key)) v = buildArgs[key];
      else if (value !== undefined) {
        try {
          v = ex.word(value, global);
        } catch (e) {
          if (!(e instanceof ShellLexError)) throw e;
          errors.push({ message: e.message, range: a.range });
        }
      }
      if (v !== undefined) {
        global.set(key, v);
        metaDefaults.set(key, v);
      }
    }
  }

  const ctx: ArgContext = { buildArgs, has, metaDefaults, declared };
  const byName = new Map<string, number>();
  const stages: ResolvedStage[] = [];
  const edges: StageEdge[] = [];
  for (const st of model.stages) {
    ex.unmatched = new Set();
    let baseName = st.from.image;
    let platform = st.from.platform;
    try {
      baseName = ex.word(st.from.image, global);
      if (platform !== undefined) platform = ex.word(platform, global);
    } catch (e) {
      if (!(e instanceof ShellLexError)) throw e;
      errors.push({ message: e.message, range: st.from.range });
    }
    const fromUnmatched = [...ex.unmatched];
    if (baseName === "") {
      errors.push({ message: `base name (${st.from.image}) should not be blank`, range: st.from.range });
    }
    let base: StageBase;
    const baseIdx = byName.get(baseName.toLowerCase());
    if (baseIdx !== undefined) base = { type: "stage", index: baseIdx };
    else if (baseName === "scratch") base = { type: "scratch" };
    else base = { type: "image", ref: baseName };

    let env: Map<string, string>;
    if (base.type === "stage") env = new Map(stages[base.index].env);
    else if (base.type === "image")
      env = new Map(Object.entries(options.imageEnv?.(baseName, platform) ?? {}));
    else env = new Map();

    const rs: ResolvedStage = {
      index: st.index,
      stage: st,
      baseName,
      base,
      instructions: [],
      deps: [],
      env,
      fromUnmatched,
    };
    if (st.name) rs.name = st.name;
    if (platform !== undefined) rs.platform = platform;
    if (base.type === "stage") {
      const e: StageEdge = { kind: "base", from: st.index, to: base.index, instruction: st.from };
      rs.deps.push(e);
    }

    const envLog = new EnvLog(env);
    for (const ins of st.commands) {
      if (ex.unmatched.size > 0) ex.unmatched = new Set();
      const ri = new LazyResolvedInstruction(ins, envLog, envLog.log.length);
      try {
        ri.expanded = expandInstruction(ins, envLog.live, ex, ctx);
        applyEffects(ri.expanded, envLog);
      } catch (e) {
        if (!(e instanceof ShellLexError || e instanceof InstructionError)) throw e;
        ri.error = e.message;
        errors.push({ message: e.message, range: ins.range });
      }
      if (ex.unmatched.size > 0) ri.unmatched = [...ex.unmatched];
      rs.instructions.push(ri);
    }
    rs.env = new Map(envLog.live);
    stages.push(rs);
    if (st.name) byName.set(st.name, st.index);
  }

  // references from COPY --from and RUN --mount from= (any stage, by name or index, or an image)
  const stageRef = (from: string): { stage: number } | { image: string } | { error: string } => {
    const to = byName.get(from.toLowerCase());
    if (to !== undefined) return { stage: to };
    if (/^\d+$/.test(from)) {
      const i = Number(from);
      if (i >= stages.length) return { error: `invalid stage index ${i}` };
      return { stage: i };
    }
    return { image: from };
  };
  const refer = (rs: ResolvedStage, ins: Instruction, kind: "copy" | "mount", from: string) => {
    const r = stageRef(from);
    if ("error" in r) errors.push({ message: r.error, range: ins.range });
    else if ("stage" in r) rs.deps.push({ kind, from: rs.index, to: r.stage, instruction: ins });
    else rs.deps.push({ kind, from: rs.index, image: r.image, instruction: ins });
  };
  for (const rs of stages) {
    for (const ri of rs.instructions) {
      const e = ri.expanded;
      if ((e.kind === "COPY" || e.kind === "ADD") && e.from !== undefined && e.from !== "")
        refer(rs, e, "copy", e.from);
      if (e.kind === "RUN") for (const m of e.mounts) if (m.from) refer(rs, e, "mount", m.from);
    }
    edges.push(...rs.deps);
  }

  // cycles
  const state = new Array<number>(stages.length).fill(0);
  const cyclic = new Set<number>();
  const visit = (i: number): void => {
    state[i] = 1;
    for (const d of stages[i].deps) {
      if (d.to === undefined) continue;
      if (state[d.to] === 1) {
        if (!cyclic.has(d.to)) {
          cyclic.add(d.to);
          const s = stages[d.to];
          errors.push({
            message: `circular dependency detected on stage: ${s.name ?? s.index}`,
            range: d.instruction.range,
          });
        }
      } else if (state[d.to] === 0) visit(d.to);
    }
    state[i] = 2;
  };
  for (let i = 0; i < stages.length; i++) if (state[i] === 0) visit(i);

  // target
  let target = stages.length - 1;
  if (options.target !== undefined && options.target !== "") {
    const t = byName.get(options.target.toLowerCase());
    if (t !== undefined) target = t;
    else {
      const at = model.parse.nodes[0]?.range ?? {
        start: { line: 1, column: 1, offset: 0 },
        end: { line: 1, column: 1, offset: 0 },
      };
      errors.push({
        message: `target stage ${JSON.stringify(options.target)} could not be found`,
        range: at,
      });
    }
  }
  const needed = target >= 0 ? neededStages(stages, target) : [];

  for (const i of needed) {
    for (const ri of stages[i].instructions) {
      if (ri.instruction.kind === "ARG") for (const a of ri.instruction.args) declared.add(a.key);
    }
  }
  const predefined = new Set<string>([...PLATFORM_ARGS, ...PROXY_ARGS]);
  const unusedBuildArgs = Object.keys(buildArgs).filter((k) => !declared.has(k) && !predefined.has(k));

  const expand = (ins: Instruction, env: ReadonlyMap<string, string>, unmatched?: Set<string>) => {
    const x = new Expander(model.parse.escape);
    if (unmatched) x.unmatched = unmatched;
    return expandInstruction(ins, env, x, ctx);
  };
  return {
    model,
    globalArgs: global,
    stages,
    byName,
    target,
    needed,
    edges,
    errors,
    unusedBuildArgs,
    expand,
    stageRef,
  };
}

/** The stages `target` needs, dependencies before dependents, `target` last. */
export function neededStages(stages: ResolvedStage[], target: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const walk = (i: number) => {
    if (seen.has(i)) return;
    seen.add(i);
    for (const d of stages[i].deps) if (d.to !== undefined) walk(d.to);
    out.push(i);
  };
  walk(target);
  return out;
}

interface ArgContext {
  buildArgs: Record<string, string>;
  has: (k: string) => boolean;
  metaDefaults: Map<string, string>;
  declared: Set<string>;
}

/** What an expanded ENV or ARG sets for the instructions after it. */
function applyEffects(e: Instruction, envLog: EnvLog): void {
  if (e.kind === "ENV") for (const p of e.pairs) envLog.set(p.key, p.value);
  // all ARG values are expanded with the environment from before the instruction
  else if (e.kind === "ARG") for (const a of e.args) if (a.value !== undefined) envLog.set(a.key, a.value);
}

function expandInstruction(
  ins: Instruction,
  env: ReadonlyMap<string, string>,
  ex: Expander,
  ctx: ArgContext,
): Instruction {
  const w = (s: string) => ex.word(s, env);
  switch (ins.kind) {
    case "ENV":
      return { ...ins, pairs: ins.pairs.map((p) => ({ ...p, key: w(p.key), value: w(p.value) })) };
    case "LABEL":
      return { ...ins, pairs: ins.pairs.map((p) => ({ ...p, key: w(p.key), value: w(p.value) })) };
    case "ARG": {
      const args: ArgInstruction["args"] = [];
      for (const a0 of ins.args) {
        const key = w(a0.key); // BuildKit expands ARG names too
        let v = a0.value !== undefined ? w(a0.value) : undefined;
        if (a0.value === undefined && !ctx.has(key) && ctx.metaDefaults.has(key))
          v = ctx.metaDefaults.get(key);
        if (ctx.has(key)) v = ctx.buildArgs[key];
        args.push(v === undefined ? { key } : { key, value: v });
      }
      return { ...ins, args };
    }
    case "ADD":
    case "COPY": {
      const c: CopyInstruction = {
        ...ins,
        sources: ins.sources.map(w),
        dest: w(ins.dest),
        exclude: ins.exclude.map(w),
        contents: ins.contents.map((s) => (s.expand ? { ...s, data: ex.raw(s.data, env) } : s)),
      };
      if (ins.from !== undefined) c.from = w(ins.from);
      if (ins.chown !== undefined) c.chown = w(ins.chown);
      if (ins.chmod !== undefined) {
        c.chmod = w(ins.chmod);
        if (c.chmod !== "" && !parseChmod(c.chmod))
          throw new InstructionError(
            `invalid chmod parameter ${JSON.stringify(c.chmod)}: want an octal mode (755) or symbolic modes (u+x,go-w)`,
          );
      }
      if (ins.checksum !== undefined) c.checksum = w(ins.checksum);
      return c;
    }
    case "EXPOSE":
      return { ...ins, ports: ins.ports.flatMap((p) => ex.words(p, env)) };
    case "USER":
      return { ...ins, user: w(ins.user) };
    case "WORKDIR":
      return { ...ins, path: w(ins.path) };
    case "VOLUME": {
      const volumes = ins.volumes.map(w);
      if (volumes.some((v) => v === ""))
        throw new InstructionError("VOLUME specified can not be an empty string");
      return { ...ins, volumes };
    }
    case "STOPSIGNAL":
      return { ...ins, signal: w(ins.signal) };
    case "RUN": {
      if (ins.mounts.length === 0) return ins;
      const mounts: Mount[] = ins.mounts.map((m) => parseMount(m.raw, w));
      const r: RunInstruction = { ...ins, mounts };
      return r;
    }
    default:
      return ins;
  }
}
