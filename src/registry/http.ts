import type { IncomingMessage, ServerResponse } from "node:http";
import { DockyardError, isDockyardError, type ErrorCode } from "../image/errors.js";
import { parseDigest, type Digest } from "../image/digest.js";
import { isValidRepositoryName, isValidTag, MAX_NAME_LENGTH } from "../image/reference.js";
import type { RegistryConfig } from "./config.js";
import type { RegistryStore } from "./store.js";
import type { Identity } from "./auth/index.js";
import type { Route } from "./router.js";

/** One request as the route handlers see it. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: Route;
  /** The raw query string without '?' ("" when none). */
  rawQuery: string;
  identity: Identity;
  store: RegistryStore;
  config: RegistryConfig;
  app: AppServices;
}

/** What handlers may call back into (extensions hooks, auth for mounts). */
export interface AppServices {
  canPull(identity: Identity, repo: string): Promise<boolean>;
  beforeManifestGet(
    repo: string,
    reference: string,
    desc: { digest: Digest; mediaType: string; size: number },
  ): Promise<void>;
  beforeTagWrite(repo: string, tag: string, digest: Digest, old: Digest | undefined): Promise<void>;
}

/** OCI wire code and HTTP status for each error code. */
const WIRE: Partial<Record<ErrorCode, [string, number]>> = {
  DIGEST_INVALID: ["DIGEST_INVALID", 400],
  SIZE_INVALID: ["SIZE_INVALID", 400],
  NAME_INVALID: ["NAME_INVALID", 400],
  TAG_INVALID: ["TAG_INVALID", 400],
  REFERENCE_INVALID: ["MANIFEST_INVALID", 400],
  MANIFEST_INVALID: ["MANIFEST_INVALID", 400],
  MANIFEST_UNKNOWN: ["MANIFEST_UNKNOWN", 404],
  MANIFEST_BLOB_UNKNOWN: ["MANIFEST_BLOB_UNKNOWN", 400],
  BLOB_UNKNOWN: ["BLOB_UNKNOWN", 404],
  BLOB_UPLOAD_UNKNOWN: ["BLOB_UPLOAD_UNKNOWN", 404],
  BLOB_UPLOAD_INVALID: ["BLOB_UPLOAD_INVALID", 400],
  RANGE_INVALID: ["RANGE_INVALID", 416],
  NAME_UNKNOWN: ["NAME_UNKNOWN", 404],
  UNSUPPORTED: ["UNSUPPORTED", 405],
  UNAUTHORIZED: ["UNAUTHORIZED", 401],
  DENIED: ["DENIED", 403],
  TOOMANYREQUESTS: ["TOOMANYREQUESTS", 429],
  UNAVAILABLE: ["UNAVAILABLE", 503],
  STORAGE_FULL: ["STORAGE_FULL", 507],
  NOT_FOUND: ["NOT_FOUND", 404],
};

/** The error codes this server can send, for the README: [wire code, status]. */
export const WIRE_ERRORS = WIRE;

/** An error with an explicit wire code and status (codes outside ErrorCode, e.g. PAGINATION_NUMBER_INVALID). */
export class WireError extends DockyardError {
  readonly wire: string;
  readonly status: number;
  constructor(wire: string, status: number, message: string) {
    super("USAGE", message);
    this.wire = wire;
    this.status = status;
  }
}

export function errorBody(code: string, message: string, detail?: unknown): string {
  return JSON.stringify({ errors: [{ code, message, detail: detail ?? null }] });
}

/** Writes an OCI error response; destroys the socket when headers already went out. */
export function sendError(res: ServerResponse, err: unknown, extraHeaders?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  let code = "UNKNOWN";
  let status = 500;
  let message = "internal error";
  let detail: unknown;
  if (err instanceof WireError) {
    code = err.wire;
    status = err.status;
    message = err.message;
  } else if (isDockyardError(err)) {
    const w = WIRE[err.code];
    if (w) [code, status] = w;
    message = err.message;
    detail = err.detail;
  } else if (err instanceof Error) {
    message = `internal error: ${err.message}`;
  }
  const body = errorBody(code, message, detail);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    ...extraHeaders,
  };
  // A body the client is still sending is not worth reading: close after answering.
  if (!res.req.complete) headers.Connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

export function queryParams(raw: string): URLSearchParams {
  return new URLSearchParams(raw);
}

/** Validates a repository name (grammar, 255 characters) → NAME_INVALID. */
export function checkName(name: string): void {
  if (!name || name.length > MAX_NAME_LENGTH || !isValidRepositoryName(name))
    throw new DockyardError(
      "NAME_INVALID",
      `invalid repository name ${JSON.stringify(name.slice(0, 300))}: lowercase components [a-z0-9] joined by . _ __ - and /, at most ${MAX_NAME_LENGTH} characters`,
    );
}

/** Parses a digest from the wire; any failure (malformed, unknown algorithm) is DIGEST_INVALID. */
export function wireDigest(value: string | null | undefined, what = "digest"): Digest {
  if (!value) throw new DockyardError("DIGEST_INVALID", `${what} is missing`);
  try {
    parseDigest(value);
  } catch (err) {
    throw new DockyardError("DIGEST_INVALID", `${what}: ${(err as Error).message}`);
  }
  return value as Digest;
}

export function checkReference(ref: string): "tag" | "digest" {
  if (ref.includes(":")) {
    wireDigest(ref, "manifest reference");
    return "digest";
  }
  if (!isValidTag(ref))
    throw new DockyardError(
      "TAG_INVALID",
      `invalid tag ${JSON.stringify(ref)}: must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`,
    );
  return "tag";
}

/** Reads a whole (small) body, refusing more than `max` bytes. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const cl = req.headers["content-length"];
  if (cl !== undefined && Number(cl) > max)
    throw new DockyardError("SIZE_INVALID", `body of ${cl} bytes exceeds the limit of ${max} bytes`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw new DockyardError("SIZE_INVALID", `body exceeds the limit of ${max} bytes`);
    chunks.push(c as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { "Content-Length": 0, ...headers });
  res.end();
}

/** Parses `n`/`last` pagination parameters. */
export function pagination(q: URLSearchParams): { n: number | undefined; last: string | undefined } {
  const ns = q.get("n");
  let n: number | undefined;
  if (ns !== null && ns !== "") {
    n = Number(ns);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new WireError(
        "PAGINATION_NUMBER_INVALID",
        400,
        `n=${JSON.stringify(ns)} must be a non-negative integer`,
      );
  }
  const last = q.get("last") ?? undefined;
  return { n, last: last === "" ? undefined : last };
}

export function encodeName(name: string): string {
  return name;
}
