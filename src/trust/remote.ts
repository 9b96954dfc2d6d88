import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DockyardError } from "../image/errors.js";
import { atomicWriteFile } from "../util/fs.js";
import type { Challenge, Credentials } from "../image/transports/auth.js";
import { httpCall, multipartBody, type HttpOptions, type HttpResult } from "../util/http.js";
import type { TufCache, TufRemote } from "./tuf/client.js";
import type { TufKey } from "./tuf/keys.js";

export interface TrustServerOptions {
  /** e.g. https://127.0.0.1:4443 */
  url: string;
  caFile?: string;
  insecure?: boolean;
  /** "user:password" (DOCKYARD_TRUST_AUTH) for basic auth or a token endpoint; default docker's config.json. */
  auth?: string;
}

type Action = "pull" | "push" | "*";

/** The Notary server API from the client side. */
export class NotaryRemote implements TufRemote {
  constructor(
    readonly gun: string,
    readonly opts: TrustServerOptions,
  ) {}

  private url(file: string): string {
    const gunPath = this.gun.split("/").map(encodeURIComponent).join("/");
    return `${this.opts.url.replace(/\/+$/, "")}/v2/${gunPath}/_trust/tuf/${file}`;
  }

  private challenge?: Challenge;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private creds?: Promise<Credentials | undefined>;

  /**
   * Credentials for the trust server: DOCKYARD_TRUST_AUTH ("user:password"), else docker's
   * config.json (docker login) for the trust server's host, else for the image's registry (what
   * docker sends to a Notary token realm).
   */
  private credentials(): Promise<Credentials | undefined> {
    if (this.opts.auth) {
      const i = this.opts.auth.indexOf(":");
      const c =
        i < 0
          ? { username: this.opts.auth, password: "" }
          : { username: this.opts.auth.slice(0, i), password: this.opts.auth.slice(i + 1) };
      return Promise.resolve(c);
    }
    this.creds ??= (async () => {
      const { lookupCredentials } = await import("../image/transports/auth.js");
      const registry = this.gun.slice(0, this.gun.indexOf("/"));
      return (await lookupCredentials(new URL(this.opts.url).host)) ?? (await lookupCredentials(registry));
    })();
    return this.creds;
  }

  /** The Notary server's access for a request: pull to read, push to publish, * to delete/rotate. */
  private scope(action: Action): string {
    return `repository:${this.gun}:${action === "push" ? "pull,push" : action}`;
  }

  private async http(action: Action, extra: HttpOptions = {}): Promise<HttpOptions> {
    const headers: Record<string, string> = { ...(extra.headers ?? {}) };
    const ch = this.challenge;
    if (ch?.scheme === "bearer") headers.authorization = `Bearer ${await this.token(ch, this.scope(action))}`;
    else if (ch?.scheme === "basic" || this.opts.auth) {
      const c = await this.credentials();
      if (c) headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    }
    return { caFile: this.opts.caFile, insecure: this.opts.insecure, tooLarge: "TRUST", ...extra, headers };
  }

  /** Docker token auth, as the registry client does it (src/image/transports/auth.ts). */
  private async token(ch: Challenge, scope: string): Promise<string> {
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return cached.token;
    const { requestBearerToken } = await import("../image/transports/auth.js");
    const t = await requestBearerToken(
      {
        challenge: ch,
        scopes: [scope],
        credentials: await this.credentials(),
        service: new URL(this.opts.url).host,
      },
      async (u, headers) => {
        const r = await httpCall(u.href, { headers, caFile: this.opts.caFile, insecure: this.opts.insecure });
        return { status: r.status, text: r.body.toString("utf8") };
      },
    );
    this.tokens.set(scope, t);
    return t.token;
  }

  /**
   * One request with the server's auth: on a 401 the challenge (WWW-Authenticate: Bearer realm=…
   * or Basic) is noted and the request repeated once with a token or credentials.
   */
  private async call(file: string, action: Action, extra: HttpOptions = {}): Promise<HttpResult> {
    const url = this.url(file);
    const r = await httpCall(url, await this.http(action, extra));
    if (r.status !== 401) return r;
    const { parseChallenges } = await import("../image/transports/auth.js");
    const ch = parseChallenges(r.headers["www-authenticate"]);
    const pick = ch.find((c) => c.scheme === "bearer") ?? ch.find((c) => c.scheme === "basic");
    if (!pick) return r;
    const before = this.challenge;
    this.challenge = pick;
    if (pick.scheme === "bearer")
      this.tokens.delete(this.scope(action)); // refused: expired or too narrow
    else if (before?.scheme === "basic" || this.opts.auth) return r; // credentials sent already: refused
    const again = await this.http(action, extra);
    if (!again.headers?.authorization) return r; // nothing to answer a basic challenge with
    return httpCall(url, again);
  }

