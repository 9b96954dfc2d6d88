import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createGzip } from "node:zlib";
import { createHash } from "node:crypto";
import { pack } from "tar-stream";
import type { AddressInfo } from "node:net";
import { DockyardError } from "../../../src/image/errors.js";
import { digestOf, type Digest } from "../../../src/image/digest.js";
import { atomicWriteFile } from "../../../src/util/fs.js";
import type { ExtensionContext, ExtensionStorage } from "../../../src/trust/signatures/registry-extension.js";
import { SignatureExtension } from "../../../src/trust/signatures/registry-extension.js";

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function fsStorage(root: string): ExtensionStorage {
  const safe = (p: string) => {
    if (p.split("/").some((c) => c === "..")) throw new Error("bad path");
    return join(root, p);
  };
  return {
    async get(p) {
      try {
        return await readFile(safe(p));
      } catch {
        return undefined;
      }
    },
    async put(p, data) {
      await atomicWriteFile(safe(p), data, { fsync: false });
    },
    async list(prefix) {
      const dir = safe(prefix.endsWith("/") ? prefix : dirname(prefix));
      try {
        return (await readdir(dir)).filter((n) => !n.startsWith(".")).map((n) => join(prefix, n));
      } catch {
        return [];
      }
    },
    async delete(p) {
      await rm(safe(p), { force: true });
    },
  };
}

/**
 * The CNCF reference registry (distribution 2.8) behind a small front that mounts the signature
 * extension: the way the extension plugs into any registry, used until dockyard's own registry
 * mounts it. Stop with `stop()`.
 */
export interface FrontedRegistry {
  host: string;
  extension: SignatureExtension;
  ctx: ExtensionContext;
  stop(): Promise<void>;
}

function waitFor(url: string, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () =>
      fetch(url)
        .then(() => resolve())
        .catch(() =>
          Date.now() > until ? reject(new Error(`${url} did not come up`)) : setTimeout(tick, 100),
        );
    tick();
  });
}

export async function startSignatureRegistry(extension = new SignatureExtension()): Promise<FrontedRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-reg-"));
  const backPort = await freePort();
  await writeFile(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${backPort}\n`,
  );
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: "ignore",
  });
  const back = `http://127.0.0.1:${backPort}`;
  await waitFor(`${back}/v2/`);
  const frontPort = await freePort();
  const host = `127.0.0.1:${frontPort}`;
  const ctx: ExtensionContext = {
    host,
    storage: fsStorage(join(dir, "ext")),
    authorize: async () => true,
    resolve: async (repo, reference) => {
      const res = await fetch(`${back}/v2/${repo}/manifests/${reference}`, {
        method: "HEAD",
        headers: {
          Accept:
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json",
        },
      });
      if (!res.ok) return undefined;
      return {
        mediaType: res.headers.get("content-type") ?? "",
        digest: res.headers.get("docker-content-digest") as Digest,
        size: Number(res.headers.get("content-length")),
      };
    },
    getManifest: async (repo, digest) => {
      const res = await fetch(`${back}/v2/${repo}/manifests/${digest}`, {
        headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    getBlob: async (repo, digest) => {
      const res = await fetch(`${back}/v2/${repo}/blobs/${digest}`);
      return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
  };
  const manifestRe = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        if (await extension.handle(req, res, ctx)) return;
        const m = manifestRe.exec(new URL(req.url ?? "/", "http://x").pathname);
        if (m && (req.method === "GET" || req.method === "HEAD")) {
          const desc = await ctx.resolve(m[1]!, m[2]!);
          if (desc) await extension.beforeManifestGet(ctx, m[1]!, m[2]!, desc);
        }
        const up = httpRequest(
          `${back}${req.url}`,
          { method: req.method, headers: { ...req.headers, host: `127.0.0.1:${backPort}` } },
          (ur) => {
            const headers = { ...ur.headers };
            if (headers.location) headers.location = headers.location.replace(back, `http://${host}`);
            res.writeHead(ur.statusCode ?? 502, headers);
            ur.pipe(res);
          },
        );
        up.on("error", (e) => {
          res.statusCode = 502;
          res.end(String(e));
        });
        req.pipe(up);
      } catch (err) {
        const status = err instanceof DockyardError && err.code === "DENIED" ? 403 : 500;
        const body = JSON.stringify({
          errors: [{ code: status === 403 ? "DENIED" : "UNKNOWN", message: (err as Error).message }],
        });
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(body);
      }
    })();
  });
  await new Promise<void>((r) => server.listen(frontPort, "127.0.0.1", r));
  return {
    host,
    extension,
    ctx,
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A tiny single-layer OCI image layout (no daemon needed) at `dir`, tag `tag`. */
export async function makeOciLayout(
  dir: string,
  tag = "latest",
  content = "hello",
): Promise<{ manifestDigest: Digest }> {
  const p = pack();
  p.entry({ name: "hello.txt", mode: 0o644, mtime: new Date(0) }, content);
  p.finalize();
  const chunks: Buffer[] = [];
  const raw: Buffer[] = [];
  const gz = createGzip();
  p.on("data", (c: unknown) => raw.push(c as Buffer));
  p.pipe(gz);
  for await (const c of gz) chunks.push(c as Buffer);
  const layer = Buffer.concat(chunks);
  const diffId = `sha256:${createHash("sha256").update(Buffer.concat(raw)).digest("hex")}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/hello.txt"] },
      rootfs: { type: "layers", diff_ids: [diffId] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: digestOf(layer),
          size: layer.length,
        },
      ],
    }),
  );
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  for (const b of [layer, config, manifest])
    await writeFile(join(dir, "blobs", "sha256", digestOf(b).slice(7)), b);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: digestOf(manifest),
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  return { manifestDigest: digestOf(manifest) };
}

/** A throwaway GNUPGHOME with one passphrase-less key; returns its fingerprint and exported keys. */
export async function makeGnupgHome(uid = "dockyard-signatures-test@example.com"): Promise<{
  home: string;
  fingerprint: string;
  publicKey: Buffer;
  secretKeyArmored: string;
  cleanup(): Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), "dockyard-gnupg-"));
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync(
    "gpg",
    ["--batch", "--passphrase", "", "--quick-gen-key", uid, "default", "default", "never"],
    {
      env,
      stdio: "ignore",
    },
  );
  const colons = execFileSync("gpg", ["--batch", "--with-colons", "--list-secret-keys", uid], {
    env,
  }).toString();
  const fpr = colons
    .split("\n")
    .find((l) => l.startsWith("fpr:"))!
    .split(":")[9]!;
  const publicKey = execFileSync("gpg", ["--batch", "--export", fpr], { env });
  const secretKeyArmored = execFileSync(
    "gpg",
    ["--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", fpr],
    { env },
  ).toString();
  return {
    home,
    fingerprint: fpr,
    publicKey,
    secretKeyArmored,
    cleanup: async () => {
      try {
        execFileSync("gpgconf", ["--kill", "all"], { env, stdio: "ignore" });
      } catch {
        // no agent running
      }
      await rm(home, { recursive: true, force: true });
    },
  };
}
