import { homedir } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { atomicWriteFile } from "../../util/fs.js";
import { DockyardError } from "../errors.js";
import { DOCKER_HUB } from "../reference.js";

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth identity token (docker's `identitytoken`), used as refresh token. */
  identityToken?: string;
}

/** `$DOCKER_CONFIG/config.json`, default `~/.docker/config.json` (where docker keeps logins). */
export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

const HUB_KEY = "https://index.docker.io/v1/";

/** The config.json key docker uses for a registry host. */
export function authKey(registry: string): string {
  return registry === DOCKER_HUB ? HUB_KEY : registry;
}

function keyMatches(key: string, registry: string): boolean {
  if (key === authKey(registry)) return true;
  // Keys are sometimes written as URLs: https://host[:port][/v1/|/v2/].
  const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (registry === DOCKER_HUB) return ["index.docker.io", "docker.io", "registry-1.docker.io"].includes(host);
  return host === registry;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  /** A credential helper for every registry (`docker-credential-<credsStore>`). */
  credsStore?: string;
  /** Per-registry credential helpers, which win over credsStore. */
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** The credential helper docker would use for `registry`, if any. */
function helperFor(cfg: DockerConfig, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(cfg.credHelpers ?? {}))
    if (helper && keyMatches(key, registry)) return helper;
  return cfg.credsStore || undefined;
}

/**
 * Runs `docker-credential-<helper> <action>` with `input` on stdin, per docker's credential
 * helper protocol. Resolves to its stdout, or undefined when it says the credentials are not found.
 */
async function runHelper(
  helper: string,
  action: "get" | "store" | "erase",
  input: string,
): Promise<string | undefined> {
  const { spawn } = await import("node:child_process");
  const program = `docker-credential-${helper}`;
  return await new Promise<string | undefined>((resolve, reject) => {
    const child = spawn(program, [action], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(
        new DockyardError(
          "CONFIG_INVALID",
          e.code === "ENOENT"
            ? `${dockerConfigPath()} names the credential helper '${helper}', but ${program} is not on PATH: install it or remove credsStore/credHelpers`
            : `${program} ${action}: ${e.message}`,
        ),
      ),
    );
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8");
      if (code === 0) return resolve(text);
      const msg = (text + Buffer.concat(err).toString("utf8")).trim();
      // The helpers' own wording for "nothing stored for this server" (credentials.ErrCredentialsNotFound).
      if (action !== "store" && /credentials not found/i.test(msg)) return resolve(undefined);
      reject(
        new DockyardError("UNAUTHORIZED", `${program} ${action} failed (exit ${code}): ${msg.slice(0, 300)}`),
      );
    });
    child.stdin.on("error", () => {}); // a helper that exits without reading its input
    child.stdin.end(input);
  });
}

async function helperCredentials(helper: string, registry: string): Promise<Credentials | undefined> {
  const out = await runHelper(helper, "get", authKey(registry));
  if (out === undefined) return undefined;
  let doc: { Username?: string; Secret?: string };
  try {
    doc = JSON.parse(out) as typeof doc;
  } catch {
    throw new DockyardError(
      "UNAUTHORIZED",
      `docker-credential-${helper} get sent something that is not JSON`,
    );
  }
  if (!doc.Secret) return undefined;
  // docker's convention: the user name "<token>" marks an identity (refresh) token.
  if (doc.Username === "<token>") return { username: "<token>", password: "", identityToken: doc.Secret };
  return { username: doc.Username ?? "", password: doc.Secret };
}

