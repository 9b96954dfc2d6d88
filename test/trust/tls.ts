import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { BIN, freePort, startServer, type ServerProc } from "../registry/helpers.js";

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

export interface TrustRegistry {
  srv: ServerProc;
  tls: { ca: string; cert: string; key: string };
  /** Port of the HTTPS trust listener (the registry itself is plain HTTP on `srv.port`). */
  trustPort: number;
}

/**
 * `dockyard registry serve` with the trust API on a second, TLS listener (certificates made in
 * `dir`), once both listeners accept connections.
 */
export async function startTrustRegistry(dir: string): Promise<TrustRegistry> {
  const tls = makeTls(dir);
  const trustPort = await freePort();
  const srv = await startServer({
    args: [
      "--no-access-log",
      "--trust-listen",
      `127.0.0.1:${trustPort}`,
      "--trust-tls-cert",
      tls.cert,
      "--trust-tls-key",
      tls.key,
    ],
  });
  // the trust listener starts after the main one
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = connect(trustPort, "127.0.0.1", () => (c.end(), r(true))).on("error", () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { srv, tls, trustPort };
}
