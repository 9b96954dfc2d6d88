// Executes a plan: each stage's instructions with BuildKit's semantics, stages in parallel as far
// as their dependencies allow, every filesystem step on an overlay snapshot, cached by content.
import { createHash } from "node:crypto";
import {
  chmod,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readdir,
  rm,
  stat,
  writeFile,
  readFile,
} from "node:fs/promises";
import { lstatSync } from "node:fs";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { DockyardError } from "../image/errors.js";
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../image/manifest.js";
import type { Platform } from "../image/manifest.js";
import { MediaType } from "../image/media-types.js";
import { BuildStore, cacheKey, type LayerRecord, type StepRecord } from "./cache.js";
import type { ExportedStep } from "./cache-remote.js";
import { BuildContext } from "./context.js";
import {
  copyEntry,
  flushXattrs,
  mkdirAllInRoot,
  parentsPattern,
  selectParents,
  walkRelSync,
  writeFileEntry,
  XattrCopy,
  type CopyOpts,
  type Owner,
} from "./copy.js";
import { parseChmod } from "../dockerfile/chmod.js";
import { resolveInRoot } from "./fsutil.js";
import {
  InstructionError,
  parseMount,
  ShellLexError,
  type Instruction,
  type Mount,
} from "../dockerfile/index.js";
import { loadDockerfile } from "./frontend.js";
import { makePlan, type Dockerfile, type Heredoc, type Stage, type Step } from "./plan.js";
import {
  DEFAULT_PATH,
  resolveUser,
  runContainer,
  type NetworkMode,
  type RootFiles,
  type RunMount,
} from "./runner.js";
import {
  adoptUpper,
  diffToLayer,
  directSnapshot,
  extractLayer,
  mountOverlay,
  type Mounted,
} from "./snapshot.js";
import { registerTempDir } from "./cleanup.js";
import { LowerView, NeedsOverlay } from "./lower.js";
import type { BuildReporter, StepHandle } from "./progress.js";
import { globToRegex, hasGlob, type ContextEntry } from "./context.js";
import { PatternMatcher } from "./dockerignore.js";

export interface Expander {
  /** Expands variables in one word (quotes removed). */
  word(w: string, env: Map<string, string>): string;
  /** Expands and splits into words. */
  words(w: string, env: Map<string, string>): string[];
}

/** A base image (FROM, COPY --from=image) resolved to a config and layers. */
export interface BaseImage {
  ref: string;
  /** Manifest digest: part of cache keys. */
  digest: string;
  config: ImageConfig;
  layers: LayerRecord[];
  openLayer(l: LayerRecord): Promise<Readable>;
}

export interface ImageResolver {
  resolve(ref: string, platform: Platform): Promise<BaseImage>;
}

export interface Secret {
  id: string;
  /** File path or env var name. */
  src?: string;
  env?: string;
}

export interface ExecuteOptions {
  store: BuildStore;
  context: BuildContext;
  resolver: ImageResolver;
  expander: Expander;
  reporter: BuildReporter;
  target?: string;
  buildArgs: Map<string, string>;
  noCache: boolean;
  network: NetworkMode;
  platform: Platform;
  /** SOURCE_DATE_EPOCH (seconds). */
  epoch?: number;
  secrets: Secret[];
  labels: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Run stages other than the target's chain only when something needs their files: a
   * `COPY --from` whose step is cached needs only the stage's cache key (computed without running
   * it). Set with --cache-from (unless --cache-to mode=max, which exports every stage's steps).
   */
  lazyStages?: boolean;
  /** --cache-from: consulted when the local step cache misses. */
  remote?: {
    lookup(key: string): Promise<StepRecord | undefined>;
    ready(digest: string): Promise<void>;
    /** Whether any cache loaded with records (without one, lazy stages would only lose parallelism). */
    usable(): Promise<boolean>;
  };
}

/** The layers + config a stage ends with. */
export interface StageResult {
  config: ImageConfig;
  layers: LayerRecord[];
  /** Where each layer's blob can be read: the build store or the base image. */
  openers: Map<string, () => Promise<Readable>>;
  /** Cache chain key of the stage's filesystem. */
  key: string;
  /** The step-cache records of the stage's filesystem steps (its base stage's first): --cache-to mode=min. */
  steps: ExportedStep[];
}

export class BuildError extends DockyardError {
  constructor(
    message: string,
    readonly exitCode?: number,
    readonly line?: number,
  ) {
    super("INTERNAL", message);
  }
}

interface StageState {
  stage: Stage;
  config: ImageConfig;
  layers: LayerRecord[];
  openers: Map<string, () => Promise<Readable>>;
  key: string;
  env: Map<string, string>;
  /** ARGs declared in this stage (with values). */
  args: Map<string, string>;
  shell: string[];
  cmdSet: boolean;
  /** Time of the last history entry. */
  lastCreated: string;
  stepNo: number;
  steps: ExportedStep[];
  /** Keys only: metadata steps run, filesystem steps only compute their key (lazy stages). */
  dry?: boolean;
  /** Layers of this stage still being archived, by their (not yet filled in) record. */
  pending: Map<LayerRecord, PendingLayer>;
  /** Work off the steps' path the stage waits for at its end (unmounting COPY --from views). */
  background: Promise<void>[];
}

/**
 * A step's new layer while it is archived: the next steps already run on its upper dir (as a
 * lowerdir, once unmounted), and the stage ends by waiting for the archive and moving the dir
 * into the store. The tar+gzip of a step then overlaps the next step instead of preceding it.
 */
interface PendingLayer {
  upper: string;
  /** The step's snapshot dir (upper dir and blob inside): removed once the upper dir is moved. */
  dir: string;
  unmounted: Promise<void>;
  /** The blob written and the record filled in (or why not). */
  archived: Promise<void>;
  /** Removes `dir` on Ctrl-C until then. */
  unregister: () => void;
  /** Its opaque directories, once known (a COPY's at once: none). */
  opaque?: Set<string>;
}

/** DOCKYARD_DIRECT_COPY=0: every COPY and WORKDIR runs on an overlay mount (to compare, or to rule it out). */
const DIRECT_COPY = process.env.DOCKYARD_DIRECT_COPY !== "0";

/** The digests of a layer still being archived. */
const NOT_YET = "sha256:pending" as const;

const NOOP_HANDLE: StepHandle = { output() {}, done() {}, fail() {} };

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
    else m.set(e, "");
  }
  return m;
}

