import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { DockyardError } from "../image/errors.js";

/** Everything a user can set; the YAML config file has exactly these keys. */
export interface RegistryConfig {
  /** HOST:PORT to listen on. */
  listen: string;
  /** Filesystem store root. */
  data: string;
  /** Read-only mode: every write is refused with 405 UNSUPPORTED. */
  readOnly: boolean;
  log: {
    /** JSON access log, one line per request on stdout. */
    accessLog: boolean;
    /** Operational messages (start, stop, purge) on stderr: "info" | "warn" | "error" | "off". */
    level: "info" | "warn" | "error" | "off";
  };
  storage: {
    /** fsync blob data and metadata before making them visible (as distribution does). */
    fsync: boolean;
    delete: {
      /** Allow DELETE of manifests, tags and blob links. */
      enabled: boolean;
    };
    /** Bytes of manifest bodies kept in memory. */
    manifestCacheBytes: number;
  };
  uploads: {
    /** Remove upload sessions untouched for longer than this (seconds, 0 = never). */
    purgeAfterSeconds: number;
    /** How often to look for abandoned sessions (seconds). */
    purgeIntervalSeconds: number;
    /** Advertised OCI-Chunk-Min-Length (bytes, 0 = none). */
    chunkMinLength: number;
  };
  manifests: {
    /** Largest manifest accepted, bytes (the spec's recommended 4 MiB). */
    maxBytes: number;
  };
  auth: {
    htpasswd: {
      /** htpasswd file (bcrypt entries). Setting it turns basic auth on. */
      path: string;
      realm: string;
    };
  };
  tls: {
    cert: string;
    key: string;
  };
  trust: {
    /** Repository globs whose tags must be signed (`team/*`, `prod/**`, `app@notary,gpg`). */
    require: string[];
    /** Trust policy file (YAML): per-repository gpg/sigstore/notary requirements with keys. */
    policy: string;
  };
  http: {
    /** Seconds an idle keep-alive connection stays open. */
    keepAliveSeconds: number;
    /** Seconds to wait for in-flight requests on SIGTERM before closing them. */
    shutdownGraceSeconds: number;
  };
}

export const DEFAULT_CONFIG: RegistryConfig = {
  listen: "0.0.0.0:5000",
  data: "./data",
  readOnly: false,
  log: { accessLog: true, level: "info" },
  storage: { fsync: true, delete: { enabled: false }, manifestCacheBytes: 32 * 1024 * 1024 },
  uploads: { purgeAfterSeconds: 7 * 24 * 3600, purgeIntervalSeconds: 3600, chunkMinLength: 0 },
  manifests: { maxBytes: 4 * 1024 * 1024 },
  auth: { htpasswd: { path: "", realm: "dockyard" } },
  tls: { cert: "", key: "" },
  http: { keepAliveSeconds: 75, shutdownGraceSeconds: 30 },
  trust: { require: [], policy: "" },
};

/** Config keys (dotted), their environment variable, type and description: used by --help and the README. */
export const CONFIG_KEYS: {
  key: string;
  env: string;
  type: "string" | "boolean" | "number" | "list";
  description: string;
}[] = [
  { key: "listen", env: "DOCKYARD_LISTEN", type: "string", description: "HOST:PORT to listen on" },
  { key: "data", env: "DOCKYARD_DATA", type: "string", description: "filesystem store directory" },
  {
    key: "readOnly",
    env: "DOCKYARD_READ_ONLY",
    type: "boolean",
    description: "refuse every write (405 UNSUPPORTED)",
  },
  {
    key: "log.accessLog",
    env: "DOCKYARD_ACCESS_LOG",
    type: "boolean",
    description: "JSON access log on stdout",
  },
  {
    key: "log.level",
    env: "DOCKYARD_LOG_LEVEL",
    type: "string",
    description: "info | warn | error | off (stderr)",
  },
  {
    key: "storage.fsync",
    env: "DOCKYARD_FSYNC",
    type: "boolean",
    description: "fsync content before it becomes visible",
  },
  {
    key: "storage.delete.enabled",
    env: "DOCKYARD_DELETE_ENABLED",
    type: "boolean",
    description: "allow DELETE of manifests, tags, blobs",
  },
  {
    key: "storage.manifestCacheBytes",
    env: "DOCKYARD_MANIFEST_CACHE_BYTES",
    type: "number",
    description: "bytes of manifest bodies cached in memory",
  },
  {
    key: "uploads.purgeAfterSeconds",
    env: "DOCKYARD_UPLOAD_PURGE_AFTER",
    type: "number",
    description: "purge upload sessions idle this long (0 = never)",
  },
  {
    key: "uploads.purgeIntervalSeconds",
    env: "DOCKYARD_UPLOAD_PURGE_INTERVAL",
    type: "number",
    description: "how often to purge abandoned uploads",
  },
  {
    key: "uploads.chunkMinLength",
    env: "DOCKYARD_CHUNK_MIN_LENGTH",
    type: "number",
    description: "OCI-Chunk-Min-Length advertised to clients (0 = none)",
  },
  {
    key: "manifests.maxBytes",
    env: "DOCKYARD_MANIFEST_MAX_BYTES",
    type: "number",
    description: "largest manifest accepted",
  },
  {
    key: "auth.htpasswd.path",
    env: "DOCKYARD_HTPASSWD",
    type: "string",
    description: "htpasswd file with bcrypt entries; turns on basic auth",
  },
  { key: "auth.htpasswd.realm", env: "DOCKYARD_AUTH_REALM", type: "string", description: "basic-auth realm" },
  {
    key: "tls.cert",
    env: "DOCKYARD_TLS_CERT",
    type: "string",
    description: "PEM certificate (chain); turns on HTTPS",
  },
  { key: "tls.key", env: "DOCKYARD_TLS_KEY", type: "string", description: "PEM private key for tls.cert" },
  {
    key: "trust.require",
    env: "DOCKYARD_TRUST_REQUIRE",
    type: "list",
    description: "repository globs whose tags must be signed (comma-separated in env)",
  },
  {
    key: "trust.policy",
    env: "DOCKYARD_TRUST_POLICY",
    type: "string",
    description: "trust policy file (gpg/sigstore/notary rules with keys) enforced on pulls by tag",
  },
  {
    key: "http.keepAliveSeconds",
    env: "DOCKYARD_KEEPALIVE",
    type: "number",
    description: "idle keep-alive connection timeout",
  },
  {
    key: "http.shutdownGraceSeconds",
    env: "DOCKYARD_SHUTDOWN_GRACE",
    type: "number",
    description: "wait for in-flight requests on SIGTERM",
  },
];

