import type { Command, CommandIO } from "../command.js";
import type { FlagSpec, ParsedArgs } from "../args.js";
import { ExitCode } from "../exit-codes.js";
import { DockyardError } from "../../image/errors.js";

const SERVE_FLAGS: FlagSpec[] = [
  { name: "listen", type: "string", valueName: "HOST:PORT", description: "address to listen on (listen)" },
  {
    name: "data",
    type: "string",
    valueName: "DIR",
    description: "store directory (data; default ./data or $DOCKYARD_DATA)",
  },
  {
    name: "config",
    short: "c",
    type: "string",
    valueName: "FILE",
    description: "YAML config file",
    env: "DOCKYARD_CONFIG",
  },
  { name: "read-only", type: "boolean", description: "refuse every write (readOnly)" },
  {
    name: "access-log",
    type: "boolean",
    description: "JSON access log on stdout; --no-access-log turns it off (log.accessLog)",
  },
  { name: "log-level", type: "string", valueName: "LEVEL", description: "info|warn|error|off (log.level)" },
  {
    name: "delete",
    type: "boolean",
    description: "allow deletes; --no-delete refuses them (storage.delete.enabled)",
  },
  {
    name: "fsync",
    type: "boolean",
    description:
      "fsync before content is visible; --no-fsync is faster, unsafe on power loss (storage.fsync)",
  },
  {
    name: "htpasswd",
    type: "string",
    valueName: "FILE",
    description: "htpasswd file (bcrypt): turns on basic auth (auth.htpasswd.path)",
  },
  {
    name: "realm",
    type: "string",
    valueName: "REALM",
    description: "basic-auth realm (auth.htpasswd.realm)",
  },
  {
    name: "tls-cert",
    type: "string",
    valueName: "FILE",
    description: "PEM certificate: serve HTTPS (tls.cert)",
  },
  { name: "tls-key", type: "string", valueName: "FILE", description: "PEM private key (tls.key)" },
  { name: "print-config", type: "boolean", description: "print the effective config as YAML and exit" },
];

const FLAG_TO_KEY: Record<string, string> = {
  listen: "listen",
  data: "data",
  "read-only": "readOnly",
  "access-log": "log.accessLog",
  "log-level": "log.level",
  delete: "storage.delete.enabled",
  fsync: "storage.fsync",
  htpasswd: "auth.htpasswd.path",
  realm: "auth.htpasswd.realm",
  "tls-cert": "tls.cert",
  "tls-key": "tls.key",
};

async function configHelp(): Promise<string> {
  const { CONFIG_KEYS, DEFAULT_CONFIG, configValue } = await import("../../registry/config.js");
  const rows = CONFIG_KEYS.map((k) => {
    const def = JSON.stringify(configValue(DEFAULT_CONFIG, k.key));
    return `  ${k.key.padEnd(30)}${k.description} (default ${def}) [$${k.env}]`;
  });
  return rows.join("\n");
}

