import type { Credentials } from "../../image/transports/auth.js";
import { registryClient, type HttpResponse, type RegistryClient } from "../../image/transports/registry.js";
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
 * What the signature code needs of a registry: manifests, small blobs, referrers and the
 * signatures API extension. HTTP, auth, retries and the HTTPS-or-plain-HTTP choice are the image
 * transport's (src/image/transports/registry.ts), so there is one registry client in dockyard.
 */
export interface RegistryClientOptions {
  insecure?: boolean;
  username?: string;
  password?: string;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  digest: Digest;
  mediaType: string;
}

const ACCEPT = [...MANIFEST_MEDIA_TYPES].join(", ");

/** DOCKYARD_REGISTRY_AUTH (user:password) wins; otherwise the transport reads docker's config.json. */
function credentialsFor(opts: RegistryClientOptions): Credentials | undefined {
  if (opts.username !== undefined) return { username: opts.username, password: opts.password ?? "" };
  const env = process.env.DOCKYARD_REGISTRY_AUTH;
  if (env && env.includes(":")) {
    const i = env.indexOf(":");
    return { username: env.slice(0, i), password: env.slice(i + 1) };
  }
  return undefined;
}

/** The part of a fetch Response the signature code reads, over the transport's node:http client. */
export interface MiniResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * The statuses the signature code interprets itself. 401/403 stay the transport's errors (with its
 * `dockyard login` hint), and 429/5xx its retries.
 */
const ANY_STATUS = Array.from({ length: 300 }, (_, i) => 200 + i).filter(
  (s) => s !== 401 && s !== 403 && s !== 429,
);

function miniResponse(res: HttpResponse): MiniResponse {
  let body: Promise<Buffer> | undefined;
  const read = () =>
    (body ??= (async () => {
      const chunks: Buffer[] = [];
      for await (const c of res.body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    })());
  return {
    status: res.status,
    ok: res.status >= 200 && res.status < 300,
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
  };
}

export class SignatureRegistryClient {
  readonly host: string;
  private readonly client: RegistryClient;

  constructor(host: string, opts: RegistryClientOptions = {}) {
    this.host = host;
    // The image transport's shared client: same connections, tokens and HTTPS/HTTP probing as the pull.
    const credentials = credentialsFor(opts);
    this.client = registryClient(host, { insecure: opts.insecure, ...(credentials ? { credentials } : {}) });
  }

  /** One request with the transport's auth (Bearer or Basic, retried on 401) and retries. */
  async request(
    method: string,
    path: string,
    opts: { repo?: string; push?: boolean; headers?: Record<string, string>; body?: Uint8Array } = {},
  ): Promise<MiniResponse> {
    const scope = opts.repo ? `repository:${opts.repo}:${opts.push ? "pull,push" : "pull"}` : undefined;
    const res = await this.client.request({
      method,
      path,
      headers: opts.headers,
      body: opts.body ? Buffer.from(opts.body) : undefined,
      scopes: scope ? [scope] : [],
      ok: ANY_STATUS,
      follow: method === "GET" || method === "HEAD",
    });
    return miniResponse(res);
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
    const absolute = /^https?:\/\//i.test(loc);
    const url = new URL(loc, `http://${this.host}`);
    url.searchParams.set("digest", digest);
    const res = await this.request("PUT", absolute ? url.href : url.pathname + url.search, {
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