function getPath(obj: unknown, key: string): unknown {
  let cur = obj as Record<string, unknown> | undefined;
  for (const k of key.split(".")) {
    if (cur === undefined || cur === null || typeof cur !== "object") return undefined;
    cur = cur[k] as Record<string, unknown> | undefined;
  }
  return cur;
}

export function setConfigValue(cfg: RegistryConfig, key: string, raw: unknown, source: string): void {
  const spec = CONFIG_KEYS.find((k) => k.key === key);
  if (!spec) throw new DockyardError("CONFIG_INVALID", `${source}: unknown config key ${key}`);
  let v: unknown = raw;
  if (spec.type === "boolean") {
    if (typeof v === "string") v = !["", "0", "false", "no", "off"].includes(v.toLowerCase());
    if (typeof v !== "boolean")
      throw new DockyardError("CONFIG_INVALID", `${source}: ${key} must be true or false`);
  } else if (spec.type === "number") {
    if (typeof v === "string" && v.trim() !== "") v = Number(v);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new DockyardError("CONFIG_INVALID", `${source}: ${key} must be a non-negative number`);
  } else if (spec.type === "list") {
    if (typeof v === "string")
      v = v
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      throw new DockyardError("CONFIG_INVALID", `${source}: ${key} must be a list of strings`);
  } else if (typeof v !== "string") {
    throw new DockyardError("CONFIG_INVALID", `${source}: ${key} must be a string`);
  }
  if (key === "log.level" && !["info", "warn", "error", "off"].includes(v as string))
    throw new DockyardError("CONFIG_INVALID", `${source}: log.level must be info, warn, error or off`);
  const parts = key.split(".");
  let cur = cfg as unknown as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
  cur[parts[parts.length - 1]!] = v;
}

function walkKeys(obj: Record<string, unknown>, prefix: string, out: [string, unknown][]): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v))
      walkKeys(v as Record<string, unknown>, key, out);
    else out.push([key, v]);
  }
}

export function defaultConfig(): RegistryConfig {
  return structuredClone(DEFAULT_CONFIG);
}

/** defaults < config file < environment < `overrides` (flags). */
export async function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, unknown>;
}): Promise<RegistryConfig> {
  const cfg = defaultConfig();
  if (opts.file) {
    let text: string;
    try {
      text = await readFile(opts.file, "utf8");
    } catch (err) {
      throw new DockyardError(
        "CONFIG_INVALID",
        `cannot read config file ${opts.file}: ${(err as Error).message}`,
      );
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new DockyardError(
        "CONFIG_INVALID",
        `config file ${opts.file} is not valid YAML: ${(err as Error).message}`,
      );
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== "object" || Array.isArray(doc))
        throw new DockyardError("CONFIG_INVALID", `config file ${opts.file} must be a YAML mapping`);
      const pairs: [string, unknown][] = [];
      walkKeys(doc as Record<string, unknown>, "", pairs);
      for (const [k, v] of pairs) setConfigValue(cfg, k, v, opts.file);
    }
  }
  const env = opts.env ?? process.env;
  for (const k of CONFIG_KEYS) {
    const v = env[k.env];
    if (v !== undefined && v !== "") setConfigValue(cfg, k.key, v, `$${k.env}`);
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {}))
    if (v !== undefined) setConfigValue(cfg, k, v, "flag");
  return cfg;
}

export function configValue(cfg: RegistryConfig, key: string): unknown {
  return getPath(cfg, key);
}