  private static check(status: number, body: Buffer, what: string): void {
    if (status >= 200 && status < 300) return;
    let msg = body.toString("utf8").slice(0, 500);
    try {
      const j = JSON.parse(msg) as { errors?: { message?: string }[] };
      if (j.errors?.[0]?.message) msg = j.errors.map((e) => e.message).join("; ");
    } catch {
      /* plain text */
    }
    const code =
      status === 401
        ? "UNAUTHORIZED"
        : status === 403
          ? "DENIED"
          : status === 404
            ? "NOT_FOUND"
            : status >= 500
              ? "NETWORK"
              : "TRUST";
    throw new DockyardError(code, `trust server refused ${what} (HTTP ${status}): ${msg}`);
  }

  async get(file: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const r = await this.call(file, "pull", { maxBytes });
    if (r.status === 404) return undefined;
    NotaryRemote.check(r.status, r.body, `GET ${file}`);
    return r.body;
  }

  async getKey(role: "timestamp" | "snapshot"): Promise<TufKey> {
    const r = await this.call(`${role}.key`, "push");
    NotaryRemote.check(r.status, r.body, `GET ${role}.key`);
    return JSON.parse(r.body.toString("utf8")) as TufKey;
  }

  async rotateKey(role: "timestamp" | "snapshot"): Promise<TufKey> {
    const r = await this.call(`${role}.key`, "*", { method: "POST" });
    NotaryRemote.check(r.status, r.body, `POST ${role}.key`);
    return JSON.parse(r.body.toString("utf8")) as TufKey;
  }

  async publish(files: Map<string, Uint8Array>): Promise<void> {
    const { body, contentType } = multipartBody(files);
    const r = await this.call("", "push", { method: "POST", body, headers: { "content-type": contentType } });
    NotaryRemote.check(r.status, r.body, `the update (${[...files.keys()].join(", ")})`);
  }

  async deleteAll(): Promise<void> {
    const r = await this.call("", "*", { method: "DELETE" });
    NotaryRemote.check(r.status, r.body, "DELETE");
  }
}

/**
 * The client's trusted metadata on disk: <trust dir>/tuf/<gun>/metadata/<role>.json. The
 * directory is listed once (`refresh`, at the start of each update, under the trust dir's lock):
 * roles it does not hold are not read, and it is created once, not before every write.
 */
export class FileTufCache implements TufCache {
  readonly dir: string;
  private listing?: Promise<Set<string> | undefined>;
  constructor(base: string, gun: string) {
    this.dir = join(
      base,
      "tuf",
      ...gun.split("/").map((s) => s.replace(/[^A-Za-z0-9._:-]/g, "_")),
      "metadata",
    );
  }
  private p(role: string): string {
    return join(this.dir, `${role}.json`);
  }
  /** Forgets what was listed (another process may have written since). */
  refresh(): void {
    this.listing = undefined;
  }
  /** The files in the directory; undefined when it does not exist. */
  private files(): Promise<Set<string> | undefined> {
    this.listing ??= readdir(this.dir).then(
      (names) => new Set(names),
      () => undefined,
    );
    return this.listing;
  }
  async load(role: string): Promise<Uint8Array | undefined> {
    if (!(await this.files())?.has(`${role}.json`)) return undefined;
    try {
      return await readFile(this.p(role));
    } catch {
      return undefined;
    }
  }
  async save(role: string, bytes: Uint8Array): Promise<void> {
    const files = await this.files();
    await atomicWriteFile(this.p(role), bytes, { fsync: false, mkdir: files === undefined });
    if (files) files.add(`${role}.json`);
    else this.listing = Promise.resolve(new Set([`${role}.json`]));
  }
  async remove(role: string): Promise<void> {
    await rm(this.p(role), { force: true });
    (await this.files())?.delete(`${role}.json`);
  }
}

export class MemoryTufCache implements TufCache {
  readonly files = new Map<string, Uint8Array>();
  async load(role: string) {
    return this.files.get(role);
  }
  async save(role: string, bytes: Uint8Array) {
    this.files.set(role, bytes);
  }
  async remove(role: string) {
    this.files.delete(role);
  }
}