const serve: Command = {
  name: "registry serve",
  summary: "Run the OCI / Docker registry (HTTP API v2, OCI Distribution v1.1)",
  usage: "registry serve [--listen HOST:PORT] [--data DIR] [--config FILE] [flags]",
  help: `Serves the registry on 0.0.0.0:5000 with the filesystem store in ./data (or $DOCKYARD_DATA).
Settings are layered: defaults < config file (YAML) < environment < flags.
Health: GET /healthz. SIGTERM/SIGINT stop gracefully (in-flight requests finish).

Config keys (YAML paths, e.g. "storage:\\n  delete:\\n    enabled: false"):
@@CONFIG@@

Examples:
  dockyard registry serve
  dockyard registry serve --listen 127.0.0.1:5001 --data /srv/registry --no-access-log
  dockyard registry serve --config registry.yaml --htpasswd /etc/dockyard/htpasswd \\
      --tls-cert cert.pem --tls-key key.pem`,
  flags: SERVE_FLAGS,
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const { loadConfig } = await import("../../registry/config.js");
    const { createRegistry } = await import("../../registry/app.js");
    const { extensionProviders } = await import("../../registry/extensions-registry.js");
    const overrides: Record<string, unknown> = {};
    for (const [flag, key] of Object.entries(FLAG_TO_KEY))
      if (args.flags[flag] !== undefined) overrides[key] = args.flags[flag];
    const config = await loadConfig({ file: args.flags.config as string | undefined, overrides });
    if (Boolean(config.tls.cert) !== Boolean(config.tls.key))
      throw new DockyardError("USAGE", "TLS needs both --tls-cert and --tls-key");
    if (args.flags["print-config"]) {
      const { stringify } = await import("yaml");
      io.stdout.write(stringify(config));
      return ExitCode.ok;
    }
    const extensions = [];
    const listeners = [];
    for (const p of await extensionProviders()) {
      const r = await p.create(args, config);
      extensions.push(...(r.extensions ?? []));
      listeners.push(...(r.listeners ?? []));
    }
    const reg = await createRegistry({ config, extensions });
    const main = await reg.listen();
    const log = (msg: string, fields: Record<string, unknown> = {}): void => {
      if (config.log.level === "info")
        io.stderr.write(
          JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...fields }) + "\n",
        );
    };
    log("dockyard registry listening", {
      url: main.url,
      data: config.data,
      auth: config.auth.htpasswd.path ? "htpasswd" : "none",
      readOnly: config.readOnly,
    });
    for (const l of listeners) {
      const extra = await reg.listen(l);
      log("extra listener", { name: l.name, url: extra.url });
    }
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (sig: string): void => {
        if (stopping) {
          // A second SIGINT (Ctrl-C twice) forces the exit; a repeated SIGTERM just waits.
          if (sig === "SIGINT") process.exit(ExitCode.internal);
          return;
        }
        stopping = true;
        log("stopping", { signal: sig, inFlight: reg.inFlight });
        reg.close().then(
          () => {
            log("stopped");
            resolve();
          },
          () => resolve(),
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
    return ExitCode.ok;
  },
};

const cert: Command = {
  name: "registry cert",
  summary: "Make a CA and a server certificate for the registry's TLS (ca.pem, cert.pem, key.pem)",
  usage: "registry cert [--host NAME|IP]... [--out DIR] [--days N]",
  help: `Creates a private CA (ECDSA P-256) and a server certificate it signs, with every --host as a
subjectAltName (DNS names and IP addresses). Writes DIR/ca.pem, DIR/cert.pem (server cert + CA
chain), DIR/key.pem (mode 0600) and DIR/ca-key.pem (keep it private). Give ca.pem to clients:
  docker:  /etc/docker/certs.d/HOST:PORT/ca.crt
  curl:    --cacert ca.pem

Examples:
  dockyard registry cert --host registry.example.com --host 10.0.0.5 --out certs
  dockyard registry serve --tls-cert certs/cert.pem --tls-key certs/key.pem`,
  flags: [
    {
      name: "host",
      type: "string[]",
      valueName: "NAME|IP",
      description: "subjectAltName (default localhost and 127.0.0.1)",
    },
    { name: "out", type: "string", valueName: "DIR", description: "output directory", default: "certs" },
    {
      name: "days",
      type: "string",
      valueName: "N",
      description: "server certificate validity in days",
      default: "825",
    },
  ],
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const { createCertificates } = await import("../../registry/cert.js");
    const hosts = (args.flags.host as string[] | undefined) ?? ["localhost", "127.0.0.1"];
    const days = Number(args.flags.days);
    if (!Number.isInteger(days) || days < 1)
      throw new DockyardError("USAGE", "--days must be a positive integer");
    const out = await createCertificates({ hosts, outDir: args.flags.out as string, days });
    io.stdout.write(`wrote ${out.ca}, ${out.cert}, ${out.key} (SANs: ${hosts.join(", ")})\n`);
    return ExitCode.ok;
  },
};

const htpasswd: Command = {
  name: "registry htpasswd",
  summary: "Print an htpasswd line (bcrypt) for basic auth; the password is read from stdin",
  usage: "registry htpasswd USER < password",
  help: `Reads the password from stdin (first line) and prints USER:$2y$… for auth.htpasswd.path.

Example:
  printf '%s' "$PASSWORD" | dockyard registry htpasswd alice >> /etc/dockyard/htpasswd`,
  flags: [{ name: "cost", type: "string", valueName: "N", description: "bcrypt cost", default: "10" }],
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const user = args.positionals[0];
    if (!user || user.includes(":")) throw new DockyardError("USAGE", "give a user name (without ':')");
    let input = "";
    for await (const c of io.stdin) input += c.toString();
    const password = input.split(/\r?\n/)[0] ?? "";
    if (!password) throw new DockyardError("USAGE", "no password on stdin");
    const bcrypt = (await import("bcryptjs")).default;
    const hash = await bcrypt.hash(password, Number(args.flags.cost));
    io.stdout.write(`${user}:${hash}\n`);
    return ExitCode.ok;
  },
};

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new DockyardError("USAGE", `bad duration ${JSON.stringify(s)} (e.g. 30s, 15m, 1h, 2d)`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s"];
  return Number(m[1]) * mult;
}

