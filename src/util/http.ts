import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import { DockyardError, type ErrorCode } from "../image/errors.js";
import { trustedCa } from "./extra-ca.js";

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** PEM CA file for https (DOCKYARD_TRUST_CA); without it, Node's roots and NODE_EXTRA_CA_CERTS. */
  caFile?: string;
  insecure?: boolean;
  maxBytes?: number;
  /** The error code of a response over maxBytes (default SIZE_INVALID; TUF metadata says TRUST). */
  tooLarge?: ErrorCode;
  timeoutMs?: number;
  /** Redirects a GET or HEAD follows (default 0: a 3xx is the result). */
  maxRedirects?: number;
  /**
   * Takes a 2xx response's body as a stream instead (a download of any size; maxBytes does not
   * apply); the result's `body` is then empty. Other responses are buffered as usual.
   */
  consume?: (body: Readable) => Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

// Keep-alive agents (one per TLS setting): a TUF update makes several requests to one server, and
// reusing the connection saves a TLS handshake per request. Node unrefs idle pooled sockets, so
// they never keep a finished command alive.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgents = new Map<string, HttpsAgent>();
function httpsAgentFor(caFile: string | undefined, insecure: boolean): HttpsAgent {
  const k = `${caFile ?? ""}|${insecure}`;
  let a = httpsAgents.get(k);
  if (!a) {
    a = new HttpsAgent({
      keepAlive: true,
      ca: caFile ? readFileSync(caFile) : trustedCa(rootCertificates),
      rejectUnauthorized: !insecure,
    });
    httpsAgents.set(k, a);
  }
  return a;
}

/** One HTTP(S) request, body buffered up to maxBytes (metadata and manifests are small) or consumed. */
export async function httpCall(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  let target = url;
  for (let hops = 0; ; hops++) {
    const r = await exchange(target, opts);
    const location = r.headers.location;
    if (!opts.maxRedirects || !REDIRECTS.has(r.status) || typeof location !== "string") return r;
    if (hops === opts.maxRedirects)
      throw new DockyardError("NETWORK", `${url}: more than ${opts.maxRedirects} redirects`);
    target = new URL(location, target).href;
  }
}
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function exchange(url: string, opts: HttpOptions): Promise<HttpResult> {
  const u = new URL(url);
  const isHttps = u.protocol === "https:";
  const fn = isHttps ? httpsRequest : httpRequest;
  const max = opts.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const req = fn(
      u,
      {
        method: opts.method ?? "GET",
        headers: {
          ...(opts.headers ?? {}),
          ...(opts.body ? { "content-length": String(opts.body.length) } : {}),
        },
        agent: isHttps ? httpsAgentFor(opts.caFile, opts.insecure === true) : httpAgent,
        timeout: opts.timeoutMs ?? 60_000,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (opts.consume && status >= 200 && status < 300) {
          opts.consume(res).then(
            () => resolve({ status, headers: res.headers, body: Buffer.alloc(0) }),
            (err: Error) => {
              res.destroy();
              reject(err);
            },
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > max) {
            // Reject here and destroy without an error: an error passed to destroy() would be
            // emitted on the pooled socket, where nobody listens any more, and crash the process.
            reject(
              new DockyardError(
                opts.tooLarge ?? "SIZE_INVALID",
                `response from ${u.host}${u.pathname} is larger than the ${max} bytes allowed`,
              ),
            );
            res.removeAllListeners("data");
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new DockyardError("NETWORK", `timed out talking to ${u.host}`)));
    req.on("error", (e) =>
      reject(
        e instanceof DockyardError ? e : new DockyardError("NETWORK", `cannot reach ${u.host}: ${e.message}`),
      ),
    );
    req.end(opts.body ? Buffer.from(opts.body) : undefined);
  });
}

/** Builds a multipart/form-data body with one part per (filename, bytes), as notary sends updates. */
export function multipartBody(parts: Map<string, Uint8Array>): { body: Buffer; contentType: string } {
  const boundary = `dockyard${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, bytes] of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name.replace(/(["\\])/g, "\\$1")}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      Buffer.from(bytes),
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
