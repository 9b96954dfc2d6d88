// The build plan: stages as a graph (FROM <stage>, COPY --from, RUN --mount from=) → the stages the
// target needs, in dependency order. Instructions keep their words unexpanded: the executor
// expands them with the stage's ARG/ENV scope when it reaches them.
import { DockyardError } from "../image/errors.js";

export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
}

export interface KV {
  key: string;
  value: string;
}

interface Base {
  line: number;
  /** The instruction as written (first line), for messages and history. */
  original: string;
}

export type Step =
  | (Base & {
      kind: "RUN";
      /** Shell form: one command string in `args[0]`; exec form: the argv. */
      shell: boolean;
      args: string[];
      heredocs: Heredoc[];
      /** Raw flag values: --mount=…, --network=…, --security=… */
      mounts: string[];
      network?: string;
    })
  | (Base & {
      kind: "COPY" | "ADD";
      sources: string[];
      dest: string;
      heredocs: Heredoc[];
      from?: string;
      chown?: string;
      chmod?: string;
      link?: boolean;
      checksum?: string;
      keepGitDir?: boolean;
      parents?: boolean;
      exclude?: string[];
    })
  | (Base & { kind: "ENV" | "LABEL"; pairs: KV[] })
  | (Base & { kind: "ARG"; args: { name: string; value?: string }[] })
  | (Base & { kind: "WORKDIR"; path: string })
  | (Base & { kind: "USER"; user: string })
  | (Base & { kind: "EXPOSE"; ports: string[] })
  | (Base & { kind: "VOLUME"; paths: string[] })
  | (Base & { kind: "STOPSIGNAL"; signal: string })
  | (Base & {
      kind: "HEALTHCHECK";
      test: string[] | null;
      shell: boolean;
      interval?: string;
      timeout?: string;
      startPeriod?: string;
      startInterval?: string;
      retries?: string;
    })
  | (Base & { kind: "SHELL"; args: string[] })
  | (Base & { kind: "ENTRYPOINT" | "CMD"; shell: boolean; args: string[] })
  | (Base & { kind: "ONBUILD"; expression: string })
  | (Base & { kind: "MAINTAINER"; name: string });

export interface Stage {
  index: number;
  /** AS name (lower-cased), if any. */
  name?: string;
  /** The FROM image word, unexpanded. */
  base: string;
  platform?: string;
  line: number;
  original: string;
  steps: Step[];
}

export interface Dockerfile {
  /** ARGs before the first FROM. */
  globalArgs: { name: string; value?: string }[];
  stages: Stage[];
  /** Parser directives (syntax, escape, check). */
  directives?: Record<string, string>;
}

export interface StagePlan {
  stage: Stage;
  /** Indexes of stages this one needs (FROM <stage>, COPY --from, RUN --mount from=). */
  deps: number[];
}

export interface Plan {
  /** Needed stages, dependencies first; the last is the target. */
  stages: StagePlan[];
  target: Stage;
}

/** Finds a stage by name or index (as COPY --from and FROM accept). */
export function findStage(df: Dockerfile, ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.find((s) => s.index < before && s.name === lower);
  if (byName) return byName;
  if (/^[0-9]+$/.test(ref)) {
    const i = Number(ref);
    if (i < before) return df.stages[i];
  }
  return undefined;
}

function mountFrom(raw: string): string | undefined {
  for (const part of raw.split(",")) {
    const [k, v] = part.split("=", 2);
    if (k?.trim().toLowerCase() === "from" && v) return v.trim();
  }
  return undefined;
}

/**
 * Stage references of a stage. `expandWord` expands ARGs in FROM/--from words (global ARGs only,
 * as BuildKit does for FROM; --from may use stage ARGs: expanded by the executor as well).
 */
export function stageDeps(df: Dockerfile, stage: Stage, expandWord: (w: string) => string): number[] {
  const deps = new Set<number>();
  const base = findStage(df, expandWord(stage.base), stage.index);
  if (base) deps.add(base.index);
  for (const st of stage.steps) {
    let ref: string | undefined;
    if ((st.kind === "COPY" || st.kind === "ADD") && st.from) ref = st.from;
    if (st.kind === "RUN") for (const m of st.mounts) ref ??= mountFrom(m);
    if (st.kind === "RUN")
      for (const m of st.mounts) {
        const r = mountFrom(m);
        if (r) {
          const s = findStage(df, expandWord(r), stage.index);
          if (s) deps.add(s.index);
        }
      }
    if (ref) {
      const s = findStage(df, expandWord(ref), stage.index);
      if (s) deps.add(s.index);
    }
  }
  return [...deps];
}

/** Selects the target (by name; default the last stage) and the stages it needs; the rest are skipped. */
export function makePlan(
  df: Dockerfile,
  target: string | undefined,
  expandWord: (w: string) => string,
): Plan {
  if (df.stages.length === 0)
    throw new DockyardError("MANIFEST_INVALID", "the Dockerfile has no FROM instruction");
  let t: Stage | undefined;
  if (target) {
    t = df.stages.find((s) => s.name === target.toLowerCase());
    if (!t)
      throw new DockyardError(
        "NOT_FOUND",
        `target stage "${target}" could not be found (stages: ${df.stages.map((s) => s.name ?? s.index).join(", ")})`,
      );
  } else t = df.stages[df.stages.length - 1]!;
  const needed = new Map<number, StagePlan>();
  const visit = (s: Stage, path: number[]) => {
    if (needed.has(s.index)) return;
    if (path.includes(s.index))
      throw new DockyardError("MANIFEST_INVALID", `circular stage dependency at line ${s.line}`);
    const deps = stageDeps(df, s, expandWord);
    for (const d of deps) visit(df.stages[d]!, [...path, s.index]);
    needed.set(s.index, { stage: s, deps });
  };
  visit(t, []);
  return { stages: [...needed.values()], target: t };
}
