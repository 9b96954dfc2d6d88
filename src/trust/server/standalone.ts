import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttps } from "node:https";
import { readFileSync } from "node:fs";
import { createNotaryHandler } from "./http.js";
import { NotaryService } from "./service.js";
import type { TrustStorage } from "./storage.js";

export interface TrustServeOptions {
  storage: TrustStorage;
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  log?: (line: string) => void;
  /** Other requests (e.g. the registry app) go here; without it they get 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** A trust server on its own listener (HTTPS with a cert and key), answering /v2/ pings too. */
export async function serveTrust(
  opts: TrustServeOptions,
): Promise<{ server: Server; port: number; service: NotaryService }> {
  const service = new NotaryService(opts.storage);
  const handle = createNotaryHandler({ service, log: opts.log });
  const app = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).then(
      (handled) => {
        if (handled) return;
        if (opts.fallback) return opts.fallback(req, res);
        const path = (req.url ?? "/").split("?")[0];
        const body = Buffer.from(
          path === "/v2/" || path === "/v2"
            ? "{}"
            : '{"errors":[{"code":"NOT_FOUND","message":"not found"}]}',
        );
        res.writeHead(path === "/v2/" || path === "/v2" ? 200 : 404, {
          "content-type": "application/json",
          "content-length": body.length,
          "docker-distribution-api-version": "registry/2.0",
        });
        res.end(body);
      },
      (e) => {
        opts.log?.(`trust: ${String(e)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  };
  const server: Server =
    opts.tlsCert && opts.tlsKey
      ? (createHttps(
          { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) },
          app,
        ) as unknown as Server)
      : createHttp(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : opts.port, service };
}