const gc: Command = {
  name: "registry gc",
  summary: "Delete blobs no manifest references (safe while the registry serves pushes)",
  usage: "registry gc [--data DIR] [--config FILE] [--dry-run] [--delete-untagged] [--grace DURATION]",
  help: `Marks every blob referenced by a manifest (config, layers, the manifest itself) and deletes
the rest from the store. With --delete-untagged, manifests no tag reaches (directly, through an
index, or as a referrer of a reachable manifest) are deleted first.

Safe to run while 'registry serve' is running: content touched within --grace before the run
(uploads, mounts, manifest PUTs) is never deleted, and a blob is moved aside and checked once more
before it goes, so a push racing with gc either keeps its blob or fails cleanly and retries. The
server picks up the deletions from gc/journal.json within seconds.

Examples:
  dockyard registry gc --dry-run
  dockyard registry gc --data /srv/registry --delete-untagged --grace 2h`,
  flags: [
    {
      name: "data",
      type: "string",
      valueName: "DIR",
      description: "store directory (data; default ./data or $DOCKYARD_DATA)",
    },
    {
      name: "config",
      short: "c",
      type: "string",
      valueName: "FILE",
      description: "YAML config file",
      env: "DOCKYARD_CONFIG",
    },
    {
      name: "dry-run",
      short: "n",
      type: "boolean",
      description: "report what would be deleted, delete nothing",
    },
    { name: "delete-untagged", type: "boolean", description: "also delete manifests no tag reaches" },
    {
      name: "grace",
      type: "string",
      valueName: "DURATION",
      description: "keep anything touched this recently",
      default: "1h",
    },
    { name: "quiet", short: "q", type: "boolean", description: "only the summary line" },
  ],
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const { loadConfig } = await import("../../registry/config.js");
    const { runGc } = await import("../../registry/gc.js");
    const { FilesystemDriver } = await import("../../registry/storage/filesystem.js");
    const { existsSync } = await import("node:fs");
    const config = await loadConfig({
      file: args.flags.config as string | undefined,
      overrides: { data: args.flags.data as string | undefined },
    });
    if (!existsSync(config.data))
      throw new DockyardError("NOT_FOUND", `store directory ${config.data} does not exist`);
    const quiet = args.flags.quiet === true;
    const r = await runGc(new FilesystemDriver(config.data), {
      dryRun: args.flags["dry-run"] === true,
      deleteUntagged: args.flags["delete-untagged"] === true,
      graceMs: parseDuration(args.flags.grace as string),
      log: quiet ? undefined : (l) => io.stderr.write(l + "\n"),
    });
    if (r.aborted) {
      io.stderr.write(`dockyard registry gc: ${r.aborted}\n`);
      return ExitCode.findings;
    }
    io.stdout.write(
      `${r.dryRun ? "dry run: would delete" : "deleted"} ${r.deletedBlobs} blob(s), ${r.deletedBytes} bytes, ` +
        `${r.deletedManifests} manifest(s); kept ${r.markedBlobs} referenced blob(s) in ${r.repositories} ` +
        `repositories and ${r.keptYoung} recent item(s)` +
        (r.removedEmptyDirs
          ? `; ${r.dryRun ? "would remove" : "removed"} ${r.removedEmptyDirs} empty blob dir(s)`
          : "") +
        "\n",
    );
    return ExitCode.ok;
  },
};

export const commands: Command[] = [serve, gc, cert, htpasswd];

let prepared: Promise<void> | undefined;
/**
 * Finishes the commands before they are parsed or shown: --help lists every config key, and
 * storage/auth providers add their flags. The command loader awaits it (no top-level await, so
 * the CLI can be bundled into one script).
 */
export function prepare(): Promise<void> {
  return (prepared ??= (async () => {
    serve.help = serve.help!.replace("@@CONFIG@@", await configHelp());
    const { extensionProviders } = await import("../../registry/extensions-registry.js");
    for (const p of await extensionProviders())
      for (const f of p.flags ?? []) if (!serve.flags.some((x) => x.name === f.name)) serve.flags.push(f);
  })());
}