async function readConfig(path: string): Promise<DockerConfig> {
  try {
    const doc = JSON.parse(await readFile(path, "utf8")) as unknown;
    if (typeof doc !== "object" || doc === null || Array.isArray(doc))
      throw new DockyardError("CONFIG_INVALID", `${path} must hold a JSON object`);
    return doc as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    if (err instanceof DockyardError) throw err;
    throw new DockyardError("CONFIG_INVALID", `cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Credentials for `registry` as docker finds them in its config.json: the registry's credential
 * helper (credHelpers, else credsStore) when one is configured, else the `auths` entry.
 */
export async function lookupCredentials(
  registry: string,
  path = dockerConfigPath(),
): Promise<Credentials | undefined> {
  const cfg = await readConfig(path);
  const helper = helperFor(cfg, registry);
  if (helper) {
    const found = await helperCredentials(helper, registry);
    if (found) return found;
  }
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    if (!keyMatches(key, registry) || !entry) continue;
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i < 0)
        throw new DockyardError("CONFIG_INVALID", `${path}: auths.${key}.auth is not base64 user:password`);
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
    if (username === undefined && entry.identitytoken) username = "<token>";
    if (username === undefined) continue;
    const c: Credentials = { username, password: password ?? "" };
    if (entry.identitytoken) c.identityToken = entry.identitytoken;
    return c;
  }
  return undefined;
}

/** Saves a login the way `docker login` does, keeping everything else in the file. */
export async function storeCredentials(registry: string, creds: Credentials, path = dockerConfigPath()) {
  const cfg = await readConfig(path);
  cfg.auths = cfg.auths ?? {};
  const helper = helperFor(cfg, registry);
  if (helper) {
    // As docker does: the secret goes to the helper, config.json keeps an empty entry.
    await runHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: authKey(registry), Username: creds.username, Secret: creds.password }),
    );
    cfg.auths[authKey(registry)] = {};
  } else
    cfg.auths[authKey(registry)] = {
      auth: Buffer.from(`${creds.username}:${creds.password}`).toString("base64"),
    };
  await atomicWriteFile(path, JSON.stringify(cfg, null, "\t") + "\n", { mode: 0o600 });
}

/** Removes a login; returns false when there was none. */
export async function removeCredentials(registry: string, path = dockerConfigPath()): Promise<boolean> {
  const cfg = await readConfig(path);
  let found = false;
  const helper = helperFor(cfg, registry);
  if (helper)
    found = (await runHelper(helper, "erase", authKey(registry)).catch(() => undefined)) !== undefined;
  for (const key of Object.keys(cfg.auths ?? {})) {
    if (keyMatches(key, registry)) {
      delete cfg.auths![key];
      found = true;
    }
  }
  // config.json holds the other registries' secrets: it stays 0600 when rewritten.
  if (found) await atomicWriteFile(path, JSON.stringify(cfg, null, "\t") + "\n", { mode: 0o600 });
  return found;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (`Bearer realm="…",service="…",scope="…"`). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header ? [header] : []) {
    const re = /([A-Za-z]+)\s+((?:[a-zA-Z_]+=(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(h))) {
      const params: Record<string, string> = {};
      const pre = /([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
      let p: RegExpExecArray | null;
      while ((p = pre.exec(m[2]!)))
        params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
      out.push({ scheme: m[1]!.toLowerCase(), params });
    }
  }
  return out;
}

/**
 * Docker token auth (https://distribution.github.io/distribution/spec/auth/token/): asks the
 * Bearer challenge's realm for a token for `scopes`, with `service` and `account` and the
 * credentials as basic auth (anonymous without). `get` does the HTTP GET (each caller has its
 * own connections and TLS settings). Used by the registry client and by the trust client.
 * `service` names what the token is for in messages (a registry or trust server host).
 */
export async function requestBearerToken(
  req: { challenge: Challenge; scopes: string[]; credentials?: Credentials; service: string },
  get: (url: URL, headers: Record<string, string>) => Promise<{ status: number; text: string }>,
): Promise<{ token: string; expires: number }> {
  const { challenge: ch, scopes, credentials: creds, service } = req;
  const realm = ch.params.realm;
  if (!realm) throw new DockyardError("UNAUTHORIZED", `${service} sent a Bearer challenge without a realm`);
  const u = new URL(realm);
  if (ch.params.service) u.searchParams.set("service", ch.params.service);
  for (const s of scopes) u.searchParams.append("scope", s);
  if (creds && creds.username !== "<token>") u.searchParams.set("account", creds.username);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (creds)
    headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
  const res = await get(u, headers);
  if (res.status === 401 || res.status === 403)
    throw new DockyardError(
      "UNAUTHORIZED",
      `${service} refused the credentials${creds ? ` of ${creds.username}` : ""} (token endpoint said ${res.status}); run 'dockyard login ${service}'`,
    );
  if (res.status !== 200)
    throw new DockyardError("NETWORK", `token endpoint ${u.origin} answered ${res.status}`);
  let doc: { token?: string; access_token?: string; expires_in?: number };
  try {
    doc = JSON.parse(res.text) as typeof doc;
  } catch {
    throw new DockyardError("NETWORK", `token endpoint ${u.origin} sent invalid JSON`);
  }
  const token = doc.token ?? doc.access_token;
  if (!token) throw new DockyardError("NETWORK", `token endpoint ${u.origin} sent no token`);
  const life = Math.max(60, doc.expires_in ?? 60) * 1000;
  return { token, expires: Date.now() + life - 10_000 };
}
