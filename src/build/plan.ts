// The build plan: the executor's view of the stages and steps the front end (frontend.ts) makes from
// the shared instruction layer (src/dockerfile), and the stages the target needs in dependency
// order (the shared stage graph). Steps keep their words unexpanded: the executor expands them with
// the stage's ARG/ENV scope (a base image's ENV included) through the shared expander when it
// reaches them.
import type { Instruction, ResolvedDockerfile } from "../dockerfile/index.js";

export interface Heredoc {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
}

interface Base {
  line: number;
  /** The instruction as written (first line), for messages and history. */
  original: string;
}

type Typed<K extends Instruction["kind"]> = Extract<Instruction, { kind: K }>;

/** Instructions that change only the image config: the executor reads them from the typed instruction. */
type MetaKind =
  | "ENV"
  | "LABEL"
  | "ARG"
  | "WORKDIR"
  | "USER"
  | "EXPOSE"
  | "VOLUME"
  | "STOPSIGNAL"
  | "HEALTHCHECK"
  | "SHELL"
  | "ENTRYPOINT"
  | "CMD"
  | "ONBUILD"
  | "MAINTAINER";

export type Step =
  | (Base & {
      kind: "RUN";
      /** The shared typed instruction (unexpanded) this step comes from. */
      ins: Typed<"RUN">;
      /** Shell form: one command string in `args[0]`; exec form: the argv. */
      shell: boolean;
      args: string[];
      heredocs: Heredoc[];
      /** --mount values as written (the executor expands and checks them with the shared parseMount). */
      mounts: string[];
      network?: string;
    })
  | (Base & {
      kind: "COPY" | "ADD";
      ins: Typed<"COPY" | "ADD">;
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
  | { [K in MetaKind]: Base & { kind: K; ins: Typed<K> } }[MetaKind];

export interface Stage {
  index: number;
  /** AS name (lower-cased), if any. */
  name?: string;
  /** The FROM image word, unexpanded. */
  base: string;
  platform?: string;
  /** The FROM image after expansion with the global ARGs (the shared resolver's). */
  baseName: string;
  /** FROM --platform after expansion. */
  platformName?: string;
  /** The earlier stage this one builds on (`FROM builder`). */
  baseStage?: number;
  line: number;
  original: string;
  steps: Step[];
}

export interface Dockerfile {
  stages: Stage[];
  /** Parser directives (syntax, escape, check). */
  directives?: Record<string, string>;
  /** The shared resolver's output: stage graph, target, expansion of instructions. */
  resolved: ResolvedDockerfile;
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

/** The stages the target needs, from the shared stage graph (src/dockerfile's resolveDockerfile). */
export function makePlan(df: Dockerfile): Plan {
  const r = df.resolved;
  const stages = r.needed.map((i) => ({
    stage: df.stages[i]!,
    deps: [...new Set(r.stages[i]!.deps.flatMap((d) => (d.to === undefined ? [] : [d.to])))],
  }));
  return { stages, target: df.stages[r.target]! };
}
