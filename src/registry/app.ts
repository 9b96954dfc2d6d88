import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { DockyardError } from "../image/errors.js";
import type { Digest } from "../image/digest.js";
import { defaultConfig, type RegistryConfig } from "./config.js";
import { FilesystemDriver } from "./storage/filesystem.js";
import type { StorageDriver } from "./storage/driver.js";
import { RegistryStore, type GcJournalEntry } from "./store.js";
import { GC_JOURNAL } from "./gc.js";
import {
  AllowAll,
  AuthenticatedAllowed,
  HtpasswdAuthenticator,
  type Action,
  type Authenticator,
  type Authorizer,
  type Identity,
} from "./auth/index.js";
import type { ExtensionContext, RegistryExtension } from "./extension.js";
import { parseRoute, type Route } from "./router.js";
import { checkName, sendEmpty, sendError, sendJson, type AppServices, type RequestContext } from "./http.js";
import { deleteBlob, getBlob } from "./routes/blobs.js";
import { cancelUpload, patchUpload, putUpload, startUpload, uploadStatus } from "./routes/uploads.js";
import { deleteManifest, getManifest, putManifest } from "./routes/manifests.js";
import { catalog, listTags, referrers } from "./routes/lists.js";

export interface RegistryOptions {
  config?: Partial<RegistryConfig> & Pick<RegistryConfig, "data">;
  /** Storage driver (default: filesystem at config.data). */
  driver?: StorageDriver;
  extensions?: RegistryExtension[];
  /** Overrides the authenticator built from config (token auth later). */
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** Where the JSON access log goes (default stdout). */
  accessLog?: NodeJS.WritableStream;
  /** Where operational logs go (default stderr). */
  errorLog?: NodeJS.WritableStream;
}

export interface ListenSpec {
  /** HOST:PORT (port 0 = any free port). */
  listen: string;
  tls?: { cert: string; key: string };
  /** Label in logs. */
  name?: string;
}

export interface Registry {
  readonly config: RegistryConfig;
  readonly store: RegistryStore;
  readonly driver: StorageDriver;
  /** The request handler (mount it in your own server if you like). */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** Starts a listener serving the app; may be called several times (e.g. HTTP and HTTPS). */
  listen(spec?: ListenSpec): Promise<{ server: Server; url: string; port: number; host: string }>;
  /** Graceful stop: no new connections, in-flight requests get `graceMs` to finish, then are cut. */
  close(graceMs?: number): Promise<void>;
  /** Requests being served right now. */
  readonly inFlight: number;
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  if (!m) throw new DockyardError("CONFIG_INVALID", `listen address ${JSON.stringify(s)} must be HOST:PORT`);
  const host = m[1] || m[2] || "0.0.0.0";
  const port = Number(m[3]);
  if (port > 65535) throw new DockyardError("CONFIG_INVALID", `port ${port} is out of range`);
  return { host, port };
}

function mergeConfig(partial: RegistryOptions["config"]): RegistryConfig {
  const cfg = defaultConfig();
  const merge = (dst: Record<string, unknown>, src: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(src)) {
      if (v && typeof v === "object" && !Array.isArray(v) && dst[k] && typeof dst[k] === "object")
        merge(dst[k] as Record<string, unknown>, v as Record<string, unknown>);
      else if (v !== undefined) dst[k] = v;
    }
  };
  if (partial) merge(cfg as unknown as Record<string, unknown>, partial as Record<string, unknown>);
  return cfg;
}

function actionsFor(method: string, route: Route): Action[] {
  if (route.area === "catalog") return ["catalog"];
  if (route.area === "base") return [];
  if (method === "GET" || method === "HEAD") return ["pull"];
  if (method === "DELETE") return route.area === "upload" ? ["push"] : ["delete"];
  return ["pull", "push"];
}

