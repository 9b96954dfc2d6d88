import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { isIP } from "node:net";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { DockyardError, type ErrorCode } from "../errors.js";
import { digestOf, parseDigest, type Digest } from "../digest.js";
import { MANIFEST_MEDIA_TYPES } from "../media-types.js";
import { parseManifest, type Descriptor } from "../manifest.js";
import { DOCKER_HUB } from "../reference.js";
import {
  lookupCredentials,
  parseChallenges,
  requestBearerToken,
  type Challenge,
  type Credentials,
} from "./auth.js";
import type { BlobOrigin, ImageSource, ImageTarget, WriteManifestOptions } from "./types.js";
import { dockyardHome } from "./home.js";
import { atomicWriteFile } from "../../util/fs.js";
import { trustedCa } from "../../util/extra-ca.js";
const VERSION_STRING = "dockyard/0.1.0";

export interface RegistryClientOptions {
  /** Allow plain HTTP and unverified TLS for this registry (docker's insecure-registries). */
  insecure?: boolean;
  /** Explicit credentials; otherwise looked up in docker's config.json. */
  credentials?: Credentials | null;
  /** Attempts for idempotent requests on network errors and 429/5xx (default 4). */
  retries?: number;
  /** "monolithic" (one PUT, default) or "chunked" (PATCH chunks, then PUT). */
  uploadMode?: "monolithic" | "chunked";
  /** Chunk size for chunked uploads (default 16 MiB). */
  chunkSize?: number;
  /** Per-request idle timeout in ms (default 120 s). */
  timeoutMs?: number;
  /**
   * Where the scheme (https or http) of insecure/loopback registries is remembered, so a known
   * registry is not probed again (default `$DOCKYARD_HOME/registries`); false: always probe.
   */
  stateDir?: string | false;
}

type Scheme = "https" | "http";

let httpsModules: Promise<[typeof import("node:https"), typeof import("node:tls")]> | undefined;
function loadHttps(): Promise<[typeof import("node:https"), typeof import("node:tls")]> {
  httpsModules ??= Promise.all([import("node:https"), import("node:tls")]);
  return httpsModules;
}

/** The remembered-scheme file of `registry` under `dir`. */
export function schemeMemoryPath(dir: string, registry: string): string {
  return join(dir, `${encodeURIComponent(registry)}.json`);
}

async function readScheme(path: string): Promise<Scheme | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, "utf8")) as { scheme?: unknown };
    return doc.scheme === "https" || doc.scheme === "http" ? doc.scheme : undefined;
  } catch {
    return undefined;
  }
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

export interface RequestSpec {
  method: string;
  /** `/v2/...` path (with query) or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  scopes: string[];
  /** Statuses that are not errors (others throw DockyardError). */
  ok: number[];
  /** Follow redirects (blob downloads). */
  follow?: boolean;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Docker treats loopback registries as insecure by default (HTTPS first, then plain HTTP). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1";
  return false;
}

function networkError(err: unknown, what: string): DockyardError {
  const e = err as NodeJS.ErrnoException;
  return new DockyardError("NETWORK", `${what}: ${e.code ? `${e.code} ` : ""}${e.message}`, err);
}

function isNetworkError(err: unknown): boolean {
  if (err instanceof DockyardError) return err.code === "NETWORK";
  const code = (err as NodeJS.ErrnoException)?.code;
  return (code !== undefined && NETWORK_CODES.has(code)) || /socket hang up/.test(String(err));
}

