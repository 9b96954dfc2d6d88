/**
 * The Dockerfile front end shared by `lint` and `build`.
 *
 * ```ts
 * import { parseDockerfile } from "../dockerfile/index.js";
 * const r = parseDockerfile(text, { file: "Dockerfile" });
 * // r.errors:   BuildKit's parse errors, each with a line/column range (empty when the file parses)
 * // r.warnings: e.g. empty continuation lines
 * // r.directives, r.escape: `# syntax=`, `# escape=`, `# check=` at the top of the file
 * // r.nodes:    one Node per instruction, in order:
 * //   keyword ("RUN", upper-cased) and cmd (as written), flags (["--mount=type=cache,target=/x"]),
 * //   args (BuildKit's line-parser output), json (exec form), heredocs [{name, expand, chomp,
 * //   content, range}], sub (ONBUILD's trigger), original (continuations joined), raw (the exact
 * //   source slice), range {start, end} (1-based line/column, 0-based offset; end exclusive),
 * //   prevComment (comment lines just above)
 * ```
 *
 * `parseDockerfile` never throws on bad input: binary junk, empty files and huge files give errors in
 * `r.errors` (the first one is what BuildKit would report). `dumpDockerfile(r)` prints BuildKit's
 * S-expression dump. `ShellLex` is BuildKit's shell-word lexer (variable expansion, word splitting).
 *
 * The instruction layer and the build graph:
 *
 * ```ts
 * const model = buildInstructions(r);          // typed instructions, stages, + BuildKit's instruction errors
 * const res = resolveDockerfile(model, { buildArgs, target, targetPlatform });
 * // res.stages[i]: baseName/platform expanded, base (stage | image | scratch), deps (edges), and per
 * //   instruction `expanded` (words expanded as BuildKit does) and `env` (ARG/ENV visible before it)
 * // res.needed: the stages the target needs, dependencies first
 * // res.errors: parse + instruction + expansion + graph errors, each with a range
 * ```
 *
 * `loadDockerfile(text, options)` does all three.
 */
export { parseDockerfile, chompHeredoc, heredocsFromLine, parseHeredocWord } from "./parser.js";
export { dumpDockerfile, dumpNode } from "./dump.js";
export { ShellLex, ShellLexError, envFrom, EMPTY_ENV } from "./lexer.js";
export type { EnvGetter, LexOptions, ProcessResult } from "./lexer.js";
export { parseCheckDirective } from "./directives.js";
export { buildInstructions, parseInstruction, INSTRUCTION_NAMES } from "./instructions.js";
export type {
  ArgInstruction,
  CmdInstruction,
  CommandLine,
  CopyInstruction,
  DockerfileModel,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  FromInstruction,
  HealthcheckInstruction,
  Instruction,
  InstructionKind,
  KeyValue,
  LabelInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  RunInstruction,
  ShellInstruction,
  SourceContent,
  Stage,
  StopSignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "./instructions.js";
export { InstructionError } from "./errors.js";
export { parseMount, MOUNT_TYPES } from "./mount.js";
export type { Mount, MountType, CacheSharing } from "./mount.js";
export {
  resolveDockerfile,
  neededStages,
  expandWord,
  platformArgs,
  PLATFORM_ARGS,
  PROXY_ARGS,
} from "./resolve.js";
export type {
  ResolveOptions,
  ResolvedDockerfile,
  ResolvedInstruction,
  ResolvedStage,
  StageBase,
  StageEdge,
} from "./resolve.js";
export { loadDockerfile } from "./load.js";
export type { LoadedDockerfile } from "./load.js";
export type { CheckDirective } from "./directives.js";
export type {
  Directive,
  Heredoc,
  Node,
  ParseError,
  ParseOptions,
  ParseResult,
  ParseWarning,
  Position,
  Range,
} from "./types.js";
