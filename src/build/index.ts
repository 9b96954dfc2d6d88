// The builder: Dockerfile → image, natively (runc/crun on overlay snapshots) or through a Docker Engine.
export { buildNative } from "./drivers/native.js";
import type { BuildOptions as Opts, BuildResult as Res } from "./options.js";
/** The docker driver (loaded on demand: dockerode is heavy to import). */
export async function buildWithDocker(opts: Opts): Promise<Res> {
  return (await import("./drivers/docker.js")).buildWithDocker(opts);
}
export { parseOutput, parseCacheSpec } from "./options.js";
export type { BuildOptions, BuildResult, OutputSpec, CacheSpec } from "./options.js";
export { createBuildReporter } from "./progress.js";
export type { BuildReporter } from "./progress.js";
export { BuildStore } from "./cache.js";
export { BuildContext } from "./context.js";
export { PatternMatcher, parseDockerignore } from "./dockerignore.js";
export { runCleanups, installSignalCleanup } from "./cleanup.js";
export { BuildError } from "./execute.js";
