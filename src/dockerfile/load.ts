import { buildInstructions, type DockerfileModel } from "./instructions.js";
import { parseDockerfile } from "./parser.js";
import { resolveDockerfile, type ResolveOptions, type ResolvedDockerfile } from "./resolve.js";
import type { ParseOptions, ParseResult } from "./types.js";

export interface LoadedDockerfile {
  parse: ParseResult;
  model: DockerfileModel;
  resolved: ResolvedDockerfile;
  /** Every error: parse, instruction, expansion, graph (in that order). */
  errors: ResolvedDockerfile["errors"];
}

/** Parse, type and resolve a Dockerfile in one call. Never throws on bad input. */
export function loadDockerfile(
  text: string | Uint8Array,
  options: ParseOptions & ResolveOptions = {},
): LoadedDockerfile {
  const parse = parseDockerfile(text, options);
  const model = buildInstructions(parse);
  const resolved = resolveDockerfile(model, options);
  return { parse, model, resolved, errors: resolved.errors };
}