async function readText(res: IncomingMessage, max = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new DockyardError("SIZE_INVALID", `response body over ${max} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readBytes(res: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new DockyardError("SIZE_INVALID", `manifest larger than ${max} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const OCI_CODE: Record<string, ErrorCode> = {
  BLOB_UNKNOWN: "BLOB_UNKNOWN",
  BLOB_UPLOAD_INVALID: "DIGEST_INVALID",
  BLOB_UPLOAD_UNKNOWN: "BLOB_UNKNOWN",
  DIGEST_INVALID: "DIGEST_INVALID",
  MANIFEST_BLOB_UNKNOWN: "MANIFEST_BLOB_UNKNOWN",
  MANIFEST_INVALID: "MANIFEST_INVALID",
  MANIFEST_UNKNOWN: "MANIFEST_UNKNOWN",
  MANIFEST_UNVERIFIED: "MANIFEST_INVALID",
  NAME_INVALID: "NAME_INVALID",
  NAME_UNKNOWN: "NAME_UNKNOWN",
  SIZE_INVALID: "SIZE_INVALID",
  TAG_INVALID: "TAG_INVALID",
  UNAUTHORIZED: "UNAUTHORIZED",
  DENIED: "DENIED",
  UNSUPPORTED: "UNSUPPORTED",
  TOOMANYREQUESTS: "NETWORK",
};

/** DOCKYARD_TIMING=1: each HTTP exchange's start (ms since the process began) and duration on stderr. */
const TIMING = process.env.DOCKYARD_TIMING === "1";

function timingLine(started: number, what: string): void {
  const took = performance.now() - started;
  process.stderr.write(
    `[timing] http at ${started.toFixed(1)}ms took ${took.toFixed(1)}ms: ${what.slice(0, 120)}\n`,
  );
}

/**
 * A client for one registry host (Docker Registry HTTP API v2 / OCI distribution): keep-alive
 * connections, Docker token auth (WWW-Authenticate Bearer → token endpoint) and basic auth,
 * retries with backoff, HTTPS with plain-HTTP fallback for loopback or `insecure` registries.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly apiHost: string;
  private readonly opts: RegistryClientOptions;
  private base?: Promise<string>;
  /** The base came from the scheme memory (not probed): a failure to talk to it re-probes. */
  private baseRemembered = false;
  private readonly schemePath: string | undefined;
  private challenge?: Challenge;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly tokenFetches = new Map<string, Promise<{ token: string; expires: number }>>();
  private creds?: Promise<Credentials | undefined>;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  /** Made on first HTTPS use (node:https and TLS load only then: loopback registries often speak HTTP). */
  private httpsAgent?: HttpsAgent;
  private readonly relaxedTls: boolean;

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.apiHost = registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
    this.opts = opts;
    const relaxed = opts.insecure === true || isLoopbackRegistry(registry);
    this.relaxedTls = relaxed;
    const dir = opts.stateDir === undefined ? join(dockyardHome(), "registries") : opts.stateDir;
    if (relaxed && dir !== false) this.schemePath = schemeMemoryPath(dir, registry);
  }

  get insecure(): boolean {
    return this.opts.insecure === true || isLoopbackRegistry(this.registry);
  }

  get uploadMode(): "monolithic" | "chunked" {
    return this.opts.uploadMode ?? "monolithic";
  }
  get chunkSize(): number {
    return this.opts.chunkSize ?? 16 << 20;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  private credentials(): Promise<Credentials | undefined> {
    if (this.opts.credentials === null) return Promise.resolve(undefined);
    if (this.opts.credentials) return Promise.resolve(this.opts.credentials);
    this.creds ??= lookupCredentials(this.registry);
    return this.creds;
  }

  /**
   * `https://host` or, for insecure/loopback registries that do not speak TLS, `http://host`
   * (HTTPS tried first, as docker does). The answer is remembered per registry (see `stateDir`),
   * so later commands go straight to it; `request` re-probes when the remembered one fails.
   */
  baseUrl(): Promise<string> {
    this.base ??= this.findBase();
    return this.base;
  }

  private async findBase(): Promise<string> {
    const httpsBase = `https://${this.apiHost}`;
    if (!this.insecure) return httpsBase;
    const remembered = this.schemePath ? await readScheme(this.schemePath) : undefined;
    if (remembered && !this.reprobed) {
      this.baseRemembered = true;
      return `${remembered}://${this.apiHost}`;
    }
    const scheme = await this.probe();
    if (this.schemePath && scheme !== remembered) {
      const path = this.schemePath;
      // only a hint: a failed write means a probe next time
      await atomicWriteFile(path, JSON.stringify({ scheme }), { fsync: false }).catch(() => {});
    }
    return `${scheme}://${this.apiHost}`;
  }

  private reprobed = false;

  /** The remembered scheme did not work: forget it and probe (once per client). */
  private reprobe(): void {
    if (!this.baseRemembered) return; // another request already did
    this.baseRemembered = false;
    this.reprobed = true;
    const path = this.schemePath;
    const forgot = path ? rm(path, { force: true }).catch(() => {}) : Promise.resolve();
    this.base = forgot.then(() => this.findBase());
    this.base.catch(() => {}); // the requests waiting on it get the error
  }

  private async probe(): Promise<Scheme> {
    const httpsBase = `https://${this.apiHost}`;
    try {
      const res = await this.raw("GET", new URL(`${httpsBase}/v2/`), {}, undefined, 1);
      res.body.resume();
      this.noteChallenge(res);
      return "https";
    } catch {
      const httpBase = `http://${this.apiHost}`;
      const attempts = Math.max(1, this.opts.retries ?? 4);
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await this.raw("GET", new URL(`${httpBase}/v2/`), {}, undefined, 1);
          res.body.resume();
          this.noteChallenge(res);
          return "http";
        } catch (err) {
          if (attempt < attempts && isNetworkError(err)) {
            await backoff(attempt);
            continue;
          }
          this.base = undefined;
          throw networkError(err, `cannot reach registry ${this.registry}`);
        }
      }
    }
  }

  private noteChallenge(res: HttpResponse): void {
    if (res.status !== 401) return;
    const ch = parseChallenges(res.headers["www-authenticate"]);
    const pick = ch.find((c) => c.scheme === "bearer") ?? ch.find((c) => c.scheme === "basic");
    if (pick) this.challenge = pick;
  }

  /** One HTTP exchange, no auth or retries. */
  private raw(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    attempts = 0,
  ): Promise<HttpResponse> {
    void attempts;
    if (url.protocol === "https:")
      return loadHttps().then(([https, tls]) => {
        this.httpsAgent ??= new https.Agent({
          keepAlive: true,
          maxSockets: 16,
          rejectUnauthorized: !this.relaxedTls,
          ca: this.relaxedTls ? undefined : trustedCa(tls.rootCertificates),
        });
        return this.exchange(https, this.httpsAgent, method, url, headers, body);
      });
    return this.exchange(http, this.httpAgent, method, url, headers, body);
  }

  private exchange(
    mod: { request: typeof http.request },
    agent: http.Agent,
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
  ): Promise<HttpResponse> {
    const started = TIMING ? performance.now() : 0;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = mod.request(url, {
        method,
        headers: { "User-Agent": VERSION_STRING, ...headers },
        agent,
        timeout: this.opts.timeoutMs ?? 120_000,
      });
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
      );
      req.on("error", reject);
      req.on("response", (res) => {
        if (TIMING) timingLine(started, `${res.statusCode} ${method} ${url.pathname}${url.search}`);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on("error", (e) => req.destroy(e));
        body.pipe(req);
      }
    });
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    if (ch.scheme === "basic") {
      if (!creds) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    if (ch.scheme !== "bearer") return undefined;
    const key = [...scopes].sort().join(" ");
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    // Requests in parallel (a push's blobs) share one token request per scope set.
    let fetching = this.tokenFetches.get(key);
    if (!fetching) {
      fetching = this.fetchToken(ch, scopes, creds);
      this.tokenFetches.set(key, fetching);
      fetching.then(
        (t) => {
          this.tokens.set(key, t);
          this.tokenFetches.delete(key);
        },
        () => this.tokenFetches.delete(key),
      );
    }
    const { token } = await fetching;
    return `Bearer ${token}`;
  }

  private fetchToken(
    ch: Challenge,
    scopes: string[],
    creds: Credentials | undefined,
  ): Promise<{ token: string; expires: number }> {
    return requestBearerToken(
      { challenge: ch, scopes, credentials: creds, service: this.registry },
      async (u, headers) => {
        let res: HttpResponse;
        try {
          res = await this.raw("GET", u, headers, undefined);
        } catch (err) {
          throw networkError(err, `token endpoint ${u.origin}${u.pathname}`);
        }
        return { status: res.status, text: await readText(res.body) };
      },
    );
  }

  private async errorFor(res: HttpResponse, spec: RequestSpec): Promise<DockyardError> {
    let text = "";
    try {
      // a HEAD answer has no body, but it must still be drained or its socket stays busy (and
      // keeps the process alive until the server's idle timeout)
      if (spec.method === "HEAD") res.body.resume();
      text = spec.method === "HEAD" ? "" : await readText(res.body, 64 << 10);
    } catch {
      // ignore: the status is enough
    }
    let code: ErrorCode | undefined;
    let message = "";
    try {
      const doc = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
      const e = doc.errors?.[0];
      if (e?.code) code = OCI_CODE[e.code];
      if (e) message = `${e.code ?? ""}${e.message ? `: ${e.message}` : ""}`;
    } catch {
      message = text.slice(0, 200).trim();
    }
    const where = `${spec.method} ${this.registry}${spec.path.startsWith("/") ? spec.path : ""}`;
    if (res.status === 401) {
      return new DockyardError(
        "UNAUTHORIZED",
        `${where}: authentication required (${message || "401"}); run 'dockyard login ${this.registry}'`,
      );
    }
    if (res.status === 403)
      return new DockyardError("DENIED", `${where}: access denied (${message || "403"})`);
    if (!code) {
      if (res.status === 404) code = spec.path.includes("/manifests/") ? "MANIFEST_UNKNOWN" : "NOT_FOUND";
      else if (res.status >= 500 || res.status === 429) code = "NETWORK";
      else code = "INTERNAL";
    }
    return new DockyardError(code, `${where}: ${res.status}${message ? ` ${message}` : ""}`);
  }

  /** A request with auth (once, on 401) and retries (idempotent or replayable bodies only). */
  async request(spec: RequestSpec): Promise<HttpResponse> {
    const replayable = spec.body === undefined || Buffer.isBuffer(spec.body);
    const attempts = replayable ? Math.max(1, this.opts.retries ?? 4) : 1;
    let authTried = false;
    for (let attempt = 1; ; attempt++) {
      const base = await this.baseUrl();
      const remembered = this.baseRemembered;
      let url = new URL(spec.path, base);
      const headers: Record<string, string> = { ...spec.headers };
      const auth = await this.authorization(spec.scopes);
      if (auth) headers.Authorization = auth;
      let res: HttpResponse;
      try {
        res = await this.raw(spec.method, url, headers, spec.body);
        for (
          let hops = 0;
          spec.follow && [301, 302, 303, 307, 308].includes(res.status) && hops < 5;
          hops++
        ) {
          res.body.resume();
          const next = new URL(String(res.headers.location), url);
          const h = { ...headers };
          if (next.host !== url.host) delete h.Authorization;
          url = next;
          res = await this.raw(spec.method, url, h, undefined);
        }
      } catch (err) {
        if (remembered && replayable && !(err instanceof DockyardError)) {
          // The remembered scheme may be wrong now (the registry turned TLS on or off): probe.
          this.reprobe();
          attempt--;
          continue;
        }
        if (attempt < attempts && isNetworkError(err)) {
          await backoff(attempt);
          continue;
        }
        throw networkError(err, `${spec.method} ${url.host}${url.pathname}`);
      }
      if (
        remembered &&
        replayable &&
        res.status === 400 &&
        url.protocol === "http:" &&
        !String(res.headers["content-type"] ?? "").includes("json")
      ) {
        // "Client sent an HTTP request to an HTTPS server" (Go's TLS servers; registry errors
        // are JSON): the remembered scheme is wrong now, probe again.
        res.body.resume();
        this.reprobe();
        attempt--;
        continue;
      }
      if (res.status === 401 && !authTried && replayable) {
        authTried = true;
        const before = this.challenge;
        this.noteChallenge(res);
        res.body.resume();
        const ch = this.challenge;
        if (ch && (ch !== before || ch.scheme === "bearer")) {
          // A new challenge, or our token lacked the scope: forget the token we sent and retry
          // (not one a parallel request fetched meanwhile, for a request sent without one).
          const key = [...spec.scopes].sort().join(" ");
          const cached = this.tokens.get(key);
          if (cached && auth === `Bearer ${cached.token}`) this.tokens.delete(key);
          if (ch.scheme === "bearer" && ch.params.scope && !spec.scopes.includes(ch.params.scope))
            spec = { ...spec, scopes: [...spec.scopes, ch.params.scope] };
          attempt--;
          continue;
        }
        return Promise.reject(await this.errorFor(res, spec));
      }
      if ((res.status === 429 || res.status >= 500) && attempt < attempts && !spec.ok.includes(res.status)) {
        res.body.resume();
        await backoff(attempt, res.headers["retry-after"]);
        continue;
      }
      if (!spec.ok.includes(res.status)) throw await this.errorFor(res, spec);
      return res;
    }
  }

  /** Checks the registry answers and accepts the credentials (`dockyard login`). */
  async ping(): Promise<void> {
    const res = await this.request({ method: "GET", path: "/v2/", scopes: [], ok: [200] });
    res.body.resume();
  }

  repository(name: string, opts: { push?: boolean } = {}): RegistryRepository {
    return new RegistryRepository(this, name, opts.push === true);
  }
}

