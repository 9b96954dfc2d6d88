import type { IncomingMessage, ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { DockyardError } from "../../image/errors.js";
import { isDigest, parseDigest, type Digest } from "../../image/digest.js";
import { isValidRepositoryName, parseReference } from "../../image/reference.js";
import { evaluateRule, requirementFor, type KindVerifier, type PolicyDocument } from "../policy-file.js";
import { readGpgSignatureUnverified } from "./gpg.js";
import { parsePayload } from "./simple-signing.js";
import { signatureLayers, signatureTag, type CosignSignature } from "./cosign.js";
import { signatureKindVerifiers, type SignatureSource } from "./verify.js";
import type {
  ExtensionContext as RegistryExtensionContext,
  RegistryExtension,
} from "../../registry/extension.js";
import { isPathNotFound } from "../../registry/storage/driver.js";

/**
 * The registry side of "signatures that travel with images":
 *  - the X-Registry-Supports-Signatures API extension containers/image (skopeo, podman, buildah)
 *    uses when the `/v2/` ping answers `X-Registry-Supports-Signatures: 1`:
 *      GET /extensions/v2/<name>/signatures/<digest> → 200 {"signatures":[{schemaVersion,name,type,content}]}
 *      PUT /extensions/v2/<name>/signatures/<digest> with one {schemaVersion:2,name:"<digest>@<id>",type:"atomic",content:<base64>} → 201
 *    (the OpenShift registry's API);
 *  - the trust policy on manifest GETs by tag, and on tag writes that would replace a signed tag.
 *
 * It plugs into the registry through the small context below (the registry's RegistryExtension).
 */

/** The storage the registry lends to an extension: atomic whole-file operations under its own prefix. */
export interface ExtensionStorage {
  get(path: string): Promise<Uint8Array | undefined>;
  put(path: string, data: Uint8Array): Promise<void>;
  list(prefix: string): Promise<string[]>;
  delete(path: string): Promise<void>;
}

export interface ManifestDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
}

export interface ExtensionContext {
  storage: ExtensionStorage;
  /** Applies the registry's auth for `repo`; on refusal it has answered (401/403) and returns false. */
  authorize(
    req: IncomingMessage,
    res: ServerResponse,
    repo: string,
    actions: ("pull" | "push")[],
  ): Promise<boolean>;
  /** Tag or digest → manifest descriptor in `repo`, undefined when unknown. */
  resolve(repo: string, reference: string): Promise<ManifestDescriptor | undefined>;
  /** Manifest bytes by digest. */
  getManifest(repo: string, digest: Digest): Promise<Uint8Array | undefined>;
  /** Whole small blob by digest (signature payloads); undefined when unknown. */
  getBlob(repo: string, digest: Digest): Promise<Uint8Array | undefined>;
  /** Manifests whose subject is `digest` (OCI 1.1 referrers), if the registry indexes them. */
  referrers?(repo: string, digest: Digest): Promise<{ digest: Digest; artifactType?: string }[]>;
  /** The registry's host:port as clients name it (for identity checks), if known. */
  host?: string;
}

export interface SignatureExtensionOptions {
  /** The registry's trust policy (trust.policy); EMPTY means nothing is enforced. */
  policy?: PolicyDocument;
  /** Notary/TUF verifier for the policy's `notary` kind, supplied by src/trust (tuf) when configured. */
  notaryVerifier?: (repo: string, tag: string, digest: Digest) => KindVerifier;
  /** Largest accepted signature document (containers/image limits signature lists to 4 MiB). */
  maxSignatureBytes?: number;
}

export const SIGNATURES_HEADER = "X-Registry-Supports-Signatures";
const EXT_RE = /^\/extensions\/v2\/(.+)\/signatures\/([^/]+)$/;
const SIG_NAME_SUFFIX_RE = /^[A-Za-z0-9._-]{1,128}$/;
const COSIGN_TAG_RE = /^sha(256|512)-[a-f0-9]{64,128}\.(sig|att|sbom)$/;

export interface StoredSignature {
  schemaVersion: 2;
  name: string;
  type: "atomic";
  content: string;
}

