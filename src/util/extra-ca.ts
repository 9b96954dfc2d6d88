// NODE_EXTRA_CA_CERTS, loaded when a TLS connection needs it rather than at start-up.
//
// Node 20 parses the whole NODE_EXTRA_CA_CERTS file before it runs any script. CI images often
// point it at the system bundle (/etc/ssl/certs/ca-certificates.crt, ~140 certificates), and
// that parse alone takes ~35 ms of every command, most of which never open a TLS connection.
// So bin/dockyard's shell line moves the variable to DOCKYARD_DEFERRED_CA_CERTS before Node
// starts; the CLI puts it back for the programs it runs, and every TLS client here asks
// trustedCa() for Node's roots plus those certificates, as Node itself would have trusted.

import { readFileSync } from "node:fs";

const DEFERRED = "DOCKYARD_DEFERRED_CA_CERTS";

let deferredFile: string | undefined;
let loaded: string[] | undefined;
let warned = false;

/** Takes the launcher's hand-over (once, at CLI start) and restores NODE_EXTRA_CA_CERTS for children. */
export function adoptDeferredCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED];
  if (file === undefined) return;
  delete env[DEFERRED];
  if (file === "") return;
  deferredFile = file;
  env.NODE_EXTRA_CA_CERTS ??= file;
}

/** The PEM certificates of a bundle file, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The `ca` option for a TLS client that has no CA of its own: undefined when Node's default
 * store already holds the extra certificates (nothing was deferred), else Node's roots plus
 * the deferred file's certificates. Like Node, a file that cannot be read is warned about once
 * and left out.
 */
export function trustedCa(rootCertificates: readonly string[]): string[] | undefined {
  if (deferredFile === undefined) return undefined;
  if (loaded) return loaded;
  let extra: string[];
  try {
    // sync on purpose: read once per process, when the first TLS agent is made
    extra = pemCertificates(readFileSync(deferredFile, "latin1"));
  } catch (e) {
    if (!warned) {
      warned = true;
      process.emitWarning(
        `Ignoring extra certs from \`${deferredFile}\`, load failed: ${(e as Error).message}`,
      );
    }
    return undefined;
  }
  loaded = [...rootCertificates, ...extra];
  return loaded;
}
