// The build's front end: the shared instruction layer (src/dockerfile: parser → typed instructions
// with BuildKit's flag and argument checks → ARG/ENV scoping and the stage graph) turned into the
// executor's stages and steps. `dockyard lint` reports DL1000 for exactly the errors thrown here
// (both come from `loadDockerfile` in src/dockerfile), so "lint passes, build fails" cannot happen.
import {
  loadDockerfile as loadShared,
  ShellLex,
  envFrom,
  type Instruction,
  type LoadedDockerfile,
  type Node,
} from "../dockerfile/index.js";
import { DockyardError } from "../image/errors.js";
import type { Finding } from "../lint/finding.js";
import type { LocalStore } from "../image/transports/store.js";
import type { Expander } from "./execute.js";
import type { Dockerfile, Heredoc, Stage, Step } from "./plan.js";

export class DockerfileError extends DockyardError {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super("MANIFEST_INVALID", message);
  }
}

export function makeExpander(escape: string): Expander {
  const lex = new ShellLex(escape);
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new DockerfileError((err as Error).message);
    }
  };
  return {
    word: (w, env) => wrap(() => lex.processWord(w, envFrom(env))),
    words: (w, env) => wrap(() => lex.processWords(w, envFrom(env))),
  };
}

function heredocsOf(n: Node): Heredoc[] {
  return n.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp }));
}

/** A typed instruction (unexpanded) as an executor step. No argument is parsed again here. */
function toStep(ins: Instruction): Step {
  const n = ins.node;
  const base = { line: ins.range.start.line, original: n.original };
  switch (ins.kind) {
    case "RUN":
      return {
        ...base,
        ins,
        kind: "RUN",
        shell: ins.shell,
        args: ins.command,
        heredocs: heredocsOf(n),
        mounts: ins.mounts.map((m) => m.raw),
        network: ins.network,
      };
    case "COPY":
    case "ADD":
      return {
        ...base,
        ins,
        kind: ins.kind,
        // heredoc sources stay in place (`<<EOF`): the executor writes them where they are named
        sources: (n.sub ?? n).args.slice(0, -1),
        dest: ins.dest,
        heredocs: heredocsOf(n),
        from: ins.from,
        chown: ins.chown,
        chmod: ins.chmod,
        link: ins.link,
        checksum: ins.checksum,
        keepGitDir: ins.keepGitDir,
        parents: ins.parents,
        exclude: ins.exclude,
      };
    case "FROM":
      throw new DockerfileError(`FROM inside a stage (line ${base.line})`, base.line);
    default:
      return { ...base, ins, kind: ins.kind } as Step;
  }
}

export interface FrontendOptions {
  buildArgs?: Record<string, string>;
  target?: string;
  /** `os/arch[/variant]` of the image being built. */
  platform?: string;
}

export interface Frontend {
  dockerfile: Dockerfile;
  expander: Expander;
  escape: string;
  /** The shared layer's output (parse, typed model, resolved graph): what the build checks lint. */
  loaded: LoadedDockerfile;
}

/**
 * Dockerfile text → the executor's stages, through the shared instruction layer. Throws the first
 * error (parse, instruction, expansion or stage graph) as BuildKit would, naming its line and column.
 */
export function loadDockerfile(text: string, file = "Dockerfile", options: FrontendOptions = {}): Frontend {
  const loaded = loadShared(text, {
    file,
    buildArgs: options.buildArgs,
    target: options.target,
    targetPlatform: options.platform,
  });
  if (loaded.errors.length) {
    const e = loaded.errors[0]!;
    const { line, column } = e.range.start;
    if (options.target !== undefined && /^target stage ".*" could not be found$/.test(e.message)) {
      const names = loaded.model.stages.map((s) => s.name ?? String(s.index)).join(", ");
      throw new DockyardError("NOT_FOUND", `${e.message} (stages: ${names})`);
    }
    throw new DockerfileError(`${file}:${line}:${column}: ${e.message}`, line, column);
  }
  const r = loaded.resolved;
  if (r.stages.length === 0) throw new DockerfileError(`${file}: the Dockerfile has no FROM instruction`);
  const df: Dockerfile = { stages: [], directives: {}, resolved: r };
  for (const d of loaded.parse.directives) df.directives![d.name] = d.value;
  for (const rs of r.stages) {
    const from = rs.stage.from;
    const st: Stage = {
      index: rs.index,
      name: rs.name,
      base: from.image,
      platform: from.platform,
      baseName: rs.baseName,
      platformName: rs.platform,
      baseStage: rs.base.type === "stage" ? rs.base.index : undefined,
      line: from.range.start.line,
      original: from.node.original,
      steps: rs.stage.commands.map(toStep),
    };
    df.stages.push(st);
  }
  return { dockerfile: df, expander: makeExpander(loaded.parse.escape), escape: loaded.parse.escape, loaded };
}

/**
 * BuildKit's build checks over the front end's result (src/lint/build-checks.ts: only the BuildKit
 * rules are loaded, a few milliseconds). Base images already in the local store give their
 * platform (InvalidBaseImagePlatform) and ENV (UndefinedVar); nothing is fetched for the checks.
 * `# check=skip=…` and `# check=error=true` are applied.
 */
export async function checkDockerfile(
  fe: Frontend,
  text: string,
  options: { file?: string; targetPlatform?: string; store?: LocalStore } = {},
): Promise<{ findings: Finding[]; fail: boolean }> {
  const [{ runBuildChecks }, { localBaseImages }] = await Promise.all([
    import("../lint/build-checks.js"),
    import("../lint/base-images.js"),
  ]);
  const bases = await localBaseImages(fe.loaded, { store: options.store, platform: options.targetPlatform });
  return runBuildChecks(text, {
    file: options.file,
    targetPlatform: options.targetPlatform,
    loaded: fe.loaded,
    resolveImagePlatform: bases.resolveImagePlatform,
    imageEnv: bases.imageEnv,
  });
}