function sigDir(repo: string, digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `signatures/${repo}/${algorithm}/${hex}/`;
}

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", String(data.length));
  res.end(data);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  detail?: unknown,
): void {
  sendJSON(res, status, { errors: [{ code, message, detail: detail ?? null }] });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class SignatureExtension {
  readonly name = "signatures";
  private readonly policy: PolicyDocument | undefined;
  private readonly opts: SignatureExtensionOptions;

  constructor(opts: SignatureExtensionOptions = {}) {
    this.opts = opts;
    this.policy = opts.policy;
  }

  /** Lists the stored simple signatures of `repo`@`digest`, oldest first. */
  async list(ctx: ExtensionContext, repo: string, digest: Digest): Promise<StoredSignature[]> {
    const dir = sigDir(repo, digest);
    const names = (await ctx.storage.list(dir)).filter((n) => n.endsWith(".json")).sort();
    const out: StoredSignature[] = [];
    for (const n of names) {
      const data = await ctx.storage.get(n.startsWith(dir) ? n : dir + n);
      if (!data) continue;
      try {
        out.push(JSON.parse(Buffer.from(data).toString("utf8")) as StoredSignature);
      } catch {
        // A damaged file is skipped rather than breaking every client of the repository.
      }
    }
    return out;
  }

  /** Stores one simple signature after checking it is an OpenPGP message whose payload names `digest`. */
  async add(
    ctx: ExtensionContext,
    repo: string,
    digest: Digest,
    content: Uint8Array,
    name?: string,
  ): Promise<StoredSignature> {
    const unverified = await readGpgSignatureUnverified(content);
    const payload = parsePayload(unverified.payload);
    if (payload.manifestDigest !== digest) {
      throw new DockyardError(
        "DIGEST_INVALID",
        `the signature is for manifest ${payload.manifestDigest}, not ${digest}: store it under its own digest`,
      );
    }
    const existing = await this.list(ctx, repo, digest);
    const b64 = Buffer.from(content).toString("base64");
    const same = existing.find((s) => s.content === b64);
    if (same) return same;
    let suffix = name?.startsWith(`${digest}@`) ? name.slice(digest.length + 1) : undefined;
    if (
      !suffix ||
      !SIG_NAME_SUFFIX_RE.test(suffix) ||
      existing.some((s) => s.name === `${digest}@${suffix}`)
    ) {
      suffix = randomBytes(16).toString("hex");
    }
    const sig: StoredSignature = {
      schemaVersion: 2,
      name: `${digest}@${suffix}`,
      type: "atomic",
      content: b64,
    };
    // Time-ordered file names keep listing order stable (oldest first), like containers/image expects.
    const file = `${sigDir(repo, digest)}${Date.now().toString().padStart(15, "0")}-${suffix}.json`;
    await ctx.storage.put(file, Buffer.from(JSON.stringify(sig)));
    return sig;
  }

  /** Serves the extension API; returns true when it answered the request. */
  async handle(req: IncomingMessage, res: ServerResponse, ctx: ExtensionContext): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://registry");
    const path = url.pathname;
    // Advertise the API on every registry response (containers/image reads it from the /v2/ ping).
    if (path.startsWith("/v2") || path.startsWith("/extensions/v2/")) res.setHeader(SIGNATURES_HEADER, "1");
    const m = EXT_RE.exec(path);
    if (!m) return false;
    const repo = decodeURIComponent(m[1]!);
    const digest = decodeURIComponent(m[2]!);
    if (!isValidRepositoryName(repo)) {
      sendError(res, 400, "NAME_INVALID", `invalid repository name ${JSON.stringify(repo)}`);
      return true;
    }
    if (!isDigest(digest)) {
      sendError(res, 400, "DIGEST_INVALID", `invalid manifest digest ${JSON.stringify(digest)}`);
      return true;
    }
    const method = req.method ?? "GET";
    if (method === "GET" || method === "HEAD") {
      if (!(await ctx.authorize(req, res, repo, ["pull"]))) return true;
      const sigs = await this.list(ctx, repo, digest as Digest);
      if (method === "HEAD") {
        res.statusCode = 200;
        res.end();
      } else sendJSON(res, 200, { signatures: sigs });
      return true;
    }
    if (method === "PUT") {
      if (!(await ctx.authorize(req, res, repo, ["pull", "push"]))) return true;
      const body = await readBody(req, this.opts.maxSignatureBytes ?? 4 * 1024 * 1024);
      if (!body) {
        sendError(res, 413, "SIZE_INVALID", "signature document too large");
        return true;
      }
      let doc: Partial<StoredSignature> & { signatures?: Partial<StoredSignature>[] };
      try {
        doc = JSON.parse(body.toString("utf8")) as typeof doc;
      } catch {
        sendError(
          res,
          400,
          "SIGNATURE_INVALID",
          'the body is not JSON: send {schemaVersion:2,name,type:"atomic",content}',
        );
        return true;
      }
      // containers/image PUTs one signature object; a {"signatures":[…]} list is accepted too.
      const items = Array.isArray(doc.signatures) ? doc.signatures : [doc];
      if (!(await ctx.resolve(repo, digest))) {
        sendError(
          res,
          404,
          "MANIFEST_UNKNOWN",
          `manifest ${digest} is not in ${repo}: push the image before its signature`,
        );
        return true;
      }
      for (const item of items) {
        if (item.schemaVersion !== 2) {
          sendError(
            res,
            400,
            "SIGNATURE_INVALID",
            `unsupported signature schemaVersion ${JSON.stringify(item.schemaVersion)} (2 is)`,
          );
          return true;
        }
        if (item.type !== undefined && item.type !== "atomic" && item.type !== "AtomicImageV1") {
          sendError(
            res,
            400,
            "SIGNATURE_INVALID",
            `unsupported signature type ${JSON.stringify(item.type)} (atomic is)`,
          );
          return true;
        }
        if (typeof item.name !== "string" || !item.name.startsWith(`${digest}@`)) {
          sendError(res, 400, "SIGNATURE_INVALID", `signature name must be "${digest}@<id>"`);
          return true;
        }
        if (typeof item.content !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(item.content)) {
          sendError(res, 400, "SIGNATURE_INVALID", "signature content must be base64");
          return true;
        }
        try {
          await this.add(ctx, repo, digest as Digest, Buffer.from(item.content, "base64"), item.name);
        } catch (err) {
          sendError(res, 400, "SIGNATURE_INVALID", (err as Error).message);
          return true;
        }
      }
      res.statusCode = 201;
      res.setHeader("Content-Length", "0");
      res.end();
      return true;
    }
    res.setHeader("Allow", "GET, HEAD, PUT");
    sendError(res, 405, "UNSUPPORTED", `${method} is not supported on the signatures API`);
    return true;
  }

  /** The signatures of `repo` as the registry itself stores them. */
  source(ctx: ExtensionContext, repo: string): SignatureSource {
    return {
      simpleSignatures: async (digest) =>
        (await this.list(ctx, repo, digest)).map((s) => Buffer.from(s.content, "base64")),
      cosignSignatures: async (digest) => {
        const manifests: Digest[] = [];
        const tagged = await ctx.resolve(repo, signatureTag(digest));
        if (tagged) manifests.push(tagged.digest);
        if (ctx.referrers) {
          for (const r of await ctx.referrers(repo, digest)) {
            if (r.artifactType === "application/vnd.dev.cosign.artifact.sig.v1+json")
              manifests.push(r.digest);
          }
        }
        const out: CosignSignature[] = [];
        for (const md of manifests) {
          const bytes = await ctx.getManifest(repo, md);
          if (!bytes) continue;
          for (const layer of signatureLayers(bytes)) {
            const payload = await ctx.getBlob(repo, layer.descriptor.digest);
            if (!payload) continue;
            const { [`dev.cosignproject.cosign/signature`]: _s, ...rest } = layer.annotations;
            out.push({ payload, signature: layer.signature, annotations: rest });
          }
        }
        return out;
      },
    };
  }

  /** Policy check of `repo`:`tag` → `digest`; undefined when allowed, else the reason. */
  /** Positive policy results, briefly (signatures can be removed, so not forever). */
  private readonly passed = new Map<string, number>();
  private static readonly PASS_TTL_MS = 30_000;

  async policyRefusal(
    ctx: ExtensionContext,
    repo: string,
    tag: string,
    digest: Digest,
  ): Promise<string | undefined> {
    if (!this.policy || COSIGN_TAG_RE.test(tag)) return undefined;
    const rule = requirementFor(this.policy, repo, ctx.host);
    if (rule.require === "none") return undefined;
    const key = `${repo}\0${tag}\0${digest}`;
    const at = this.passed.get(key);
    if (at !== undefined && Date.now() - at < SignatureExtension.PASS_TTL_MS) return undefined;
    const image = parseReference(`${ctx.host ?? "localhost"}/${repo}:${tag}`);
    const verifiers: Partial<Record<"gpg" | "sigstore" | "notary", KindVerifier>> = signatureKindVerifiers(
      this.source(ctx, repo),
      image,
      digest,
      { ignoreHost: ctx.host === undefined },
    );
    if (this.opts.notaryVerifier) verifiers.notary = this.opts.notaryVerifier(repo, tag, digest);
    const check = await evaluateRule(rule, verifiers);
    if (!check.ok) return check.details.join("; ");
    if (this.passed.size > 10_000) this.passed.clear();
    this.passed.set(key, Date.now());
    return undefined;
  }

  /** Hook: a manifest GET. Tags under a requiring rule are served only when signed as the policy says. */
  async beforeManifestGet(
    ctx: ExtensionContext,
    repo: string,
    reference: string,
    desc: ManifestDescriptor,
  ): Promise<void> {
    if (isDigest(reference)) return;
    const why = await this.policyRefusal(ctx, repo, reference, desc.digest);
    if (why) {
      throw new DockyardError(
        "DENIED",
        `trust policy refuses ${repo}:${reference} (${desc.digest}): ${why}. Sign it (dockyard trust sign) or pull by digest if the policy allows`,
      );
    }
  }

  /** Hook: a tag write. A tag whose current manifest is signed under a requiring rule is not replaced by an unsigned one. */
  async beforeTagWrite(
    ctx: ExtensionContext,
    repo: string,
    tag: string,
    newDigest: Digest,
    oldDigest?: Digest,
  ): Promise<void> {
    if (!this.policy || !oldDigest || oldDigest === newDigest || COSIGN_TAG_RE.test(tag)) return;
    const rule = requirementFor(this.policy, repo, ctx.host);
    if (rule.require !== "any" && rule.require !== "all") return;
    const oldSigned = (await this.policyRefusal(ctx, repo, tag, oldDigest)) === undefined;
    if (!oldSigned) return;
    const newRefusal = await this.policyRefusal(ctx, repo, tag, newDigest);
    if (newRefusal) {
      throw new DockyardError(
        "DENIED",
        `${repo}:${tag} is signed (${oldDigest}); the trust policy refuses to replace it with unsigned ${newDigest}: push by digest, sign it, then tag it`,
      );
    }
  }
}

