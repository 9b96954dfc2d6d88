import http from "node:http";
import https from "node:https";
import { lookupCredentials } from "../../image/transports/auth.js";
import { DockyardError } from "../../image/errors.js";
import { digestOf, type Digest } from "../../image/digest.js";
import { MediaType, MANIFEST_MEDIA_TYPES } from "../../image/media-types.js";
import {
  COSIGN_ARTIFACT_TYPE,
  COSIGN_SIGNATURE_ANNOTATION,
  signatureLayers,
  signatureTag,
  type CosignSignature,
  type Descriptor,
  type SignatureManifest,
} from "./cosign.js";
import type { SignatureSource } from "./verify.js";

/**
 * The small registry client the signature code needs: manifests, small blobs, referrers and the
 * signatures API extension, with Basic and Bearer-token auth. Plain HTTP is used for loopback
 * hosts and when `insecure` is set; HTTPS otherwise.
 */
export interface RegistryClientOptions {
  insecure?: boolean;
  username?: string;
  password?: string;
  userAgent?: string;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
}

const ACCEPT = [...MANIFEST_MEDIA_TYPES].join(", ");

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, "");
  return h === "localhost" || h.startsWith("127.") || h === "[::1]";
}

/** DOCKYARD_REGISTRY_AUTH (user:password), then docker's config.json (`dockyard login`). */
async function dockerConfigAuth(host: string): Promise<{ username: string; password: string } | undefined> {
  const env = process.env.DOCKYARD_REGISTRY_AUTH;
  if (env && env.includes(":")) {
    const i = env.indexOf(":");
    return { username: env.slice(0, i), password: env.slice(i + 1) };
  }
  const c = await lookupCredentials(host);
  return c ? { username: c.username, password: c.password } : undefined;
}

/** The part of a fetch Response the client uses; served by node:http (no undici start-up cost). */
export interface MiniResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });

function httpFetch(
  url: string | URL,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
  redirects = 5,
): Promise<MiniResponse> {
  const u = typeof url === "string" ? new URL(url) : url;
  const mod = u.protocol === "https:" ? https : http;
  return new Promise<MiniResponse>((resolve, reject) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.body) headers["Content-Length"] = String(init.body.length);
    const req = mod.request(
      u,
      { method: init.method ?? "GET", headers, agent: u.protocol === "https:" ? httpsAgent : httpAgent },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        const method = init.method ?? "GET";
        if (
          [301, 302, 303, 307, 308].includes(status) &&
          location &&
          redirects > 0 &&
          (method === "GET" || method === "HEAD")
        ) {
          res.resume();
          const next = new URL(location, u);
          const h = { ...headers };
          if (next.host !== u.host) delete h.Authorization;
          delete h["Content-Length"];
          resolve(httpFetch(next, { method, headers: h }, redirects - 1));
          return;
        }
        const chunks: Buffer[] = [];
        let body: Promise<Buffer> | undefined;
        const read = () =>
          (body ??= new Promise<Buffer>((ok, bad) => {
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => ok(Buffer.concat(chunks)));
            res.on("error", bad);
          }));
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: {
            get: (name) => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
            },
          },
          arrayBuffer: async () => {
            const b = await read();
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          },
          text: async () => (await read()).toString("utf8"),
          json: async () => JSON.parse((await read()).toString("utf8")) as unknown,
        });
      },
    );
    req.on("error", reject);
    req.end(init.body ? Buffer.from(init.body) : undefined);
  });
}

export class SignatureRegistryClient {
  readonly host: string;
  private readonly base: string;
  private readonly opts: RegistryClientOptions;
  private readonly tokens = new Map<string, string>();
  private creds?: { username: string; password: string } | null;

  constructor(host: string, opts: RegistryClientOptions = {}) {
    this.host = host;
    this.opts = opts;
    const scheme = opts.insecure || isLoopback(host) ? "http" : "https";
    this.base = `${scheme}://${host}`;
  }

