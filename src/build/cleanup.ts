// Process-wide cleanup of what a build holds (overlay mounts, runtime containers, temp dirs), so a
// failure or Ctrl-C (SIGINT/SIGTERM) leaves nothing behind.
type Cleanup = () => Promise<void>;

const pending = new Map<number, Cleanup>();
let nextId = 1;

/** Registers a cleanup; the returned function unregisters it (call it once the resource is released). */
export function registerCleanup(fn: Cleanup): () => void {
  const id = nextId++;
  pending.set(id, fn);
  return () => void pending.delete(id);
}

/** Runs every registered cleanup, newest first. */
export async function runCleanups(): Promise<void> {
  const fns = [...pending.entries()].sort((a, b) => b[0] - a[0]);
  pending.clear();
  for (const [, fn] of fns) await fn().catch(() => {});
}

let installed = false;
/**
 * On SIGINT/SIGTERM: abort the build, release everything, exit 130/143. `onSignal` is told first
 * (to abort running steps).
 */
export function installSignalCleanup(onSignal?: () => void): void {
  if (installed) return;
  installed = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      onSignal?.();
      void runCleanups().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
    });
  }
}
