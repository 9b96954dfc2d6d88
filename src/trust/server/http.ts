import type { IncomingMessage, ServerResponse } from "node:http";
import { NotaryHttpError, type NotaryService } from "./service.js";

/** Largest update body accepted (notary-server's default is 10 MiB per request too). */
export const MAX_UPDATE_BYTES = 10 * 1024 * 1024;

export type TrustAction = "pull" | "push" | "*";

export interface NotaryHandlerOptions {
  service: NotaryService;
  /**
   * Access control: resolves true when `req` may perform `actions` on the repository (the GUN's
   * path after the host, or the GUN itself); otherwise it has answered 401/403 itself and resolves
   * false. Mounted on the registry this is the registry's own auth; stand-alone it allows all.
   */
  authorize?: (
    req: IncomingMessage,
    res: ServerResponse,
    gun: string,
    actions: TrustAction[],
  ) => Promise<boolean>;
  log?: (line: string) => void;
}

const TRUST_RE = /^\/v2\/(.+?)\/_trust\/tuf\/(.*)$/;

/** Parses `/v2/<gun>/_trust/tuf/<file>` (query stripped). Undefined for other paths. */
export function parseTrustPath(url: string): { gun: string; file: string } | undefined {
  const path = url.split("?")[0]!;
  const m = TRUST_RE.exec(path);
  if (!m) return undefined;
  try {
    const gun = m[1]!.split("/").map(decodeURIComponent).join("/");
    const file = m[2]!.split("/").map(decodeURIComponent).join("/");
    if (gun.split("/").some((s) => s === "" || s === "." || s === "..")) return undefined;
    return { gun, file };
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
  res.end(b);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ code, message, detail: null }] });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit)
      throw new NotaryHttpError(413, "MALFORMED_UPLOAD", `the update is larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a multipart/form-data body into (filename → bytes), as the notary client sends an
 * update: one part per role, the role name as the part's filename.
 */
export function parseMultipart(body: Buffer, contentType: string): Map<string, Uint8Array> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!/^multipart\/form-data/i.test(contentType) || !m) {
    throw new NotaryHttpError(
      400,
      "MALFORMED_UPLOAD",
      "the update must be multipart/form-data with one part per role",
    );
  }
  const delim = Buffer.from(`--${m[1] ?? m[2]}`);
  const out = new Map<string, Uint8Array>();
  let pos = body.indexOf(delim);
  if (pos < 0) throw new NotaryHttpError(400, "MALFORMED_UPLOAD", "no multipart boundary in the body");
  while (true) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === "--") break;
    const headEnd = body.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) throw new NotaryHttpError(400, "MALFORMED_UPLOAD", "truncated multipart part");
    const head = body.subarray(pos, headEnd).toString("utf8");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd + 4);
    if (next < 0) throw new NotaryHttpError(400, "MALFORMED_UPLOAD", "unterminated multipart part");
    const content = body.subarray(headEnd + 4, next);
    const fn = /filename="((?:[^"\\]|\\.)*)"/i.exec(head) ?? /filename=([^;\r\n]+)/i.exec(head);
    if (!fn)
      throw new NotaryHttpError(400, "MALFORMED_UPLOAD", "a multipart part has no filename (the role name)");
    const role = fn[1]!.replace(/\\(.)/g, "$1");
    if (out.has(role))
      throw new NotaryHttpError(400, "MALFORMED_UPLOAD", `role ${role} appears twice in the update`);
    out.set(role, Buffer.from(content));
    pos = next + 2;
  }
  return out;
}

/**
 * The Notary server API as an HTTP handler. Resolves false when the request is not a trust
 * request (so a registry can route it elsewhere).
 *
 *   GET    /v2/<gun>/_trust/tuf/<role>.json | <version>.<role>.json | <role>.<sha256>.json
 *   GET    /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key   (created on first request)
 *   POST   /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key   (rotate: a new server key)
 *   POST   /v2/<gun>/_trust/tuf/                            (multipart update, validated)
 *   DELETE /v2/<gun>/_trust/tuf/                            (all trust data of the GUN)
 */
export function createNotaryHandler(opts: NotaryHandlerOptions) {
  const { service } = opts;
  const authorize = opts.authorize ?? (async () => true);
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const parsed = parseTrustPath(req.url ?? "/");
    if (!parsed) return false;
    const { gun, file } = parsed;
    const method = req.method ?? "GET";
    try {
      if ((method === "GET" || method === "HEAD") && file.endsWith(".key")) {
        if (!(await authorize(req, res, gun, ["pull"]))) return true;
        const key = await service.getKey(gun, file.slice(0, -4));
        sendJson(res, 200, key);
      } else if (method === "GET" || method === "HEAD") {
        if (!(await authorize(req, res, gun, ["pull"]))) return true;
        const bytes = await service.getMetadata(gun, file);
        if (!bytes) {
          sendError(res, 404, "METADATA_NOT_FOUND", `no trust metadata ${file} for ${gun}`);
        } else {
          res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
          res.end(method === "HEAD" ? undefined : Buffer.from(bytes));
        }
      } else if (method === "POST" && file.endsWith(".key")) {
        if (!(await authorize(req, res, gun, ["push", "pull"]))) return true;
        sendJson(res, 200, await service.rotateKey(gun, file.slice(0, -4)));
      } else if (method === "POST" && file === "") {
        if (!(await authorize(req, res, gun, ["push", "pull"]))) return true;
        const body = await readBody(req, MAX_UPDATE_BYTES);
        const uploads = parseMultipart(body, String(req.headers["content-type"] ?? ""));
        await service.update(gun, uploads);
        opts.log?.(`trust: ${gun}: published ${[...uploads.keys()].join(", ")}`);
        sendJson(res, 200, {});
      } else if (method === "DELETE" && file === "") {
        if (!(await authorize(req, res, gun, ["*"]))) return true;
        await service.deleteGun(gun);
        opts.log?.(`trust: ${gun}: trust data deleted`);
        sendJson(res, 200, {});
      } else {
        sendError(res, 405, "UNSUPPORTED", `${method} is not supported on ${req.url}`);
      }
    } catch (e) {
      if (e instanceof NotaryHttpError) {
        opts.log?.(`trust: ${gun}: refused ${method} ${file}: ${e.message}`);
        if (!res.headersSent) sendError(res, e.status, e.code, e.message);
      } else {
        opts.log?.(`trust: ${gun}: internal error: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) sendError(res, 500, "UNKNOWN", "internal error in the trust server");
        else res.destroy();
      }
    }
    return true;
  };
}