async function backoff(attempt: number, retryAfter?: string | string[]): Promise<void> {
  const ra = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  const ms = Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 30_000) : 200 * 2 ** (attempt - 1);
  await new Promise((r) => setTimeout(r, ms * (0.75 + Math.random() * 0.5)));
}

const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");
const MAX_MANIFEST = 4 << 20;

/** One repository of a registry, as an ImageSource and ImageTarget (`docker://host/name`). */
export class RegistryRepository implements ImageSource, ImageTarget {
  readonly description: string;
  readonly origin: BlobOrigin;
  readonly acceptsIndex = true;
  private readonly scopes: string[];
  private readonly pendingUploads = new Map<string, string>();
  /** Cancels of upload sessions no longer needed: off the blob's path, awaited by writeManifest. */
  private readonly cancels = new Set<Promise<void>>();
  /** Source repositories the registry refused a mount from (401/403/404…): not asked again. */
  private readonly refusedMounts = new Set<string>();

  constructor(
    readonly client: RegistryClient,
    readonly name: string,
    push: boolean,
  ) {
    this.description = `docker://${client.registry}/${name}`;
    this.origin = { registry: client.registry, repository: name };
    this.scopes = [`repository:${name}:${push ? "pull,push" : "pull"}`];
  }

  private path(rest: string): string {
    return `/v2/${this.name}/${rest}`;
  }