  private async credentials(): Promise<{ username: string; password: string } | undefined> {
    if (this.creds === undefined) {
      if (this.opts.username !== undefined)
        this.creds = { username: this.opts.username, password: this.opts.password ?? "" };
      else this.creds = (await dockerConfigAuth(this.host)) ?? null;
    }
    return this.creds ?? undefined;
  }

  private async token(challenge: string, scope: string): Promise<string> {
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm)
      throw new DockyardError("UNAUTHORIZED", `${this.host}: bearer challenge without realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    const c = await this.credentials();
    if (c) headers.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
    const res = await httpFetch(url, { headers });
    if (!res.ok)
      throw new DockyardError("UNAUTHORIZED", `${this.host}: token server refused (${res.status})`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const t = body.token ?? body.access_token;
    if (!t) throw new DockyardError("UNAUTHORIZED", `${this.host}: token server returned no token`);
    return t;
  }

  /** One request with auth retried once on 401. */
  async request(
    method: string,
    path: string,
    opts: { repo?: string; push?: boolean; headers?: Record<string, string>; body?: Uint8Array } = {},
  ): Promise<MiniResponse> {
    const scope = opts.repo
      ? `repository:${opts.repo}:${opts.push ? "pull,push" : "pull"}`
      : "registry:catalog:*";
    const send = (auth?: string) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (auth) headers.Authorization = auth;
      if (this.opts.userAgent) headers["User-Agent"] = this.opts.userAgent;
      return httpFetch(`${this.base}${path}`, { method, headers, ...(opts.body ? { body: opts.body } : {}) });
    };
    let res: MiniResponse;
    try {
      const cached = this.tokens.get(scope);
      res = await send(cached ? `Bearer ${cached}` : undefined);
      if (res.status === 401) {
        const challenge = res.headers.get("www-authenticate") ?? "";
        await res.arrayBuffer().catch(() => undefined);
        if (/^bearer/i.test(challenge)) {
          const t = await this.token(challenge, scope);
          this.tokens.set(scope, t);
          res = await send(`Bearer ${t}`);
        } else {
          const c = await this.credentials();
          if (!c)
            throw new DockyardError(
              "UNAUTHORIZED",
              `${this.host} needs credentials: run 'dockyard login ${this.host}'`,
            );
          res = await send(`Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`);
        }
      }
    } catch (err) {
      if (err instanceof DockyardError) throw err;
      throw new DockyardError("NETWORK", `${method} ${this.base}${path}: ${(err as Error).message}`);
    }
    if (res.status === 401) {
      await res.arrayBuffer().catch(() => undefined);
      throw new DockyardError("UNAUTHORIZED", `${this.host}: authentication refused for ${path}`);
    }
    if (res.status === 403) {
      const text = await res.text().catch(() => "");
      throw new DockyardError("DENIED", `${this.host}: access denied for ${path}${errorText(text)}`);
    }
    return res;
  }

  async supportsSignatureExtension(): Promise<boolean> {
    const res = await this.request("GET", "/v2/");
    await res.arrayBuffer().catch(() => undefined);
    return res.headers.get("x-registry-supports-signatures") === "1";
  }

  async getManifest(repo: string, reference: string): Promise<FetchedManifest | undefined> {
    const res = await this.request("GET", `/v2/${repo}/manifests/${reference}`, {
      repo,
      headers: { Accept: ACCEPT },
    });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) throw await httpError(res, `GET manifest ${repo}:${reference}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = digestOf(bytes);
    if (reference.includes(":") && reference !== digest) {
      throw new DockyardError(
        "DIGEST_INVALID",
        `${this.host}/${repo}@${reference}: the registry served content with digest ${digest}`,
      );
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim() || guessMediaType(bytes);
    return { bytes, digest, mediaType };
  }

  async putManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
    const res = await this.request("PUT", `/v2/${repo}/manifests/${reference}`, {
      repo,
      push: true,
      headers: { "Content-Type": mediaType },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200)
      throw await httpError(res, `PUT manifest ${repo}:${reference}`);
    await res.arrayBuffer().catch(() => undefined);
    return digestOf(bytes);
  }

  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repo}/blobs/${digest}`, { repo });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok;
  }

  async getBlob(repo: string, digest: Digest, limit = 4 * 1024 * 1024): Promise<Uint8Array | undefined> {
    const res = await this.request("GET", `/v2/${repo}/blobs/${digest}`, { repo });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) throw await httpError(res, `GET blob ${digest}`);
    const len = Number(res.headers.get("content-length") ?? "0");
    if (len > limit)
      throw new DockyardError("SIZE_INVALID", `blob ${digest} is ${len} bytes; signature payloads are small`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (digestOf(bytes) !== digest)
      throw new DockyardError("DIGEST_INVALID", `blob ${digest} from ${this.host} does not match its digest`);
    return bytes;
  }

  /** Monolithic upload of a small blob (signature payloads and configs). */
  async putBlob(repo: string, digest: Digest, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(repo, digest)) return;
    const start = await this.request("POST", `/v2/${repo}/blobs/uploads/`, { repo, push: true });
    if (start.status !== 202) throw await httpError(start, `start upload to ${repo}`);
    await start.arrayBuffer().catch(() => undefined);
    const loc = start.headers.get("location");
    if (!loc) throw new DockyardError("NETWORK", `${this.host}: upload started without a Location`);
    const url = new URL(loc, this.base);
    url.searchParams.set("digest", digest);
    const res = await this.request("PUT", url.pathname + url.search, {
      repo,
      push: true,
      headers: { "Content-Type": "application/octet-stream" },
      body: bytes,
    });
    if (res.status !== 201) throw await httpError(res, `upload blob ${digest}`);
    await res.arrayBuffer().catch(() => undefined);
  }

  async pushSignatureManifest(repo: string, m: SignatureManifest, tag?: string): Promise<Digest> {
    for (const [d, b] of m.blobs) await this.putBlob(repo, d, b);
    return await this.putManifest(repo, tag ?? m.digest, m.bytes, m.mediaType);
  }

  /** OCI 1.1 referrers of `digest` (undefined when the registry has no referrers API). */
  async referrers(repo: string, digest: Digest, artifactType?: string): Promise<Descriptor[] | undefined> {
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    const res = await this.request("GET", `/v2/${repo}/referrers/${digest}${q}`, {
      repo,
      headers: { Accept: MediaType.ociIndex },
    });
    if (res.status === 404 || res.status === 405 || res.status === 400) {
      await res.arrayBuffer().catch(() => undefined);
      return undefined;
    }
    if (!res.ok) throw await httpError(res, `GET referrers of ${digest}`);
    const idx = (await res.json()) as { manifests?: Descriptor[] };
    const list = Array.isArray(idx.manifests) ? idx.manifests : [];
    return artifactType ? list.filter((d) => d.artifactType === artifactType) : list;
  }

  async getSimpleSignatures(repo: string, digest: Digest): Promise<{ name: string; content: Uint8Array }[]> {
    const res = await this.request("GET", `/extensions/v2/${repo}/signatures/${digest}`, { repo });
    if (res.status === 404) {
      await res.arrayBuffer().catch(() => undefined);
      return [];
    }
    if (!res.ok) throw await httpError(res, `GET signatures of ${digest}`);
    const doc = (await res.json()) as {
      signatures?: { schemaVersion?: number; type?: string; name?: string; content?: string }[];
    };
    return (doc.signatures ?? [])
      .filter((s) => s.schemaVersion === 2 && s.type === "atomic" && typeof s.content === "string")
      .map((s) => ({ name: s.name ?? "", content: Buffer.from(s.content!, "base64") }));
  }

  async putSimpleSignature(repo: string, digest: Digest, content: Uint8Array, name?: string): Promise<void> {
    const existing = await this.getSimpleSignatures(repo, digest);
    if (existing.some((s) => Buffer.compare(Buffer.from(s.content), Buffer.from(content)) === 0)) return;
    const body = JSON.stringify({
      schemaVersion: 2,
      name: name ?? `${digest}@${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex")}`,
      type: "atomic",
      content: Buffer.from(content).toString("base64"),
    });
    const res = await this.request("PUT", `/extensions/v2/${repo}/signatures/${digest}`, {
      repo,
      push: true,
      headers: { "Content-Type": "application/json" },
      body: Buffer.from(body),
    });
    if (res.status !== 201) throw await httpError(res, `PUT signature of ${digest}`);
    await res.arrayBuffer().catch(() => undefined);
  }

  /** cosign signatures of `digest`: the `.sig` tag's manifest and cosign referrers. */
  async cosignSignatures(
    repo: string,
    digest: Digest,
  ): Promise<{ manifest: Digest; signatures: CosignSignature[] }[]> {
    const manifests: FetchedManifest[] = [];
    const tagged = await this.getManifest(repo, signatureTag(digest));
    if (tagged) manifests.push(tagged);
    const refs = await this.referrers(repo, digest, COSIGN_ARTIFACT_TYPE);
    for (const r of refs ?? []) {
      if (tagged && r.digest === tagged.digest) continue;
      const m = await this.getManifest(repo, r.digest);
      if (m) manifests.push(m);
    }
    const out: { manifest: Digest; signatures: CosignSignature[] }[] = [];
    for (const m of manifests) {
      const sigs: CosignSignature[] = [];
      for (const layer of signatureLayers(m.bytes)) {
        const payload = await this.getBlob(repo, layer.descriptor.digest);
        if (!payload) continue;
        const { [COSIGN_SIGNATURE_ANNOTATION]: _s, ...rest } = layer.annotations;
        sigs.push({ payload, signature: layer.signature, annotations: rest });
      }
      out.push({ manifest: m.digest, signatures: sigs });
    }
    return out;
  }

  source(repo: string): SignatureSource {
    return {
      simpleSignatures: async (digest) => {
        if (!(await this.supportsSignatureExtensionCached())) return [];
        return (await this.getSimpleSignatures(repo, digest)).map((s) => s.content);
      },
      cosignSignatures: async (digest) =>
        (await this.cosignSignatures(repo, digest)).flatMap((m) => m.signatures),
    };
  }

  private extSupport?: Promise<boolean>;
  supportsSignatureExtensionCached(): Promise<boolean> {
    this.extSupport ??= this.supportsSignatureExtension();
    return this.extSupport;
  }
}

function guessMediaType(bytes: Uint8Array): string {
  try {
    const d = JSON.parse(Buffer.from(bytes).toString("utf8")) as { mediaType?: string; manifests?: unknown };
    if (d.mediaType) return d.mediaType;
    return d.manifests ? MediaType.ociIndex : MediaType.ociManifest;
  } catch {
    return MediaType.ociManifest;
  }
}

function errorText(body: string): string {
  try {
    const d = JSON.parse(body) as { errors?: { message?: string }[] };
    const m = d.errors
      ?.map((e) => e.message)
      .filter(Boolean)
      .join("; ");
    return m ? `: ${m}` : "";
  } catch {
    return body ? `: ${body.slice(0, 200)}` : "";
  }
}

async function httpError(res: MiniResponse, what: string): Promise<DockyardError> {
  const text = await res.text().catch(() => "");
  const code = res.status === 404 ? "NOT_FOUND" : res.status === 400 ? "MANIFEST_INVALID" : "NETWORK";
  return new DockyardError(code, `${what}: HTTP ${res.status}${errorText(text)}`);
}
