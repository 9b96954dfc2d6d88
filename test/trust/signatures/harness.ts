import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createGzip } from "node:zlib";
import { createHash } from "node:crypto";
import { pack } from "tar-stream";
import type { AddressInfo } from "node:net";
import { digestOf, type Digest } from "../../../src/image/digest.js";
import { atomicWriteFile } from "../../../src/util/fs.js";
import {
  adaptRegistryContext,
  SignatureExtension,
  SignaturesRegistryExtension,
  type ExtensionContext,
  type ExtensionStorage,
} from "../../../src/trust/signatures/registry-extension.js";
import { createRegistry, type Registry } from "../../../src/registry/index.js";
import type { RegistryConfig } from "../../../src/registry/config.js";
import type { ExtensionContext as RegistryExtensionContext } from "../../../src/registry/extension.js";
import type { PolicyDocument } from "../../../src/trust/policy-file.js";

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

/** dockyard's registry with the signature extension, on a free 127.0.0.1 port with a temp data dir. */
export interface SignatureTestRegistry {
  host: string;
  url: string;
  extension: SignaturesRegistryExtension;
  core: SignatureExtension;
  ctx: ExtensionContext;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startSignatureRegistry(
  opts: { policy?: PolicyDocument; config?: Record<string, unknown> } = {},
): Promise<SignatureTestRegistry> {
  const data = await mkdtemp(join(tmpdir(), "dockyard-sig-reg-"));
  const extension = new SignaturesRegistryExtension(opts.policy ? { policy: opts.policy } : {});
  let registryCtx: RegistryExtensionContext | undefined;
  const capture = {
    name: "signatures-test-capture",
    init: async (c: RegistryExtensionContext) => void (registryCtx = c),
  };
  const registry = await createRegistry({
    config: {
      data,
      log: { accessLog: false, level: "off" },
      storage: { delete: { enabled: true } },
      ...(opts.config ?? {}),
    } as RegistryConfig,
    extensions: [extension, capture],
  });
  const l = await registry.listen({ listen: "127.0.0.1:0" });
  const host = `127.0.0.1:${l.port}`;
  return {
    host,
    url: l.url,
    extension,
    core: extension.core,
    ctx: adaptRegistryContext(registryCtx!),
    registry,
    stop: async () => {
      await registry.close(1000);
      await rm(data, { recursive: true, force: true });
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

/** Pushes a tiny single-layer image to `host/repo:tag` over the API; returns its manifest digest. */
export async function pushTestImage(
  host: string,
  repo: string,
  tag: string,
  content = "hello",
): Promise<Digest> {
  const { SignatureRegistryClient } = await import("../../../src/trust/signatures/registry-client.js");
  const dir = await mkdtemp(join(tmpdir(), "dockyard-sig-img-"));
  try {
    const { manifestDigest } = await makeOciLayout(dir, tag, content);
    const client = new SignatureRegistryClient(host);
    const manifest = await readFile(join(dir, "blobs", "sha256", manifestDigest.slice(7)));
    const doc = JSON.parse(manifest.toString()) as {
      config: { digest: Digest };
      layers: { digest: Digest }[];
    };
    for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
      await client.putBlob(repo, d, await readFile(join(dir, "blobs", "sha256", d.slice(7))));
    }
    await client.putManifest(repo, tag, manifest, "application/vnd.oci.image.manifest.v1+json");
    return manifestDigest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the CLI in-process; returns exit code and captured output. */
export async function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import("../../../src/cli/main.js");
  const { PassThrough } = await import("node:stream");
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (c: Buffer) => out.push(c.toString()));
  stderr.on("data", (c: Buffer) => err.push(c.toString()));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(args, { stdout, stderr, stdin: new PassThrough() });
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