  async resolve(ref = "latest"): Promise<Descriptor> {
    const r = ref.startsWith("@") ? ref.slice(1) : ref;
    const res = await this.client.request({
      method: "HEAD",
      path: this.path(`manifests/${r}`),
      headers: { Accept: ACCEPT },
      scopes: this.scopes,
      ok: [200, 404],
    });
    res.body.resume();
    if (res.status === 404)
      throw new DockyardError(
        "MANIFEST_UNKNOWN",
        `${this.description}: no manifest ${r} (404 from the registry)`,
      );
    const digest = res.headers["docker-content-digest"];
    const type = res.headers["content-type"]?.split(";")[0]?.trim();
    const size = Number(res.headers["content-length"]);
    if (
      typeof digest === "string" &&
      type &&
      MANIFEST_MEDIA_TYPES.includes(type) &&
      Number.isSafeInteger(size)
    ) {
      parseDigest(digest);
      if (r.includes(":") && r !== digest)
        throw new DockyardError("DIGEST_INVALID", `${this.description} answered ${digest} for ${r}`);
      return { mediaType: type, digest: digest as Digest, size };
    }
    // Registries that do not say the digest on HEAD: fetch and hash.
    const get = await this.client.request({
      method: "GET",
      path: this.path(`manifests/${r}`),
      headers: { Accept: ACCEPT },
      scopes: this.scopes,
      ok: [200],
    });
    const bytes = await readBytes(get.body, MAX_MANIFEST);
    const { mediaType } = parseManifest(bytes, get.headers["content-type"]);
    return { mediaType, digest: digestOf(bytes), size: bytes.length };
  }