function envList(m: Map<string, string>): string[] {
  return [...m.entries()].map(([k, v]) => `${k}=${v}`);
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function chomp(h: Heredoc): string {
  if (!h.chomp) return h.content;
  return h.content
    .split("\n")
    .map((l) => l.replace(/^\t+/, ""))
    .join("\n");
}

function tailLines(s: string, n: number): string {
  const lines = s.replace(/\s+$/, "").split("\n");
  return lines.slice(-n).join("\n");
}

export class Executor {
  private results = new Map<number, Promise<StageResult>>();
  private df!: Dockerfile;
  private readonly now = new Date().toISOString();
  private runStageFn!: (i: number) => Promise<StageResult>;
  private readonly dryResults = new Map<number, Promise<StageResult>>();
  /** Every filesystem step's cache record, all stages (--cache-to mode=max). */
  readonly allSteps: ExportedStep[] = [];

  constructor(private readonly o: ExecuteOptions) {}

  private get created(): string {
    return this.o.epoch !== undefined ? new Date(this.o.epoch * 1000).toISOString() : this.now;
  }

  /** Runs the plan; returns the target stage's result. */
  async execute(df: Dockerfile): Promise<StageResult> {
    this.df = df;
    // the stage graph, the target and the FROM expansion come from the shared resolver
    const plan = makePlan(df);
    this.o.reporter.plan(plan.stages.map((s) => s.stage));
    const runStage = (i: number): Promise<StageResult> => {
      let p = this.results.get(i);
      if (!p) {
        p = this.executeStage(df.stages[i]!, runStage);
        this.results.set(i, p);
        p.catch(() => {});
      }
      return p;
    };
    this.runStageFn = runStage;
    if (this.o.lazyStages && (await this.o.remote?.usable())) return runStage(plan.target.index);
    // start every needed stage now: independent ones run in parallel
    const all = plan.stages.map((s) => runStage(s.stage.index));
    const target = await runStage(plan.target.index);
    await Promise.all(all);
    return target;
  }

  /** Build args given with --build-arg that no ARG consumed (BuildKit warns about them). */
  unusedBuildArgs(): string[] {
    return this.df.resolved.unusedBuildArgs;
  }

  /** A stage's key and config: from its run when it runs, else from a keys-only pass. */
  private stageKeyInfo(i: number): Promise<StageResult> {
    const running = this.results.get(i);
    if (running) return running;
    let p = this.dryResults.get(i);
    if (!p) {
      p = this.executeStage(this.df.stages[i]!, this.runStageFn, true);
      this.dryResults.set(i, p);
      p.catch(() => {});
    }
    return p;
  }

  private async executeStage(
    stage: Stage,
    runStage: (i: number) => Promise<StageResult>,
    dry = false,
  ): Promise<StageResult> {
    const baseRef = stage.baseName;
    const stagePlatform = stage.platformName ? parsePlatformWord(stage.platformName) : this.o.platform;
    let state: StageState;
    const fromStage = stage.baseStage !== undefined ? this.df.stages[stage.baseStage] : undefined;
    const handle = dry
      ? NOOP_HANDLE
      : this.o.reporter.step(stage, -1, `FROM ${baseRef}${stage.name ? ` AS ${stage.name}` : ""}`);
    try {
      if (fromStage) {
        const r = await (dry ? this.stageKeyInfo(fromStage.index) : runStage(fromStage.index));
        state = this.newState(stage, clone(r.config), [...r.layers], new Map(r.openers), r.key);
        state.steps = [...r.steps];
        handle.done(false);
      } else if (baseRef === "scratch") {
        const cfg: ImageConfig = {
          architecture: stagePlatform.architecture,
          os: stagePlatform.os,
          ...(stagePlatform.variant ? { variant: stagePlatform.variant } : {}),
          config: { Env: [`PATH=${DEFAULT_PATH}`] },
          rootfs: { type: "layers", diff_ids: [] },
          history: [],
        };
        state = this.newState(stage, cfg, [], new Map(), cacheKey(["scratch", stagePlatform]));
        handle.done(false);
      } else {
        const base = await this.o.resolver.resolve(baseRef, stagePlatform);
        const cfg = clone(base.config);
        cfg.config ??= {};
        cfg.history ??= [];
        const openers = new Map<string, () => Promise<Readable>>();
        for (const l of base.layers) openers.set(l.digest, () => base.openLayer(l));
        state = this.newState(stage, cfg, [...base.layers], openers, cacheKey(["from", base.digest]));
        state.lastCreated = cfg.created ?? this.created;
        handle.done(false);
      }
    } catch (err) {
      handle.fail(err as Error);
      throw err;
    }
    state.dry = dry;
    if (!state.config.config!.Env?.some((e) => e.startsWith("PATH="))) {
      state.config.config!.Env = [`PATH=${DEFAULT_PATH}`, ...(state.config.config!.Env ?? [])];
      state.env = envMap(state.config.config!.Env);
    }
    try {
      await this.runSteps(state, stage, baseRef, runStage);
    } finally {
      await this.settleLayers(state);
    }
    // labels from --label go on the target only (applied by the caller); here: the result
    return {
      config: state.config,
      layers: state.layers,
      openers: state.openers,
      key: state.key,
      steps: state.steps,
    };
  }

  /** The stage's steps: its base's ONBUILD triggers first, then its own. */
  private async runSteps(
    state: StageState,
    stage: Stage,
    baseRef: string,
    runStage: (i: number) => Promise<StageResult>,
  ): Promise<void> {
    // ONBUILD triggers of the base run first, right after FROM; they are not inherited further
    const triggers = state.config.config!.OnBuild ?? [];
    state.config.config!.OnBuild = null;
    if (triggers.length) {
      const fe = loadDockerfile(`FROM scratch\n${triggers.join("\n")}\n`, `ONBUILD trigger of ${baseRef}`, {
        buildArgs: Object.fromEntries(this.o.buildArgs),
      });
      for (const st of fe.dockerfile.stages[0]!.steps) {
        st.line = stage.line;
        state.stepNo = 0;
        await this.executeStep(state, st, runStage);
      }
    }
    // the stage sees the global ARGs only when redeclared; platform args likewise
    for (let i = 0; i < stage.steps.length; i++) {
      const st = stage.steps[i]!;
      state.stepNo = i + 1;
      await this.executeStep(state, st, runStage);
    }
  }

  private newState(
    stage: Stage,
    config: ImageConfig,
    layers: LayerRecord[],
    openers: Map<string, () => Promise<Readable>>,
    key: string,
  ): StageState {
    config.config ??= {};
    return {
      pending: new Map(),
      background: [],
      stage,
      config,
      layers,
      openers,
      key,
      env: envMap(config.config.Env),
      args: new Map(),
      shell: config.config.Shell ?? ["/bin/sh", "-c"],
      cmdSet: false,
      lastCreated: config.created ?? this.created,
      stepNo: 0,
      steps: [],
    };
  }

  /** Variables visible to expansion: ARGs of the stage, then ENV (ENV wins, as in BuildKit). */
  private scope(s: StageState): Map<string, string> {
    const m = new Map(s.args);
    for (const [k, v] of s.env) m.set(k, v);
    return m;
  }

  private x(s: StageState, w: string): string {
    return this.o.expander.word(w, this.scope(s));
  }

  /** The step's typed instruction expanded by the shared resolver with the stage's current scope. */
  private expand<T extends Instruction>(s: StageState, st: { ins: T; line: number }): T {
    try {
      return this.df.resolved.expand(st.ins, this.scope(s)) as T;
    } catch (err) {
      if (err instanceof ShellLexError || err instanceof InstructionError)
        throw new BuildError(`${err.message} (line ${st.line})`, undefined, st.line);
      throw err;
    }
  }

  /** A --mount value expanded and checked by the shared parseMount. */
  private mount(s: StageState, raw: string, line: number): Mount {
    try {
      return parseMount(raw, (w) => this.x(s, w));
    } catch (err) {
      if (err instanceof InstructionError)
        throw new BuildError(`RUN --mount=${raw}: ${err.message} (line ${line})`, undefined, line);
      throw err;
    }
  }

  private history(s: StageState, createdBy: string, empty: boolean, created?: string) {
    const h: HistoryEntry = {
      created: created ?? s.lastCreated,
      created_by: createdBy,
      comment: "buildkit.dockerfile.v0",
    };
    if (empty) h.empty_layer = true;
    s.config.history ??= [];
    s.config.history.push(h);
  }

  private async executeStep(
    s: StageState,
    st: Step,
    runStage: (i: number) => Promise<StageResult>,
  ): Promise<void> {
    const cfg = s.config.config!;
    const label = st.original.split("\n")[0]!;
    switch (st.kind) {
      case "ENV": {
        const parts: string[] = [];
        for (const kv of this.expand(s, st).pairs) {
          s.env.set(kv.key, kv.value);
          parts.push(`${kv.key}=${kv.value}`);
        }
        cfg.Env = envList(s.env);
        this.history(s, `ENV ${parts.join(" ")}`, true);
        return this.meta(s, label);
      }
      case "ARG": {
        // values: --build-arg, else the default, else the global ARG / predefined platform ARG
        for (const a of this.expand(s, st).args) if (a.value !== undefined) s.args.set(a.key, a.value);
        const parts = st.ins.args.map((a) => (a.value !== undefined ? `${a.key}=${a.value}` : a.key));
        this.history(s, `ARG ${parts.join(" ")}`, true);
        return this.meta(s, label);
      }
      case "LABEL": {
        cfg.Labels ??= {};
        const parts: string[] = [];
        for (const kv of this.expand(s, st).pairs) {
          cfg.Labels[kv.key] = kv.value;
          parts.push(`${kv.key}=${kv.value}`);
        }
        this.history(s, `LABEL ${parts.join(" ")}`, true);
        return this.meta(s, label);
      }
      case "USER":
        cfg.User = this.expand(s, st).user;
        this.history(s, `USER ${cfg.User}`, true);
        return this.meta(s, label);
      case "EXPOSE": {
        cfg.ExposedPorts ??= {};
        const ports: string[] = [];
        for (const w of this.expand(s, st).ports) {
          const port = w.includes("/") ? w.toLowerCase() : `${w}/tcp`;
          cfg.ExposedPorts[port] = {};
          ports.push(port);
        }
        this.history(s, `EXPOSE map[${ports.map((p) => `${p}:{}`).join(" ")}]`, true);
        return this.meta(s, label);
      }
      case "VOLUME": {
        cfg.Volumes ??= {};
        const paths = this.expand(s, st).volumes;
        for (const p of paths) {
          if (!p)
            throw new BuildError(
              `VOLUME specified can not be an empty string (line ${st.line})`,
              undefined,
              st.line,
            );
          cfg.Volumes[p] = {};
        }
        this.history(s, `VOLUME [${paths.join(" ")}]`, true);
        return this.meta(s, label);
      }
      case "STOPSIGNAL":
        cfg.StopSignal = this.expand(s, st).signal;
        this.history(s, `STOPSIGNAL ${cfg.StopSignal}`, true);
        return this.meta(s, label);
      case "SHELL":
        s.shell = [...st.ins.shell];
        cfg.Shell = [...st.ins.shell];
        this.history(s, `SHELL [${st.ins.shell.map((a) => JSON.stringify(a)).join(" ")}]`, true);
        return this.meta(s, label);
      case "MAINTAINER":
        s.config.author = st.ins.maintainer;
        this.history(s, `MAINTAINER ${st.ins.maintainer}`, true);
        return this.meta(s, label);
      case "ONBUILD":
        cfg.OnBuild = [...(cfg.OnBuild ?? []), st.ins.expression];
        this.history(s, `ONBUILD ${st.ins.expression}`, true);
        return this.meta(s, label);
      case "HEALTHCHECK": {
        const hc = st.ins;
        if (hc.test[0] === "NONE") cfg.Healthcheck = { Test: ["NONE"] };
        else
          cfg.Healthcheck = {
            Test: [...hc.test],
            ...(hc.interval ? { Interval: hc.interval } : {}),
            ...(hc.timeout ? { Timeout: hc.timeout } : {}),
            ...(hc.startPeriod ? { StartPeriod: hc.startPeriod } : {}),
            ...(hc.startInterval ? { StartInterval: hc.startInterval } : {}),
            ...(hc.retries ? { Retries: hc.retries } : {}),
          };
        this.history(s, `HEALTHCHECK &{${JSON.stringify(cfg.Healthcheck.Test)}}`, true);
        return this.meta(s, label);
      }
      case "ENTRYPOINT":
      case "CMD": {
        const args = st.ins.shell ? [...s.shell, st.ins.command.join(" ")] : [...st.ins.command];
        if (st.kind === "CMD") {
          cfg.Cmd = args;
          s.cmdSet = true;
        } else {
          cfg.Entrypoint = args;
          if (!s.cmdSet) cfg.Cmd = null;
        }
        this.history(s, `${st.kind} ${JSON.stringify(args)}`, true);
        return this.meta(s, label);
      }
      case "WORKDIR": {
        let wd = this.expand(s, st).path;
        if (!wd.startsWith("/")) wd = posix.join(cfg.WorkingDir || "/", wd);
        wd = posix.normalize(wd);
        cfg.WorkingDir = wd;
        return this.fsStep(
          s,
          st,
          `WORKDIR ${wd}`,
          cacheKey([s.key, "WORKDIR", wd, cfg.User ?? ""]),
          async (m) => {
            const owner = cfg.User ? await ownerFor(m.merged, cfg.User, false) : undefined;
            await mkdirAllInRoot(m.merged, wd, owner);
            return { opaque: false }; // mkdir removes nothing: no opaque directories to look for
          },
          {
            // without a mount, as COPY: the parents copied up, the missing part made in the upper
            // dir (a directory that is there already leaves the upper dir empty: no layer)
            direct: async (root, lower) => {
              const owner = cfg.User ? await ownerFor((p) => lower.readFile(p), cfg.User, false) : undefined;
              lower.prepareDir(wd);
              await mkdirAllInRoot(root, wd, owner);
              return { opaque: false };
            },
          },
        );
      }
      case "RUN":
        return this.run(s, st);
      case "COPY":
      case "ADD":
        return this.copy(s, st, runStage);
    }
  }

  private meta(s: StageState, label: string): void {
    if (s.dry) return;
    const h = this.o.reporter.step(s.stage, s.stepNo, label);
    h.done(false);
  }

  /**
   * A filesystem step: cache lookup by `key`; on a miss, mount the snapshot, let `work` change it,
   * diff the upper dir into a layer.
   */
  private async fsStep(
    s: StageState,
    st: Step,
    createdBy: string,
    key: string,
    work: (m: Mounted, h: StepHandle) => Promise<void | { opaque: boolean }>,
    /**
     * `isolated`: on an empty filesystem (COPY --link); `chainKey`: the stage's key after the step;
     * `direct`: the step's work written straight into a fresh upper dir, with the parent layers
     * looked up unmounted (COPY, WORKDIR); when it throws NeedsOverlay, `work` runs on a mount instead.
     */
    opts: {
      isolated?: boolean;
      chainKey?: string;
      direct?: (root: string, lower: LowerView) => Promise<void | { opaque: boolean }>;
    } = {},
  ): Promise<void> {
    if (s.dry) {
      s.key = opts.chainKey ?? key;
      return;
    }
    const h = this.o.reporter.step(s.stage, s.stepNo, st.original.split("\n")[0]!);
    try {
      let rec = this.o.noCache ? undefined : await this.o.store.getStep(key);
      if (!rec && !this.o.noCache && this.o.remote) rec = await this.o.remote.lookup(key);
      const cached = !!rec;
      if (!rec) {
        const created = this.created;
        const tm = timer(st.original);
        const lowers = opts.isolated ? [] : await this.lowerDirs(s);
        let direct: { m: Mounted; w: void | { opaque: boolean } } | undefined;
        if (opts.direct && DIRECT_COPY) {
          const d = await directSnapshot(this.o.store.tmp);
          try {
            const lower = new LowerView(lowers, d.upper, (dir) => this.opaqueDirsOf(s, dir));
            const w = await opts.direct(d.upper, lower);
            lower.pruneCopiedUp();
            direct = { m: d, w };
            tm("direct");
          } catch (err) {
            await d.release();
            if (!(err instanceof NeedsOverlay)) throw err;
            tm(`direct gave way (${err.message})`);
          }
        }
        const m = direct?.m ?? (await mountOverlay(lowers, this.o.store.tmp));
        if (!direct) tm("mount");
        // set once the unmount (keeping the upper dir) has started: from then on m.dir is ours to remove
        let unmounting: Promise<void> | undefined;
        try {
          const w = direct ? direct.w : await work(m, h);
          if (!direct) tm("work");
          const names = await readdir(m.upper);
          if (names.length > 0) {
            // the step's process is gone and nothing writes through the mount any more: the
            // unmount runs while the upper dir is archived (it only reads the upper dir)
            unmounting = m.release({ keepUpper: true });
            unmounting.catch(() => {});
            const unregister = registerTempDir(m.dir);
            // filled in once archived; the next step runs meanwhile (on the upper dir as a lower)
            const layer: LayerRecord = {
              mediaType: MediaType.ociLayerGzip,
              digest: NOT_YET,
              size: 0,
              diffID: NOT_YET,
            };
            const made: StepRecord = { v: 1, layer, created };
            const archived = (async () => {
              const tmpBlob = join(m.dir, "layer.tar.gz");
              const blob = await diffToLayer(m.upper, tmpBlob, {
                epoch: this.o.epoch,
                opaque: w ? w.opaque : true,
              });
              tm(blob.stored ? `diff (${blob.stored} bytes stored)` : "diff");
              Object.assign(layer, { digest: blob.digest, size: blob.size, diffID: blob.diffID });
              const known = s.pending.get(layer);
              if (known) known.opaque = new Set(blob.opaque);
              if (!(await this.o.store.hasBlob(blob.digest)))
                await this.o.store.adoptBlob(tmpBlob, blob.digest);
              await this.o.store.putStep(key, made);
              tm("record");
            })().catch((err: unknown) => {
              throw err instanceof DockyardError
                ? err
                : new BuildError(
                    `${st.original.split("\n")[0]}: writing its layer failed: ${(err as Error).message}`,
                  );
            });
            archived.catch(() => {}); // awaited when the stage settles its layers
            const pending: PendingLayer = {
              upper: m.upper,
              dir: m.dir,
              unmounted: unmounting,
              archived,
              unregister,
              // written without a mount: it cannot hold an opaque directory
              ...(direct ? { opaque: new Set<string>() } : {}),
            };
            s.pending.set(layer, pending);
            rec = made;
          } else await m.release();
        } catch (err) {
          if (unmounting) {
            // still mounted when the unmount failed: then m.dir is left, never deleted through it
            if (
              await unmounting.then(
                () => true,
                () => false,
              )
            )
              await rm(m.dir, { recursive: true, force: true }).catch(() => {});
          } else await m.release().catch(() => {});
          throw err;
        }
        if (!rec) {
          rec = { v: 1, created };
          await this.o.store.putStep(key, rec);
        }
      }
      if (rec.layer) {
        const layer = rec.layer;
        s.layers.push(layer);
        const at = s.config.rootfs.diff_ids.push(layer.diffID) - 1;
        const fill = () => {
          s.config.rootfs.diff_ids[at] = layer.diffID;
          s.openers.set(layer.digest, () => this.openStoreBlob(layer.digest));
        };
        const pending = s.pending.get(layer);
        if (pending) pending.archived = pending.archived.then(fill);
        else fill();
      }
      const exported = { key, parent: s.key, rec };
      s.steps.push(exported);
      this.allSteps.push(exported);
      s.lastCreated = rec.created;
      this.history(s, createdBy, !rec.layer, rec.created);
      s.key = opts.chainKey ?? key;
      h.done(cached);
    } catch (err) {
      h.fail(err as Error);
      throw err;
    }
  }

  /**
   * Waits for the stage's layers still being archived, then moves their upper dirs into the store
   * as the lowerdirs of their layers (no step of the stage has them mounted any more). Throws the
   * first archiving failure, after every one has settled.
   */
  private async settleLayers(s: StageState): Promise<void> {
    let failure: unknown;
    for (const b of s.background.splice(0)) await b.catch((err: unknown) => void (failure ??= err));
    for (const p of s.pending.values()) {
      await p.archived.catch((err: unknown) => void (failure ??= err));
    }
    for (const [layer, p] of s.pending) {
      try {
        await p.unmounted; // settled: a failed unmount rejected the step that mounted it
        if (layer.diffID !== NOT_YET) {
          const dir = this.o.store.layerDir(layer.diffID);
          if (p.opaque) await this.o.store.recordOpaqueDirs(dir, p.opaque);
          await adoptUpper(p.upper, dir);
        }
        await rm(p.dir, { recursive: true, force: true });
      } catch (err) {
        failure ??= err;
      } finally {
        p.unregister();
      }
    }
    s.pending.clear();
    if (failure !== undefined) throw failure;
  }

  /** What is known of a lowerdir's opaque directories: a pending layer's, or the store's list. */
  private opaqueDirsOf(s: StageState, dir: string): Set<string> | undefined {
    for (const p of s.pending.values()) if (p.upper === dir) return p.opaque;
    return this.o.store.opaqueDirsOf(dir);
  }

  /** A blob of the build store (waiting for it when --cache-from is still downloading it). */
  private async openStoreBlob(digest: string): Promise<Readable> {
    await this.o.remote?.ready(digest);
    return this.o.store.openBlob(digest);
  }

  /** The stage's layers as overlay lowerdirs (top-most first), extracting any not yet extracted. */
  private async lowerDirs(s: StageState): Promise<string[]> {
    const dirs = await Promise.all(
      s.layers.map((l) => {
        const p = s.pending.get(l);
        if (p) return p.unmounted.then(() => p.upper);
        return this.o.store.ensureLayerDir(
          l,
          s.openers.get(l.digest) ?? (() => this.openStoreBlob(l.digest)),
        );
      }),
    );
    return dirs.reverse();
  }

  private async run(s: StageState, st: Extract<Step, { kind: "RUN" }>): Promise<void> {
    const cfg = s.config.config!;
    // RUN sees ENV plus ARGs (as environment, not persisted)
    const env = new Map(s.env);
    const argEnv: string[] = [];
    for (const [k, v] of s.args) {
      if (!s.env.has(k)) {
        env.set(k, v);
        argEnv.push(`${k}=${v}`);
      }
    }
    let args: string[];
    const scriptFiles: { name: string; data: string; mode: number }[] = [];
    if (st.shell) {
      let cmd = st.args[0] ?? "";
      if (st.heredocs.length) {
        const only = /^\s*<<(-?)(["']?)([A-Za-z0-9_]+)\2\s*$/.exec(cmd);
        if (only && st.heredocs.length === 1) {
          const data = chomp(st.heredocs[0]!);
          if (data.startsWith("#!")) {
            scriptFiles.push({ name: st.heredocs[0]!.name, data, mode: 0o755 });
            args = [`/dev/pipes/${st.heredocs[0]!.name}`];
          } else args = [...s.shell, data];
        } else {
          for (const h of st.heredocs) cmd += "\n" + h.content + h.name;
          args = [...s.shell, cmd];
        }
      } else args = [...s.shell, cmd];
    } else args = st.args;
    const mounts: RunMount[] = [];
    const mountKeys: unknown[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    const lateMounts: (() => Promise<void>)[] = [];
    let network: NetworkMode = this.o.network;
    if (st.network) {
      if (st.network !== "host" && st.network !== "none" && st.network !== "default")
        throw new BuildError(
          `RUN --network=${st.network} is not supported (host, none, default)`,
          undefined,
          st.line,
        );
      if (st.network !== "default") network = st.network;
    }
    const secretFiles: string[] = [];
    for (const raw of st.mounts) {
      const m = this.mount(s, raw, st.line);
      const type = m.type;
      const target = m.target;
      const resolveTarget = (t: string) => (t.startsWith("/") ? t : posix.join(cfg.WorkingDir || "/", t));
      if (type === "cache") {
        if (!target)
          throw new BuildError(`RUN --mount=type=cache needs target= (line ${st.line})`, undefined, st.line);
        const id = m.id || resolveTarget(target);
        const dir = join(this.o.store.mounts, createHash("sha256").update(id).digest("hex").slice(0, 32));
        const fresh = !(await stat(dir).catch(() => undefined));
        await mkdir(dir, { recursive: true });
        if (fresh) {
          const mode = m.mode ?? 0o755;
          await import("node:fs/promises").then((fs) => fs.chmod(dir, mode));
          const uid = m.uid ?? 0;
          const gid = m.gid ?? 0;
          await import("node:fs/promises").then((fs) => fs.chown(dir, uid, gid));
        }
        mounts.push({
          type: "bind",
          source: dir,
          destination: resolveTarget(target),
          readonly: m.readOnly,
        });
        mountKeys.push(["cache", id, resolveTarget(target)]);
      } else if (type === "tmpfs") {
        if (!target)
          throw new BuildError(`RUN --mount=type=tmpfs needs target= (line ${st.line})`, undefined, st.line);
        mounts.push({ type: "tmpfs", destination: resolveTarget(target) });
        mountKeys.push(["tmpfs", resolveTarget(target)]);
      } else if (type === "secret") {
        const id = m.id || (target ? posix.basename(target) : undefined);
        if (!id)
          throw new BuildError(
            `RUN --mount=type=secret needs id= or target= (line ${st.line})`,
            undefined,
            st.line,
          );
        const sec = this.o.secrets.find((x) => x.id === id);
        const dest = target ? resolveTarget(target) : `/run/secrets/${id}`;
        if (!sec) {
          if (m.required)
            throw new BuildError(
              `secret ${id} not found: pass it with --secret id=${id},src=FILE`,
              undefined,
              st.line,
            );
          continue;
        }
        const dir = await this.o.store.tempDir("secret-");
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        const file = join(dir, "secret");
        const data = sec.env !== undefined ? (process.env[sec.env] ?? "") : await readFile(sec.src!);
        await writeFile(file, data, { mode: 0o400 });
        secretFiles.push(dest);
        mounts.push({ type: "bind", source: file, destination: dest, readonly: true });
        mountKeys.push(["secret", id, dest]); // the secret's value is never part of a key or a layer
      } else if (type === "bind") {
        if (!target)
          throw new BuildError(`RUN --mount=type=bind needs target= (line ${st.line})`, undefined, st.line);
        const source = m.source ?? "/";
        const from = m.from;
        let host = "";
        let key: string;
        const mount: RunMount = {
          type: "bind",
          source: "",
          destination: resolveTarget(target),
          readonly: m.readOnly,
        };
        if (from) {
          // the key needs only the stage's key; its files are mounted when the step runs
          key = await this.fromKey(s, from);
          lateMounts.push(async () => {
            const v = await this.mountFrom(s, from);
            cleanups.push(v.release);
            mount.source = await resolveInRoot(v.root, source);
          });
        } else {
          const e = await this.o.context.followInContext(posix.normalize("/" + source).slice(1));
          if (!e)
            throw new BuildError(
              `RUN --mount=type=bind: ${source} not found in the build context (line ${st.line})`,
              undefined,
              st.line,
            );
          host = join(this.o.context.root, e.rel);
          key = await this.o.context.digestOf([e.rel]);
        }
        if (!from) mount.source = host;
        mounts.push(mount);
        mountKeys.push(["bind", key, source, resolveTarget(target)]);
      } else throw new BuildError(`RUN --mount type=${type} is not supported`, undefined, st.line);
    }
    const createdBy =
      "RUN " +
      (argEnv.length ? `|${argEnv.length} ${argEnv.join(" ")} ` : "") +
      args.join(" ") +
      " # buildkit";
    const key = cacheKey([
      s.key,
      "RUN",
      args,
      envList(env),
      cfg.User ?? "",
      cfg.WorkingDir ?? "/",
      network,
      mountKeys,
      scriptFiles,
    ]);
    try {
      await this.fsStep(s, st, createdBy, key, async (snap, h) => {
        for (const f of lateMounts) await f();
        if (scriptFiles.length) {
          const dir = await this.o.store.tempDir("pipes-");
          cleanups.push(() => rm(dir, { recursive: true, force: true }));
          for (const f of scriptFiles) await writeFile(join(dir, f.name), f.data, { mode: f.mode });
          mounts.push({ type: "bind", source: dir, destination: "/dev/pipes", readonly: true });
        }
        const r = await runContainer(
          {
            rootfs: snap.merged,
            args,
            env: envList(env),
            cwd: cfg.WorkingDir || "/",
            user: cfg.User,
            network,
            mounts,
            onOutput: (c) => h.output(c),
            signal: this.o.signal,
          },
          this.o.store.tmp,
        );
        // secret mount points must not stay in the layer even as empty stubs
        for (const dest of secretFiles) {
          const p = await resolveInRoot(snap.merged, dest, { noFollowLast: true });
          const stt = await lstat(p).catch(() => undefined);
          if (stt?.isFile() && stt.size === 0) await rm(p, { force: true });
        }
        if (r.exitCode !== 0) {
          const shown = st.shell ? (st.args[0] ?? "") : JSON.stringify(st.args);
          throw new BuildError(
            `RUN at line ${st.line} failed: process "${shown.split("\n")[0]}" did not complete successfully: exit code: ${r.exitCode}` +
              (r.tail.trim() ? `\n--- last lines of its output ---\n${tailLines(r.tail, 15)}` : ""),
            r.exitCode,
            st.line,
          );
        }
      });
    } finally {
      for (const c of cleanups) await c().catch(() => {});
    }
  }

  /** The cache key of a stage's or image's filesystem, without mounting (or running) it. */
  private async fromKey(s: StageState, fromWord: string): Promise<string> {
    const from = this.x(s, fromWord);
    const ref = this.df.resolved.stageRef(from);
    if ("error" in ref) throw new BuildError(`${ref.error} (--from=${from})`);
    if ("stage" in ref) return (await this.stageKeyInfo(ref.stage)).key;
    const img = await this.o.resolver.resolve(from, this.o.platform);
    return cacheKey(["from", img.digest]);
  }

  /** A read-only view of a stage's or image's filesystem (COPY --from, RUN --mount from=). */
  private async mountFrom(
    s: StageState,
    fromWord: string,
  ): Promise<{ root: string; key: string; release: () => Promise<void> }> {
    const from = this.x(s, fromWord);
    const ref = this.df.resolved.stageRef(from);
    if ("error" in ref) throw new BuildError(`${ref.error} (--from=${from})`);
    const stage = "stage" in ref ? this.df.stages[ref.stage] : undefined;
    let layers: LayerRecord[];
    let openers: Map<string, () => Promise<Readable>>;
    let key: string;
    if (stage) {
      const r = await this.runStageFn(stage.index);
      layers = r.layers;
      openers = r.openers;
      key = r.key;
    } else {
      const img = await this.o.resolver.resolve(from, this.o.platform);
      layers = img.layers;
      openers = new Map(img.layers.map((l) => [l.digest, () => img.openLayer(l)]));
      key = cacheKey(["from", img.digest]);
    }
    const dirs = await Promise.all(layers.map((l) => this.o.store.ensureLayerDir(l, openers.get(l.digest)!)));
    const m = await mountOverlay(dirs.reverse(), this.o.store.tmp);
    return { root: m.merged, key, release: () => m.release() };
  }

  private async copy(
    s: StageState,
    st: Extract<Step, { kind: "COPY" | "ADD" }>,
    _runStage: (i: number) => Promise<StageResult>,
  ): Promise<void> {
    const cfg = s.config.config!;
    const fail = (msg: string): never => {
      throw new BuildError(`${msg} (line ${st.line})`, undefined, st.line);
    };
    if (st.keepGitDir)
      fail(`${st.kind} --keep-git-dir is not supported: dockyard does not ADD git repositories yet`);
    const scope = this.scope(s);
    const sources = st.sources.map((w) => this.o.expander.word(w, scope));
    let dest = this.o.expander.word(st.dest, scope);
    // --parents keeps the sources' paths: the destination is a directory
    const destIsDir = dest.endsWith("/") || dest === "." || dest.endsWith("/.") || st.parents === true;
    if (!dest.startsWith("/")) dest = posix.join(cfg.WorkingDir || "/", dest);
    if (destIsDir && !dest.endsWith("/")) dest += "/";
    const chown = st.chown ? this.x(s, st.chown) : undefined;
    const chmodSpec = st.chmod ? this.x(s, st.chmod) : undefined;
    const chmodFn = chmodSpec !== undefined ? parseChmod(chmodSpec) : undefined;
    if (chmodSpec !== undefined && !chmodFn)
      throw new DockyardError(
        "USAGE",
        `invalid --chmod value ${JSON.stringify(chmodSpec)}: want octal (755) or symbolic (u+x,go-w)`,
      );
    const link = st.link === true;
    const excludes = (st.exclude ?? []).map((p) => this.x(s, p));
    const ex = excludes.length ? new PatternMatcher(excludes) : undefined;
    /** --exclude: is `rel` (relative to the source copied) left out? */
    const excluded = (rel: string, isDir: boolean) =>
      !!ex && ex.matches(rel) && !(isDir && ex.mayReincludeUnder(rel));
    const heredocs = new Map(st.heredocs.map((h) => [h.name, h]));
    const isHeredocSrc = (w: string) =>
      /^<<-?/.test(w) && heredocs.has(w.replace(/^<<-?["']?/, "").replace(/["']$/, ""));
    const heredocOf = (w: string) => heredocs.get(w.replace(/^<<-?["']?/, "").replace(/["']$/, ""))!;
    const nSources = sources.length;
    if (nSources > 1 && !destIsDir)
      fail(
        `When using ${st.kind} with more than one source file, the destination must be a directory and end with a /`,
      );
    const urlSources = st.kind === "ADD" ? sources.filter((x) => /^https?:\/\//.test(x)) : [];
    if (st.checksum !== undefined) {
      // BuildKit's checks, before anything is fetched
      if (nSources !== 1) fail("checksum can't be specified for multiple sources");
      if (!urlSources.length) fail("checksum can't be specified for non-HTTP(S) sources");
    }

    // inputs for the cache key; context sources are resolved once, for the key and the copy
    let inputs: unknown[] = [];
    let fromView: { root: string; key: string; release: () => Promise<void> } | undefined;
    const ctxHits = new Map<string, CtxHit[]>();
    try {
      if (st.from) {
        inputs = [await this.fromKey(s, st.from), sources];
      } else {
        for (const src of sources) {
          if (isHeredocSrc(src)) {
            const h = heredocOf(src);
            const content = h.expand ? this.o.expander.word(h.content, scope) : h.content;
            inputs.push([
              "heredoc",
              h.name,
              createHash("sha256")
                .update(chomp({ ...h, content }))
                .digest("hex"),
            ]);
          } else if (urlSources.includes(src)) {
            inputs.push(["url", src, st.checksum ?? ""]);
          } else {
            let hits: CtxHit[];
            if (st.parents) {
              const { pivot, pattern } = splitPivot(src);
              if (hasGlob(pivot) || hasGlob(pattern)) hits = this.parentsHits(pivot, pattern);
              else
                hits = (
                  await this.o.context.resolveSources(pivot ? `${pivot}/${pattern}` : pattern || ".")
                ).map((e) => ({ e, relp: pattern, pivot }));
            } else hits = (await this.o.context.resolveSources(src)).map((e) => ({ e }));
            // a wildcard that matches nothing copies nothing (BuildKit's AllowEmptyWildcard)
            if (!hits.length && !hasGlob(src))
              fail(
                `${st.kind} failed: "${src}" not found in the build context (or excluded by .dockerignore)`,
              );
            // with --parents the patterns apply to paths under the pivot (BuildKit copies from there)
            if (ex) hits = hits.filter((h) => !excluded(h.relp ?? h.e.rel, h.e.type === "dir"));
            ctxHits.set(src, hits);
            inputs.push([
              src,
              ex || st.parents
                ? await this.hitsDigest(hits, excluded)
                : await this.o.context.digestOf(hits.map((h) => h.e.rel)),
            ]);
          }
        }
      }
      const createdBy = `${st.kind} ${[...sources, dest].join(" ")} # buildkit`;
      // --link: the layer is made on an empty filesystem, so neither it nor its key depends on the
      // parent layers; --chown names are still resolved from the parent's /etc/passwd
      const linkOwner = async (): Promise<Owner | undefined> => {
        if (!chown) return undefined;
        if (/^[0-9]+(:[0-9]+)?$/.test(chown)) {
          const [u, g] = chown.split(":");
          return { uid: Number(u), gid: Number(g ?? u) };
        }
        const pm = await mountOverlay(await this.lowerDirs(s), this.o.store.tmp);
        try {
          return await ownerFor(pm.merged, chown, true);
        } finally {
          await pm.release();
        }
      };
      const extra: unknown[] = [];
      if (excludes.length) extra.push(["exclude", excludes]);
      if (st.parents) extra.push(["parents"]);
      const key = link
        ? cacheKey(["link", st.kind, dest, chown ?? "", st.chmod ?? "", inputs, ...extra])
        : cacheKey([s.key, st.kind, dest, chown ?? "", st.chmod ?? "", st.link ?? false, inputs, ...extra]);
      const fsOpts = link ? { isolated: true, chainKey: cacheKey([s.key, "link", key]) } : {};
      /** The copy, into a merged mount (`root`), or into a fresh upper dir with the parent layers' `lower` view. */
      const copyInto = async (root: string, lower?: LowerView): Promise<{ opaque: boolean }> => {
        const owner = link
          ? await linkOwner()
          : chown
            ? await ownerFor(lower ? (p) => lower.readFile(p) : root, chown, true)
            : undefined;
        if (st.from) fromView ??= await this.mountFrom(s, st.from);
        const o: CopyOpts = { root, owner, chmod: chmodFn, xattrs: new XattrCopy(), lower };
        // the attributes of the context files to copy are read (getfattr) while they are copied
        if (!st.from) {
          const ctx = this.o.context;
          const paths: string[] = [];
          for (const hits of ctxHits.values())
            for (const { e, relp } of hits)
              for (const ent of ctx.under(e.rel)) {
                const r = relUnder(e.rel, ent.rel);
                if (ent.type !== "file" && ent.type !== "dir") continue;
                if (r && excluded(relp ? `${relp}/${r}` : r, ent.type === "dir")) continue;
                paths.push(join(ctx.root, ent.rel));
              }
          o.xattrs!.prefetch(paths);
        }
        const destDirOf = async (name: string, srcIsDir: boolean): Promise<string> => {
          // returns the host path the source should be copied to
          if (destIsDir) {
            lower?.prepareDir(dest);
            const d = await mkdirAllInRoot(root, dest, owner);
            return srcIsDir ? d : join(d, name);
          }
          lower?.prepareTarget(dest);
          const hostDest = await resolveInRoot(root, dest);
          const ex = await lstat(hostDest).catch(() => undefined);
          if (ex?.isDirectory() && !srcIsDir) return join(hostDest, name);
          await mkdirAllInRoot(root, posix.dirname(dest), owner);
          return resolveInRoot(root, dest);
        };
        /** --parents: dest/relp, its missing parents made like the source's (mode, mtime). */
        const parentsTarget = async (
          relp: string,
          srcDirMeta: (anc: string) => Promise<SrcMeta | undefined>,
        ) => {
          lower?.prepareDir(dest);
          await mkdirAllInRoot(root, dest, owner);
          const parts = relp.split("/").filter(Boolean);
          for (let i = 1; i < parts.length; i++) {
            const anc = parts.slice(0, i).join("/");
            lower?.prepareDir(posix.join(dest, anc));
            const host = await resolveInRoot(root, posix.join(dest, anc));
            if (await lstat(host).catch(() => undefined)) continue;
            const meta = await srcDirMeta(anc);
            await mkdir(host);
            await chmod(host, meta ? meta.mode & 0o7777 : 0o755);
            await lchown(host, owner?.uid ?? 0, owner?.gid ?? 0);
            if (meta) await lutimes(host, meta.mtime, meta.mtime);
          }
          return resolveInRoot(root, posix.join(dest, relp));
        };
        for (const src of sources) {
          if (!st.from && isHeredocSrc(src)) {
            const h = heredocOf(src);
            const content = chomp({
              ...h,
              content: h.expand ? this.o.expander.word(h.content, scope) : h.content,
            });
            await writeFileEntry(
              await destDirOf(h.name, false),
              content,
              o,
              0o644,
              this.o.epoch !== undefined ? new Date(this.o.epoch * 1000) : undefined,
            );
            continue;
          }
          if (!st.from && urlSources.includes(src)) {
            await this.addUrl(src, st.checksum, destDirOf, o, st.line);
            continue;
          }
          if (fromView) {
            const view = fromView;
            const pv = st.parents ? splitPivot(src) : undefined;
            const hits =
              pv && (hasGlob(pv.pivot) || hasGlob(pv.pattern))
                ? await parentsIn(view.root, pv.pivot, pv.pattern)
                : (await globIn(view.root, pv ? posix.join("/", pv.pivot, pv.pattern) : src)).map((hp) => ({
                    hp,
                    relp: pv?.pattern,
                    pivot: pv?.pivot ?? "",
                  }));
            if (!hits.length && !hasGlob(src))
              fail(`${st.kind} --from=${st.from} failed: "${src}" not found`);
            for (const { hp, relp, pivot } of hits) {
              const stt = await lstat(hp);
              const top = relp ?? posix.relative(view.root, hp);
              if (ex && excluded(top, stt.isDirectory())) continue;
              const include = ex
                ? (r: string) => !excluded(relp ? `${relp}/${r}` : r, lstatSync(join(hp, r)).isDirectory())
                : undefined;
              let target: string;
              if (pv && relp !== undefined) {
                target = await parentsTarget(relp, async (anc) =>
                  lstat(await resolveInRoot(view.root, posix.join("/", pivot, anc))).catch(() => undefined),
                );
              } else target = await destDirOf(posix.basename(hp), stt.isDirectory());
              await copyEntry(hp, target, o, include, "", !owner);
            }
            continue;
          }
          for (const { e, relp, pivot } of ctxHits.get(src) ?? []) {
            const host = join(this.o.context.root, e.rel);
            const include = (r: string) => {
              const ent = this.o.context.entries.get(e.rel ? `${e.rel}/${r}` : r);
              return !!ent && !excluded(relp ? `${relp}/${r}` : r, ent.type === "dir");
            };
            if (st.kind === "ADD" && e.type === "file" && relp === undefined && (await isArchive(host))) {
              if (lower) throw new NeedsOverlay("ADD unpacks an archive"); // its entries may replace anything
              await this.addArchive(
                host,
                await mkdirAllInRoot(root, destIsDir ? dest : dest + "/", owner),
                o,
              );
              continue;
            }
            const target =
              relp !== undefined
                ? await parentsTarget(relp, async (anc) => {
                    const ent = this.o.context.entries.get(pivot ? `${pivot}/${anc}` : anc);
                    return ent ? { mode: ent.mode, mtime: new Date(ent.mtimeMs) } : undefined;
                  })
                : await destDirOf(posix.basename(e.rel), e.type === "dir");
            await copyEntry(host, target, o, include);
          }
        }
        await flushXattrs(o);
        // the diff reads attributes only when told to (it looks for opaque dirs in the same pass)
        return { opaque: o.removedDir === true || o.xattrs!.applied };
      };
      await this.fsStep(s, st, createdBy, key, (m) => copyInto(m.merged), {
        ...fsOpts,
        // ADD's archives and URLs stay on the overlay
        ...(urlSources.length === 0 ? { direct: copyInto } : {}),
      });
    } finally {
      // the view is unmounted while the next step runs; the stage waits for it at its end
      if (fromView) {
        const released = fromView.release();
        released.catch(() => {}); // handled when the stage settles
        s.background.push(released);
      }
    }
  }

  /** COPY --parents with patterns from the context: the pivots (globbed), the pattern under each. */
  private parentsHits(pivot: string, pattern: string): CtxHit[] {
    const ctx = this.o.context;
    const pivots = hasGlob(pivot)
      ? [...ctx.entries.values()]
          .filter((e) => e.type === "dir" && globToRegex(pivot).test(e.rel))
          .map((e) => e.rel)
      : ctx.entries.get(pivot)?.type === "dir"
        ? [pivot]
        : [];
    const pp = parentsPattern(pattern);
    const hits: CtxHit[] = [];
    for (const pv of pivots.sort()) {
      const start = pp.base ? (pv ? `${pv}/${pp.base}` : pp.base) : pv;
      const rels = [...ctx.under(start)].map((e) => relUnder(pv, e.rel));
      for (const relp of selectParents(rels, pp)) {
        const e = ctx.entries.get(pv ? `${pv}/${relp}` : relp);
        if (e) hits.push({ e, relp, pivot: pv });
      }
    }
    return hits;
  }

  /**
   * The content digest of what --exclude / --parents copy from the context: each hit's kept
   * entries (path under the hit, type, mode, link target, content digest) and, with --parents,
   * the path kept and the modes of the parent directories it recreates.
   */
  private async hitsDigest(
    hits: CtxHit[],
    excluded: (rel: string, isDir: boolean) => boolean,
  ): Promise<string> {
    const ctx = this.o.context;
    const h = createHash("sha256");
    for (const hit of hits) {
      h.update(`@${hit.relp ?? ""}\n`);
      if (hit.relp !== undefined) {
        const parts = hit.relp.split("/").filter(Boolean);
        for (let i = 1; i < parts.length; i++) {
          const anc = parts.slice(0, i).join("/");
          const ent = ctx.entries.get(hit.pivot ? `${hit.pivot}/${anc}` : anc);
          h.update(`^${anc}\0${((ent?.mode ?? 0o755) & 0o7777).toString(8)}\n`);
        }
      }
      for (const e of ctx.under(hit.e.rel)) {
        const r = relUnder(hit.e.rel, e.rel);
        if (r && excluded(hit.relp ? `${hit.relp}/${r}` : r, e.type === "dir")) continue;
        const d = e.type === "file" ? await ctx.fileDigest(e) : "";
        h.update(`${r}\0${e.type}\0${(e.mode & 0o7777).toString(8)}\0${e.linkname ?? ""}\0${d}\n`);
      }
    }
    return "sha256:" + h.digest("hex");
  }

  private async addUrl(
    url: string,
    checksum: string | undefined,
    destDirOf: (name: string, dir: boolean) => Promise<string>,
    o: CopyOpts,
    line: number,
  ): Promise<void> {
    const { httpCall } = await import("../util/http.js");
    const { createWriteStream } = await import("node:fs");
    const { pipeline } = await import("node:stream/promises");
    // streamed to a temp file and hashed on the way: a download is never held in memory
    const tmp = await this.o.store.tempDir("add-url-");
    try {
      const file = join(tmp, "download");
      const hash = createHash("sha256");
      const res = await httpCall(url, {
        maxRedirects: 10,
        consume: (body) =>
          pipeline(
            body,
            async function* (src: AsyncIterable<Buffer>) {
              for await (const c of src) {
                hash.update(c);
                yield c;
              }
            },
            createWriteStream(file, { mode: 0o600 }),
          ),
      }).catch((err: Error) => {
        throw new BuildError(`ADD ${url} failed at line ${line}: ${err.message}`, undefined, line);
      });
      if (res.status < 200 || res.status > 299)
        throw new BuildError(`ADD ${url} failed at line ${line}: HTTP ${res.status}`, undefined, line);
      if (checksum) {
        const got = "sha256:" + hash.digest("hex");
        if (got !== checksum)
          throw new BuildError(
            `ADD ${url}: checksum mismatch: want ${checksum}, got ${got} (line ${line})`,
            undefined,
            line,
          );
      }
      const name = posix.basename(new URL(url).pathname) || "index.html";
      const lm = res.headers["last-modified"];
      await writeFileEntry(
        await destDirOf(name, false),
        { file },
        o,
        0o600,
        typeof lm === "string" ? new Date(lm) : undefined,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async addArchive(host: string, destHost: string, o: CopyOpts): Promise<void> {
    const { createReadStream } = await import("node:fs");
    const { createGunzip } = await import("node:zlib");
    const { spawn } = await import("node:child_process");
    const head = Buffer.alloc(6);
    const fh = await import("node:fs/promises").then((fs) => fs.open(host, "r"));
    await fh.read(head, 0, 6, 0);
    await fh.close();
    let input: Readable;
    if (head[0] === 0x1f && head[1] === 0x8b) input = createReadStream(host).pipe(createGunzip());
    else if (
      head.subarray(0, 3).toString() === "BZh" ||
      head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
    ) {
      const tool = head[0] === 0x42 ? "bzip2" : "xz";
      const p = spawn(tool, ["-dc", host], { stdio: ["ignore", "pipe", "inherit"] });
      input = p.stdout;
    } else input = createReadStream(host);
    const tmp = await this.o.store.tempDir("add-");
    try {
      await extractLayer(input, join(tmp, "x"), { overlay: false });
      for (const name of (await readdir(join(tmp, "x"))).sort())
        await copyEntry(
          join(tmp, "x", name),
          join(destHost, name),
          { ...o, chmod: undefined },
          undefined,
          "",
          !o.owner,
        );
      await flushXattrs(o); // before the extracted files go
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** DOCKYARD_TIMING=1: phase timings of each filesystem step on stderr (for profiling). */
function timer(label: string): (phase: string) => void {
  if (process.env.DOCKYARD_TIMING !== "1") return () => {};
  let t = Date.now();
  return (phase) => {
    const now = Date.now();
    process.stderr.write(`[timing] ${label.split("\n")[0]!.slice(0, 40)} ${phase} ${now - t}ms\n`);
    t = now;
  };
}

async function isArchive(host: string): Promise<boolean> {
  const fs = await import("node:fs/promises");
  const fh = await fs.open(host, "r");
  try {
    const b = Buffer.alloc(512);
    const { bytesRead } = await fh.read(b, 0, 512, 0);
    if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
    if (bytesRead >= 3 && b.subarray(0, 3).toString() === "BZh") return true;
    if (bytesRead >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
      return true;
    if (bytesRead >= 262 && b.subarray(257, 262).toString() === "ustar") return true;
    return false;
  } finally {
    await fh.close();
  }
}

/** A context source of COPY/ADD; with --parents, the path kept under the destination. */
interface CtxHit {
  e: ContextEntry;
  relp?: string;
  pivot?: string;
}

interface SrcMeta {
  mode: number;
  mtime: Date;
}

/** --parents: `a/./b/c` keeps `b/c` (the part after the `/./` pivot); without one, the whole path. */
function splitPivot(src: string): { pivot: string; pattern: string } {
  const clean = (p: string) =>
    posix
      .normalize("/" + p)
      .slice(1)
      .replace(/\/+$/, "");
  const i = src.indexOf("/./");
  if (i < 0) return { pivot: "", pattern: clean(src) };
  return { pivot: clean(src.slice(0, i)), pattern: clean(src.slice(i + 3)) };
}

/** `rel` relative to the context path `base` ("" is the root). */
function relUnder(base: string, rel: string): string {
  if (!base) return rel;
  return rel === base ? "" : rel.slice(base.length + 1);
}

/** COPY --from --parents with patterns: each pivot (globbed) and what the pattern takes under it. */
async function parentsIn(
  root: string,
  pivot: string,
  pattern: string,
): Promise<{ hp: string; relp: string; pivot: string }[]> {
  const pivots = hasGlob(pivot) ? await globIn(root, "/" + pivot) : [await resolveInRoot(root, "/" + pivot)];
  const pp = parentsPattern(pattern);
  const out: { hp: string; relp: string; pivot: string }[] = [];
  for (const ph of pivots) {
    if (!(await lstat(ph).catch(() => undefined))?.isDirectory()) continue;
    const pivotRel = posix.relative(root, ph);
    const start = pp.base ? await resolveInRoot(root, posix.join("/", pivotRel, pp.base)) : ph;
    for (const relp of selectParents(walkRelSync(start, pp.base), pp))
      out.push({
        hp: await resolveInRoot(root, posix.join("/", pivotRel, relp), { noFollowLast: true }),
        relp,
        pivot: pivotRel,
      });
  }
  return out;
}

/** Resolves a source path (globs in the last components allowed) inside a mounted filesystem. */
async function globIn(root: string, src: string): Promise<string[]> {
  const clean = posix.normalize("/" + src);
  if (!hasGlob(clean)) {
    const p = await resolveInRoot(root, clean);
    return (await lstat(p).catch(() => undefined)) ? [p] : [];
  }
  const parts = clean.split("/").filter(Boolean);
  let current = ["/"];
  for (const part of parts) {
    const next: string[] = [];
    for (const c of current) {
      if (!hasGlob(part)) {
        next.push(posix.join(c, part));
        continue;
      }
      const dir = await resolveInRoot(root, c);
      const names = await readdir(dir).catch(() => [] as string[]);
      const re = globToRegex(part);
      for (const n of names.sort()) if (re.test(n)) next.push(posix.join(c, n));
    }
    current = next;
  }
  const out: string[] = [];
  for (const c of current) {
    const p = await resolveInRoot(root, c);
    if (await lstat(p).catch(() => undefined)) out.push(p);
  }
  return out;
}

/** --chown / WORKDIR owner: names from the image's /etc/passwd and /etc/group; user-only means gid = uid (COPY). */
async function ownerFor(rootfs: RootFiles, spec: string, copySemantics: boolean): Promise<Owner> {
  const [u, g] = spec.split(":", 2) as [string, string | undefined];
  if (copySemantics && g === undefined) {
    const r = await resolveUser(rootfs, u, { supplementary: false });
    return { uid: r.uid, gid: /^[0-9]+$/.test(u) ? r.uid : r.uid };
  }
  const r = await resolveUser(rootfs, spec, { supplementary: false });
  return { uid: r.uid, gid: r.gid };
}

function parsePlatformWord(p: string): Platform {
  const [os, architecture, variant] = p.split("/");
  if (!os || !architecture)
    throw new DockyardError("USAGE", `invalid platform ${JSON.stringify(p)}: want os/arch[/variant]`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export type { ContainerConfig };
