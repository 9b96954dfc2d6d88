import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Readable } from "node:stream";
import {
  digestOf,
  MediaType,
  serializeManifest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from "../../src/image/index.js";
import type { ImageTarget } from "../../src/image/transports/types.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

export async function tempDir(prefix = "dockyard-move-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface RunningRegistry {
  host: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Debian's reference registry (distribution 2.8) on a free loopback port; stop() kills it by PID. */
export async function startReferenceRegistry(): Promise<RunningRegistry> {
  const dir = await tempDir("dockyard-move-reg-");
  const port = await freePort();
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log: {level: error, accesslog: {disabled: true}}",
      "storage:",
      `  filesystem: {rootdirectory: ${join(dir, "data")}}`,
      "  delete: {enabled: true}",
      `http: {addr: 127.0.0.1:${port}}`,
      "",
    ].join("\n"),
  );
  const proc = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (c) => (stderr += String(c)));
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal valid tar holding one file (ustar, via tar-stream). */
export async function tarOf(
  files: { name: string; body: string | Buffer; mode?: number }[],
): Promise<Buffer> {
  const { pack } = await import("tar-stream");
  const p = pack();
  for (const f of files) p.entry({ name: f.name, mode: f.mode ?? 0o644, mtime: new Date(0) }, f.body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface TestImage {
  manifest: Uint8Array;
  manifestDesc: Descriptor;
  config: Buffer;
  layers: { gz: Buffer; tar: Buffer }[];
}

/** Builds a small image (n gzip layers) in memory, Docker schema2 or OCI. */
export async function makeImage(
  n = 2,
  opts: { oci?: boolean; seed?: string; arch?: string } = {},
): Promise<TestImage> {
  const seed = opts.seed ?? String(Math.random());
  const layers: { gz: Buffer; tar: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const tar = await tarOf([{ name: `file${i}.txt`, body: `layer ${i} of ${seed}\n` }]);
    layers.push({ tar, gz: gzipSync(tar) });
  }
  const cfg: ImageConfig = {
    architecture: opts.arch ?? "amd64",
    os: "linux",
    created: "2024-01-01T00:00:00Z",
    config: { Cmd: ["sh"], Env: ["PATH=/bin"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => digestOf(l.tar)) },
    history: layers.map(() => ({ created: "2024-01-01T00:00:00Z", created_by: "test" })),
  };
  const config = Buffer.from(JSON.stringify(cfg));
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: opts.oci ? MediaType.ociManifest : MediaType.dockerManifest,
    config: {
      mediaType: opts.oci ? MediaType.ociConfig : MediaType.dockerConfig,
      digest: digestOf(config),
      size: config.length,
    },
    layers: layers.map((l) => ({
      mediaType: opts.oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip,
      digest: digestOf(l.gz),
      size: l.gz.length,
    })),
  };
  const manifest = serializeManifest(m);
  return {
    manifest,
    manifestDesc: { mediaType: m.mediaType!, digest: digestOf(manifest), size: manifest.length },
    config,
    layers,
  };
}

/** Writes a TestImage into any target under `ref`. */
export async function putImage(t: ImageTarget, img: TestImage, ref: string | undefined): Promise<Descriptor> {
  const m = JSON.parse(Buffer.from(img.manifest).toString()) as ImageManifest;
  await t.writeBlob(m.config, Readable.from([img.config]));
  for (let i = 0; i < img.layers.length; i++)
    await t.writeBlob(m.layers[i]!, Readable.from([img.layers[i]!.gz]));
  return t.writeManifest(ref, img.manifest, m.mediaType!, { top: true });
}

export interface AuthProxy {
  host: string;
  /** Request body bytes received for blob uploads (PUT/PATCH under /blobs/uploads/). */
  uploadedBytes: number;
  tokensIssued: number;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A loopback front for a registry that demands Docker token auth (401 + WWW-Authenticate Bearer
 * → /token with basic credentials) when `user` is given, and counts uploaded blob bytes.
 */
export async function startAuthProxy(
  upstream: string,
  opts: {
    user?: string;
    password?: string;
    basic?: boolean;
    /** Answer cross-repository mounts (`POST …/blobs/uploads/?mount=`) with this status. */
    refuseMount?: number;
    /** Serve HTTPS with this certificate instead of plain HTTP. */
    tls?: { cert: string; key: string };
  } = {},
): Promise<AuthProxy> {
  const http = await import("node:http");
  const https = await import("node:https");
  const { readFileSync } = await import("node:fs");
  const port = await freePort();
  const valid = new Set<string>();
  const state: AuthProxy = {
    host: `127.0.0.1:${port}`,
    uploadedBytes: 0,
    tokensIssued: 0,
    requests: [],
    close: async () => {
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    },
  };
  const expectBasic = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString("base64")}`;
  const scheme = opts.tls ? "https" : "http";
  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const url = new URL(req.url ?? "/", `http://${state.host}`);
    state.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (opts.refuseMount && req.method === "POST" && url.searchParams.has("mount")) {
      req.resume();
      res
        .writeHead(opts.refuseMount, { "Content-Type": "application/json" })
        .end('{"errors":[{"code":"DENIED","message":"mount refused by the test proxy"}]}');
      return;
    }
    if (url.pathname === "/token") {
      if (req.headers.authorization !== expectBasic) {
        res.writeHead(401, { "Content-Type": "application/json" }).end('{"details":"bad credentials"}');
        return;
      }
      const token = `t${Math.random().toString(36).slice(2)}`;
      valid.add(`${token}|${url.searchParams.getAll("scope").join(" ")}`);
      valid.add(token);
      state.tokensIssued++;
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (opts.user) {
      const auth = req.headers.authorization ?? "";
      const ok = opts.basic ? auth === expectBasic : auth.startsWith("Bearer ") && valid.has(auth.slice(7));
      if (!ok) {
        const challenge = opts.basic
          ? `Basic realm="test"`
          : `Bearer realm="${scheme}://${state.host}/token",service="test-registry"`;
        req.resume();
        res
          .writeHead(401, { "WWW-Authenticate": challenge, "Content-Type": "application/json" })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const counting =
      (req.method === "PUT" || req.method === "PATCH") && url.pathname.includes("/blobs/uploads/");
    const up = http.request(
      {
        host: "127.0.0.1",
        port: Number(upstream.split(":")[1]),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (ur) => {
        const headers = { ...ur.headers };
        if (typeof headers.location === "string")
          headers.location = headers.location
            .replace(`http://${upstream}`, `${scheme}://${state.host}`)
            .replace(`http://${state.host}`, `${scheme}://${state.host}`);
        res.writeHead(ur.statusCode ?? 502, headers);
        ur.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.on("data", (c: Buffer) => {
      if (counting) state.uploadedBytes += c.length;
    });
    req.pipe(up);
  };
  const server = opts.tls
    ? https.createServer({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) }, handler)
    : http.createServer(handler);
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return state;
}

export interface RawEntry {
  name: string;
  type?: "0" | "1" | "2" | "3" | "5";
  body?: string;
  /** Declared size when it should differ from the body (hostile headers). */
  size?: number;
  linkname?: string;
}

/** A tar built byte by byte (no library sanitizing names), for hostile-archive tests. */
export function rawTar(entries: RawEntry[], opts: { end?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, "utf8");
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write((e.size ?? body.length).toString(8).padStart(11, "0") + "\0", 124);
    h.write("00000000000\0", 136);
    h.write("        ", 148);
    h.write(e.type ?? "0", 156);
    if (e.linkname) h.write(e.linkname, 157, 100);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, body);
    if (body.length % 512) blocks.push(Buffer.alloc(512 - (body.length % 512)));
  }
  if (opts.end !== false) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Starts dockyard's own registry (`dockyard registry serve`) on a free loopback port. */
export async function startDockyardRegistry(): Promise<RunningRegistry> {
  const dir = await tempDir("dockyard-move-dreg-");
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      join(process.cwd(), "bin", "dockyard"),
      "registry",
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      "--data",
      join(dir, "data"),
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DOCKYARD_HOME: join(dir, "home") } },
  );
  let stderr = "";
  proc.stderr?.on("data", (c) => (stderr += String(c)));
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      if (r.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`dockyard registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