  async fetchManifest(desc: Descriptor): Promise<Uint8Array> {
    const res = await this.client.request({
      method: "GET",
      path: this.path(`manifests/${desc.digest}`),
      headers: { Accept: ACCEPT },
      scopes: this.scopes,
      ok: [200],
    });
    const bytes = await readBytes(res.body, MAX_MANIFEST);
    const actual = digestOf(bytes, parseDigest(desc.digest).algorithm);
    if (actual !== desc.digest)
      throw new DockyardError(
        "DIGEST_INVALID",
        `${this.description} sent manifest ${actual} for ${desc.digest}`,
      );
    return bytes;
  }

  async openBlob(desc: Descriptor): Promise<Readable> {
    const res = await this.client.request({
      method: "GET",
      path: this.path(`blobs/${desc.digest}`),
      scopes: this.scopes,
      ok: [200],
      follow: true,
    });
    const body = res.body;
    // Surface socket errors as NETWORK so copy can retry them.
    body.on("aborted", () =>
      body.destroy(new DockyardError("NETWORK", `download of ${desc.digest} was cut`)),
    );
    return body;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const res = await this.client.request({
      method: "HEAD",
      path: this.path(`blobs/${desc.digest}`),
      scopes: this.scopes,
      ok: [200, 404],
      follow: true,
    });
    res.body.resume();
    const pending = this.pendingUploads.get(desc.digest);
    if (res.status === 200 && pending) {
      // a mount attempt opened an upload session that is not needed now
      this.pendingUploads.delete(desc.digest);
      this.cancelLater(pending);
    }
    return res.status === 200;
  }

