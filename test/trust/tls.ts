import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { BIN } from "../registry/helpers.js";

/** A CA and a server certificate for 127.0.0.1, made by `dockyard registry cert` in `dir`. */
export function makeTls(dir: string): { ca: string; cert: string; key: string } {
  execFileSync(
    process.execPath,
    [BIN, "registry", "cert", "--host", "127.0.0.1", "--host", "localhost", "--out", dir, "--days", "2"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  return { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}