/** Builds the registry app over a store (filesystem by default). */
export async function createRegistry(opts: RegistryOptions): Promise<Registry> {
  const config = mergeConfig(opts.config);
  const driver = opts.driver ?? new FilesystemDriver(config.data);
  const store = await RegistryStore.open(driver, {
    fsync: config.storage.fsync,
    manifestCacheBytes: config.storage.manifestCacheBytes,
  });
  const errLog = opts.errorLog ?? process.stderr;
  const accessOut = opts.accessLog ?? process.stdout;
  const levels = { info: 0, warn: 1, error: 2, off: 3 } as const;
  const log = (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>): void => {
    if (levels[level] < levels[config.log.level]) return;
    errLog.write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }) + "\n");
  };

  let authenticator: Authenticator;
  let authorizer: Authorizer;
  if (opts.authenticator) {
    authenticator = opts.authenticator;
    authorizer = opts.authorizer ?? new AuthenticatedAllowed();
  } else if (config.auth.htpasswd.path) {
    authenticator = new HtpasswdAuthenticator({
      path: config.auth.htpasswd.path,
      realm: config.auth.htpasswd.realm,
    });
    authorizer = opts.authorizer ?? new AuthenticatedAllowed();
  } else {
    const a = new AllowAll();
    authenticator = a;
    authorizer = opts.authorizer ?? a;
  }
  const authEnabled = !(authenticator instanceof AllowAll);
  const extensions = opts.extensions ?? [];

  /** Authenticates + authorizes; writes 401/403 and returns undefined on refusal. */
  async function authorize(
    req: IncomingMessage,
    res: ServerResponse,
    repo: string | undefined,
    actions: Action[],
  ): Promise<Identity | undefined> {
    const identity = await authenticator.authenticate(req);
    if (!identity) {
      sendError(res, new DockyardError("UNAUTHORIZED", "authentication required"), {
        "WWW-Authenticate": authenticator.challenge(repo, actions),
        "Docker-Distribution-API-Version": "registry/2.0",
      });
      return undefined;
    }
    if (actions.length && !(await authorizer.authorize(identity, repo, actions))) {
      if (identity.anonymous) {
        sendError(res, new DockyardError("UNAUTHORIZED", "authentication required"), {
          "WWW-Authenticate": authenticator.challenge(repo, actions),
        });
      } else {
        sendError(
          res,
          new DockyardError(
            "DENIED",
            `${identity.subject} may not ${actions.join("+")} ${repo ?? "the registry"}`,
          ),
        );
      }
      return undefined;
    }
    return identity;
  }

  const services: AppServices = {
    async canPull(identity, repo) {
      return authorizer.authorize(identity, repo, ["pull"]);
    },
    async beforeManifestGet(repo, reference, desc) {
      for (const e of extensions) if (e.beforeManifestGet) await e.beforeManifestGet(repo, reference, desc);
    },
    async beforeTagWrite(repo, tag, digest, old) {
      for (const e of extensions) if (e.beforeTagWrite) await e.beforeTagWrite(repo, tag, digest, old);
    },
  };

  const extCtx: ExtensionContext = {
    config,
    storage: driver,
    store,
    authorize,
    resolve: (repo, ref) => {
      const m = store.resolve(repo, ref);
      return m ? { digest: m.digest, mediaType: m.mediaType, size: m.size } : undefined;
    },
    manifestBytes: (d: Digest) => store.manifestBytes(d),
    sendError: (res, err) => sendError(res, err),
    log,
  };
  for (const e of extensions) if (e.init) await e.init(extCtx);
  const handlesExt = extensions.filter((e) => e.handle);

  let inFlight = 0;
  let closing = false;

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    rawQuery: string,
  ): Promise<void> {
    for (const e of handlesExt) if (await e.handle!(req, res, extCtx)) return;
    const route = parseRoute(path);
    res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    if (!route) {
      sendError(res, new DockyardError("NOT_FOUND", `no such endpoint: ${req.method} ${path}`));
      return;
    }
    const method = req.method ?? "GET";
    if (route.name) checkName(route.name);
    const actions = actionsFor(method, route);
    let identity: Identity;
    if (authEnabled) {
      const id = await authorize(req, res, route.name || undefined, actions);
      if (!id) return;
      identity = id;
      (req as { dockyardUser?: string }).dockyardUser = id.subject || undefined;
    } else identity = { subject: "", anonymous: true };
    const isRead = method === "GET" || method === "HEAD";
    if (!isRead && config.readOnly)
      throw new DockyardError("UNSUPPORTED", "the registry is in read-only mode; writes are refused");
    const ctx: RequestContext = { req, res, route, rawQuery, identity, store, config, app: services };
    switch (route.area) {
      case "base":
        if (!isRead) break;
        sendJson(res, 200, "{}");
        return;
      case "catalog":
        if (!isRead) break;
        return catalog(ctx);
      case "blobs":
        if (isRead) return getBlob(ctx);
        if (method === "DELETE") return deleteBlob(ctx);
        break;
      case "uploads":
        if (method === "POST") return startUpload(ctx);
        break;
      case "upload":
        if (method === "GET") return uploadStatus(ctx);
        if (method === "PATCH") return patchUpload(ctx);
        if (method === "PUT") return putUpload(ctx);
        if (method === "DELETE") return cancelUpload(ctx);
        break;
      case "manifests":
        if (isRead) return getManifest(ctx);
        if (method === "PUT") return putManifest(ctx);
        if (method === "DELETE") return deleteManifest(ctx);
        break;
      case "tags":
        if (isRead) return listTags(ctx);
        break;
      case "referrers":
        if (isRead) return referrers(ctx);
        break;
    }
    throw new DockyardError("UNSUPPORTED", `${method} is not supported on ${path}`);
  }

  function handler(req: IncomingMessage, res: ServerResponse): void {
    inFlight++;
    const started = config.log.accessLog ? process.hrtime.bigint() : 0n;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      inFlight--;
      if (config.log.accessLog) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        accessOut.write(
          JSON.stringify({
            time: new Date().toISOString(),
            remote: req.socket.remoteAddress,
            method: req.method,
            uri: req.url,
            status: res.statusCode,
            bytes: Number(res.getHeader("content-length") ?? 0),
            ms: Math.round(ms * 1000) / 1000,
            user: (req as { dockyardUser?: string }).dockyardUser,
            completed: res.writableFinished,
          }) + "\n",
        );
      }
    };
    res.on("finish", finish);
    res.on("close", finish);
    if (closing) res.setHeader("Connection", "close");
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    if (path === "/healthz") {
      sendJson(res, closing ? 503 : 200, closing ? '{"status":"stopping"}' : '{"status":"ok"}');
      return;
    }
    dispatch(req, res, path, rawQuery).catch((err) => {
      if (!(err instanceof DockyardError)) {
        const code = (err as NodeJS.ErrnoException)?.code;
        if (
          code === "ECONNRESET" ||
          code === "ERR_STREAM_PREMATURE_CLOSE" ||
          (err as Error)?.message === "aborted"
        ) {
          res.destroy();
          return;
        }
        log("error", "request failed", {
          method: req.method,
          uri: req.url,
          error: (err as Error)?.stack ?? String(err),
        });
      }
      sendError(res, err);
    });
  }

  const servers: Server[] = [];
  let purgeTimer: NodeJS.Timeout | undefined;
  if (config.uploads.purgeAfterSeconds > 0 && !config.readOnly) {
    purgeTimer = setInterval(
      () => {
        store
          .purgeUploads(config.uploads.purgeAfterSeconds * 1000)
          .then((n) => n && log("info", "purged abandoned uploads", { count: n }))
          .catch((err) => log("warn", "upload purge failed", { error: String(err) }));
      },
      Math.max(1, config.uploads.purgeIntervalSeconds) * 1000,
    );
    purgeTimer.unref();
  }

  // gc may run in another process: follow its journal so the in-memory index drops what it deleted.
  let journalMtime = 0;
  const journalTimer = setInterval(() => {
    driver
      .stat(GC_JOURNAL)
      .then(async (st) => {
        if (st.mtimeMs === journalMtime) return;
        journalMtime = st.mtimeMs;
        const j = JSON.parse((await driver.getContent(GC_JOURNAL)).toString()) as {
          entries: GcJournalEntry[];
        };
        const n = await store.applyGcJournal(j.entries ?? []);
        if (n) log("info", "applied gc journal", { dropped: n });
      })
      .catch(() => {});
  }, 2000);
  journalTimer.unref();

  async function listen(
    spec?: ListenSpec,
  ): Promise<{ server: Server; url: string; port: number; host: string }> {
    const s = spec ?? {
      listen: config.listen,
      tls: config.tls.cert ? { cert: config.tls.cert, key: config.tls.key } : undefined,
    };
    const { host, port } = splitHostPort(s.listen);
    let server: Server;
    const httpOpts = {
      keepAliveTimeout: config.http.keepAliveSeconds * 1000,
      requestTimeout: 0,
      headersTimeout: 60000,
    };
    if (s.tls) {
      let cert: Buffer, key: Buffer;
      try {
        cert = readFileSync(s.tls.cert);
        key = readFileSync(s.tls.key);
      } catch (err) {
        throw new DockyardError(
          "CONFIG_INVALID",
          `cannot read TLS certificate/key: ${(err as Error).message}`,
        );
      }
      server = createHttpsServer({ cert, key, ...httpOpts }, handler) as unknown as Server;
    } else {
      server = createHttpServer(httpOpts, handler);
    }
    server.keepAliveTimeout = config.http.keepAliveSeconds * 1000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          err.code === "EADDRINUSE"
            ? new DockyardError("CONFIG_INVALID", `cannot listen on ${s.listen}: the address is in use`)
            : err,
        ),
      );
      server.listen(port, host, () => resolve());
    });
    servers.push(server);
    const addr = server.address() as AddressInfo;
    const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    return {
      server,
      url: `${s.tls ? "https" : "http"}://${shownHost}:${addr.port}`,
      port: addr.port,
      host: addr.address,
    };
  }

  async function close(graceMs = config.http.shutdownGraceSeconds * 1000): Promise<void> {
    closing = true;
    if (purgeTimer) clearInterval(purgeTimer);
    clearInterval(journalTimer);
    const closed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of servers) s.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      for (const s of servers) s.closeIdleConnections();
    }
    for (const s of servers) s.closeAllConnections();
    await Promise.all(closed);
    for (const e of extensions) if (e.close) await e.close().catch(() => {});
  }

  return {
    config,
    store,
    driver,
    handler,
    listen,
    close,
    get inFlight() {
      return inFlight;
    },
  };
}

export { sendEmpty };