  /**
   * Cross-repository mount (`POST …/blobs/uploads/?mount=&from=`): one request, no bytes. True
   * when mounted (201, also when this repository already had it). When the registry opens an
   * upload session instead (202: it does not have the blob there, or will not mount), the
   * session is kept for `writeBlob`; a refusal (401/403/404…) just means false: upload instead.
   */
  async mountBlob(desc: Descriptor, from: BlobOrigin): Promise<boolean> {
    if (from.registry !== this.client.registry) return false;
    if (this.refusedMounts.has(from.repository)) return false;
    let res: HttpResponse;
    try {
      res = await this.client.request({
        method: "POST",
        path: this.path(
          `blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from.repository)}`,
        ),
        headers: { "Content-Length": "0" },
        scopes: [...this.scopes, `repository:${from.repository}:pull`],
        ok: [201, 202],
      });
    } catch (err) {
      if (isNetworkError(err)) throw err;
      // e.g. no pull access to `from`: the upload will tell if push is refused too; and other
      // blobs are not tried from there again
      this.refusedMounts.add(from.repository);
      return false;
    }
    res.body.resume();
    if (res.status === 201) {
      // mounted: a session an earlier candidate's 202 opened is of no further use
      const earlier = this.pendingUploads.get(desc.digest);
      this.pendingUploads.delete(desc.digest);
      if (earlier) this.cancelLater(earlier);
      return true;
    }
    // Not mounted: the registry opened an upload session instead; use it for the upload (and
    // cancel one an earlier attempt opened).
    const loc = res.headers.location;
    const earlier = this.pendingUploads.get(desc.digest);
    if (loc) this.pendingUploads.set(desc.digest, String(loc));
    if (earlier && loc) this.cancelLater(earlier);
    return false;
  }

  private cancelLater(location: string): void {
    const p: Promise<void> = this.cancelUpload(location).finally(() => this.cancels.delete(p));
    this.cancels.add(p);
  }

  /** Best effort: an abandoned upload session would otherwise wait for the registry's purge. */
  private async cancelUpload(location: string): Promise<void> {
    try {
      const res = await this.client.request({
        method: "DELETE",
        path: location,
        scopes: this.scopes,
        ok: [204, 200, 202, 404],
      });
      res.body.resume();
    } catch {
      // ignore
    }
  }

  private async startUpload(): Promise<string> {
    const res = await this.client.request({
      method: "POST",
      path: this.path("blobs/uploads/"),
      headers: { "Content-Length": "0" },
      scopes: this.scopes,
      ok: [202],
    });
    res.body.resume();
    const loc = res.headers.location;
    if (!loc) throw new DockyardError("NETWORK", `${this.description}: upload started without a Location`);
    return String(loc);
  }

