import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DockyardError } from "../image/errors.js";
import { atomicWriteFile } from "../util/fs.js";
import { httpCall, multipartBody, type HttpOptions } from "./http-client.js";
import type { TufCache, TufRemote } from "./tuf/client.js";
import type { TufKey } from "./tuf/keys.js";

export interface TrustServerOptions {
  /** e.g. https://127.0.0.1:4443 */
  url: string;
  caFile?: string;
  insecure?: boolean;
  /** "user:password" for basic auth (DOCKYARD_TRUST_AUTH). */
  auth?: string;
}

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

  private http(extra: HttpOptions = {}): HttpOptions {
    const headers: Record<string, string> = { ...(extra.headers ?? {}) };
    if (this.opts.auth) headers.authorization = `Basic ${Buffer.from(this.opts.auth).toString("base64")}`;
    return { caFile: this.opts.caFile, insecure: this.opts.insecure, ...extra, headers };
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
    const r = await httpCall(this.url(file), this.http({ maxBytes }));
    if (r.status === 404) return undefined;
    NotaryRemote.check(r.status, r.body, `GET ${file}`);
    return r.body;
  }

  async getKey(role: "timestamp" | "snapshot"): Promise<TufKey> {
    const r = await httpCall(this.url(`${role}.key`), this.http());
    NotaryRemote.check(r.status, r.body, `GET ${role}.key`);
    return JSON.parse(r.body.toString("utf8")) as TufKey;
  }

  async rotateKey(role: "timestamp" | "snapshot"): Promise<TufKey> {
    const r = await httpCall(this.url(`${role}.key`), this.http({ method: "POST" }));
    NotaryRemote.check(r.status, r.body, `POST ${role}.key`);
    return JSON.parse(r.body.toString("utf8")) as TufKey;
  }

  async publish(files: Map<string, Uint8Array>): Promise<void> {
    const { body, contentType } = multipartBody(files);
    const r = await httpCall(
      this.url(""),
      this.http({ method: "POST", body, headers: { "content-type": contentType } }),
    );
    NotaryRemote.check(r.status, r.body, `the update (${[...files.keys()].join(", ")})`);
  }

  async deleteAll(): Promise<void> {
    const r = await httpCall(this.url(""), this.http({ method: "DELETE" }));
    NotaryRemote.check(r.status, r.body, "DELETE");
  }
}

/** The client's trusted metadata on disk: <trust dir>/tuf/<gun>/metadata/<role>.json. */
export class FileTufCache implements TufCache {
  readonly dir: string;
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
  async load(role: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.p(role));
    } catch {
      return undefined;
    }
  }
  async save(role: string, bytes: Uint8Array): Promise<void> {
    await atomicWriteFile(this.p(role), bytes, { fsync: false });
  }
  async remove(role: string): Promise<void> {
    await rm(this.p(role), { force: true });
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
