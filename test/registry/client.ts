import { createHash } from "node:crypto";
import { connect } from "node:net";
import { createRegistry, type Registry } from "../../src/registry/index.js";
import type { RegistryConfig } from "../../src/registry/config.js";
import { tempDir, removeDir } from "./helpers.js";

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export interface TestRegistry {
  reg: Registry;
  url: string;
  port: number;
  data: string;
  close(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** An in-process registry on a free 127.0.0.1 port with a temp data dir (removed on close). */
export async function startRegistry(
  config: DeepPartial<RegistryConfig> = {},
  opts: {
    data?: string;
    keepData?: boolean;
    extensions?: Parameters<typeof createRegistry>[0]["extensions"];
  } = {},
): Promise<TestRegistry> {
  const data = opts.data ?? (await tempDir());
  const reg = await createRegistry({
    config: {
      data,
      log: { accessLog: false, level: "off" },
      storage: { delete: { enabled: true } },
      ...config,
    } as RegistryConfig,
    extensions: opts.extensions,
  });
  const l = await reg.listen({ listen: "127.0.0.1:0" });
  return {
    reg,
    url: l.url,
    port: l.port,
    data,
    async close() {
      await reg.close(1000);
      if (!opts.keepData && !opts.data) await removeDir(data);
    },
  };
}

export async function errCode(res: Response): Promise<string> {
  const j = (await res.json()) as { errors?: { code: string }[] };
  return j.errors?.[0]?.code ?? "";
}

/** Monolithic push: POST then PUT ?digest=. */
export async function pushBlob(url: string, repo: string, data: Uint8Array | string): Promise<string> {
  const digest = sha256(data);
  const r1 = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (r1.status !== 202) throw new Error(`POST ${r1.status}`);
  const loc = r1.headers.get("location")!;
  const r2 = await fetch(`${url}${loc}${loc.includes("?") ? "&" : "?"}digest=${digest}`, {
    method: "PUT",
    body: typeof data === "string" ? data : Buffer.from(data),
    headers: { "Content-Type": "application/octet-stream" },
  });
  if (r2.status !== 201) throw new Error(`PUT ${r2.status} ${await r2.text()}`);
  return digest;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** Pushes config + one layer and an image manifest; returns the manifest bytes and digest. */
export async function pushImage(
  url: string,
  repo: string,
  tag: string,
  opts: {
    mediaType?: string;
    seed?: string;
    subject?: { mediaType: string; digest: string; size: number };
    artifactType?: string;
    annotations?: Record<string, string>;
  } = {},
): Promise<{ digest: string; bytes: Buffer; config: string; layer: string }> {
  const seed = opts.seed ?? tag;
  const configBytes = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    seed,
  });
  const layerBytes = `layer of ${repo}:${seed}`;
  const config = await pushBlob(url, repo, configBytes);
  const layer = await pushBlob(url, repo, layerBytes);
  const mediaType = opts.mediaType ?? OCI_MANIFEST;
  const docker = mediaType === DOCKER_MANIFEST;
  const m: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: docker
        ? "application/vnd.docker.container.image.v1+json"
        : "application/vnd.oci.image.config.v1+json",
      digest: config,
      size: Buffer.byteLength(configBytes),
    },
    layers: [
      {
        mediaType: docker
          ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
          : "application/vnd.oci.image.layer.v1.tar",
        digest: layer,
        size: Buffer.byteLength(layerBytes),
      },
    ],
  };
  if (opts.artifactType) m.artifactType = opts.artifactType;
  if (opts.subject) m.subject = opts.subject;
  if (opts.annotations) m.annotations = opts.annotations;
  const bytes = Buffer.from(JSON.stringify(m, null, 2));
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body: bytes,
    headers: { "Content-Type": mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest PUT ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), bytes, config, layer };
}

/** A raw HTTP/1.1 exchange on a fresh socket: send `head` + `body` (optionally not ending), read the reply. */
export function rawRequest(
  port: number,
  head: string,
  body: Buffer | string = "",
  opts: { hangUp?: boolean; waitMs?: number } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let buf = "";
    s.on("data", (c) => (buf += c.toString("latin1")));
    s.on("error", (e) => {
      if (opts.hangUp) resolve({ status: 0, text: buf });
      else reject(e);
    });
    s.on("close", () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      resolve({ status: m ? Number(m[1]) : 0, text: buf });
    });
    s.on("connect", () => {
      s.write(head.replace(/\n/g, "\r\n") + "\r\n");
      if (body.length) s.write(body);
      if (opts.hangUp) setTimeout(() => s.destroy(), opts.waitMs ?? 100);
      else setTimeout(() => s.end(), opts.waitMs ?? 300);
    });
  });
}