  async writeBlob(desc: Descriptor, data: Readable): Promise<void> {
    let location = this.pendingUploads.get(desc.digest) ?? (await this.startUpload());
    this.pendingUploads.delete(desc.digest);
    const withDigest = (loc: string) =>
      `${loc}${loc.includes("?") ? "&" : "?"}digest=${encodeURIComponent(desc.digest)}`;
    if (this.client.uploadMode === "monolithic") {
      const res = await this.client.request({
        method: "PUT",
        path: withDigest(location),
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(desc.size) },
        body: data,
        scopes: this.scopes,
        ok: [201, 204],
      });
      res.body.resume();
      return;
    }
    // Chunked: PATCH each chunk with its range, then PUT the digest.
    let offset = 0;
    const send = async (chunk: Buffer) => {
      const res = await this.client.request({
        method: "PATCH",
        path: location,
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(chunk.length),
          "Content-Range": `${offset}-${offset + chunk.length - 1}`,
        },
        body: chunk,
        scopes: this.scopes,
        ok: [202, 204],
      });
      res.body.resume();
      offset += chunk.length;
      if (res.headers.location) location = String(res.headers.location);
    };
    let pending: Buffer[] = [];
    let pendingSize = 0;
    for await (const c of data) {
      pending.push(c as Buffer);
      pendingSize += (c as Buffer).length;
      while (pendingSize >= this.client.chunkSize) {
        const all = Buffer.concat(pending);
        await send(all.subarray(0, this.client.chunkSize));
        const rest = all.subarray(this.client.chunkSize);
        pending = rest.length ? [rest] : [];
        pendingSize = rest.length;
      }
    }
    if (pendingSize > 0 || offset === 0) await send(Buffer.concat(pending));
    if (offset !== desc.size)
      throw new DockyardError(
        "SIZE_INVALID",
        `blob ${desc.digest}: read ${offset} bytes, declared ${desc.size}`,
      );
    const res = await this.client.request({
      method: "PUT",
      path: withDigest(location),
      headers: { "Content-Length": "0" },
      body: Buffer.alloc(0),
      scopes: this.scopes,
      ok: [201, 204],
    });
    res.body.resume();
  }

  async writeManifest(
    ref: string | undefined,
    bytes: Uint8Array,
    mediaType: string,
    _opts?: WriteManifestOptions,
  ): Promise<Descriptor> {
    const digest = digestOf(bytes);
    const cancelled = Promise.all([...this.cancels]); // sessions of this push: gone when it ends
    const res = await this.client.request({
      method: "PUT",
      path: this.path(`manifests/${ref ?? digest}`),
      headers: { "Content-Type": mediaType, "Content-Length": String(bytes.length) },
      body: Buffer.from(bytes),
      scopes: this.scopes,
      ok: [201, 200, 202],
    });
    res.body.resume();
    const said = res.headers["docker-content-digest"];
    if (typeof said === "string" && said !== digest)
      throw new DockyardError(
        "DIGEST_INVALID",
        `${this.description} stored manifest as ${said}, sent ${digest}`,
      );
    await cancelled;
    return { mediaType, digest, size: bytes.length };
  }

  /** Every tag of the repository (following Link pagination). */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = this.path("tags/list?n=1000");
    while (next) {
      const res = await this.client.request({ method: "GET", path: next, scopes: this.scopes, ok: [200] });
      const doc = JSON.parse(await readText(res.body, 32 << 20)) as { tags?: string[] | null };
      tags.push(...(doc.tags ?? []));
      const link = res.headers.link;
      const m = typeof link === "string" ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      next = m ? m[1] : undefined;
    }
    return tags;
  }

  async deleteManifest(digest: Digest): Promise<void> {
    const res = await this.client.request({
      method: "DELETE",
      path: this.path(`manifests/${digest}`),
      scopes: [`repository:${this.name}:delete`, ...this.scopes],
      ok: [202, 200],
    });
    res.body.resume();
  }

  async close(): Promise<void> {}
}

const clients = new Map<string, RegistryClient>();

/** A shared client per registry (and options), so connections and tokens are reused. */
export function registryClient(registry: string, opts: RegistryClientOptions = {}): RegistryClient {
  const key = `${registry}|${opts.insecure ? 1 : 0}|${opts.uploadMode ?? ""}|${opts.credentials ? opts.credentials.username : ""}`;
  let c = clients.get(key);
  if (!c) {
    c = new RegistryClient(registry, opts);
    clients.set(key, c);
  }
  return c;
}

/** Closes every shared client's sockets (at the end of a command). */
export function closeRegistryClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}
