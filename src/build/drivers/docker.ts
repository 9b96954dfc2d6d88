import { DockyardError } from "../../image/errors.js";
import type { BuildOptions, BuildResult } from "../options.js";

export async function buildWithDocker(_opts: BuildOptions): Promise<BuildResult> {
  throw new DockyardError("UNSUPPORTED", "--driver docker is not implemented yet");
}
