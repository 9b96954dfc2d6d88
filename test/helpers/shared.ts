import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/…). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * `../shared` beside the repository, as CI has it ($DOCKYARD_SHARED wins). A worktree nested
 * deeper finds it further up. Falls back to `../shared` so a missing tool names the path CI uses.
 */
export const SHARED: string = (() => {
  if (process.env.DOCKYARD_SHARED) return process.env.DOCKYARD_SHARED;
  for (let d = resolve(REPO_ROOT, ".."); ; d = dirname(d)) {
    if (existsSync(join(d, "shared", "tools"))) return join(d, "shared");
    if (dirname(d) === d) return resolve(REPO_ROOT, "..", "shared");
  }
})();