// ------------------------------------------------------------------ mounting on dockyard's registry

const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** The registry's context narrowed to what the signature extension uses. */
export function adaptRegistryContext(
  ctx: RegistryExtensionContext,
  prefix = "extensions/signatures",
): ExtensionContext {
  const p = (path: string) => `${prefix}/${path}`.replace(/\/+/g, "/").replace(/\/$/, "");
  return {
    storage: {
      async get(path) {
        try {
          return await ctx.storage.getContent(p(path));
        } catch (err) {
          if (isPathNotFound(err)) return undefined;
          throw err;
        }
      },
      async put(path, data) {
        await ctx.storage.putContent(p(path), data, { sync: ctx.config.storage.fsync });
      },
      async list(dir) {
        const base = dir.endsWith("/") ? dir : `${dir}/`;
        return (await ctx.storage.list(p(dir))).map((n) => `${base}${n}`);
      },
      async delete(path) {
        await ctx.storage.delete(p(path));
      },
    },
    authorize: async (req, res, repo, actions) =>
      (await ctx.authorize(req, res, repo, actions)) !== undefined,
    resolve: async (repo, reference) => ctx.resolve(repo, reference),
    getManifest: async (repo, digest) => {
      if (!ctx.resolve(repo, digest)) return undefined;
      return await ctx.manifestBytes(digest);
    },
    getBlob: async (repo, digest) => {
      if (!ctx.store.isBlobLinked(repo, digest)) return undefined;
      const stream = await ctx.store.openBlob(digest);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of stream as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > MAX_PAYLOAD_BYTES) {
          stream.destroy();
          return undefined;
        }
        chunks.push(c);
      }
      return Buffer.concat(chunks);
    },
    referrers: async (repo, digest) =>
      ctx.store.referrers(repo, digest).map((d) => ({
        digest: d.digest as Digest,
        ...(d.artifactType ? { artifactType: d.artifactType } : {}),
      })),
    // The registry does not know every name clients use for it: compare repository paths.
    host: undefined,
  };
}

/**
 * The signature extension as a dockyard RegistryExtension: serves the signatures API and applies
 * the policy file's gpg/sigstore rules (trust.policy) on manifest GETs by tag and tag writes.
 */
export class SignaturesRegistryExtension implements RegistryExtension {
  readonly name = "signatures";
  readonly core: SignatureExtension;
  private ctx?: ExtensionContext;

  constructor(opts: SignatureExtensionOptions = {}) {
    this.core = new SignatureExtension(opts);
  }

  async init(ctx: RegistryExtensionContext): Promise<void> {
    this.ctx = adaptRegistryContext(ctx);
  }

  private context(): ExtensionContext {
    if (!this.ctx) throw new DockyardError("INTERNAL", "signatures extension used before init");
    return this.ctx;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    return this.core.handle(req, res, this.context());
  }

  async beforeManifestGet(repo: string, reference: string, desc: ManifestDescriptor): Promise<void> {
    await this.core.beforeManifestGet(this.context(), repo, reference, desc);
  }

  async beforeTagWrite(
    repo: string,
    tag: string,
    newDigest: Digest,
    oldDigest: Digest | undefined,
  ): Promise<void> {
    await this.core.beforeTagWrite(this.context(), repo, tag, newDigest, oldDigest);
  }
}
