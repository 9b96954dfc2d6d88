import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Interop tests need real peers (dockerd, skopeo, notary…). Locally a missing peer skips the
 * test with a reason; in CI (DOCKYARD_REQUIRE_PEERS=1) it fails, so a broken setup cannot pass.
 */
export const REQUIRE_PEERS = process.env.DOCKYARD_REQUIRE_PEERS === "1";

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const DOCKER_CLI = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

export function dockerAvailable(): boolean {
  try {
    execFileSync(DOCKER_CLI, ["version", "--format", "{{.Server.Version}}"], {
      stdio: "ignore",
      timeout: 15000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Returns a skip reason (string) for node:test's `skip` option, or false when all peers exist. Throws in CI. */
export function needPeers(...peers: string[]): string | false {
  const missing = peers.filter((p) => (p === "dockerd" ? !dockerAvailable() : !hasCommand(p)));
  if (missing.length === 0) return false;
  const why = `missing peer(s): ${missing.join(", ")} (run scripts/test-env.sh)`;
  if (REQUIRE_PEERS) throw new Error(why);
  return why;
}
