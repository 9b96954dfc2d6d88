import { createHash } from "node:crypto";
import { DockyardError } from "../image/errors.js";
import { MANIFEST_MEDIA_TYPES } from "../image/media-types.js";
import type { ImageReference } from "../image/reference.js";
import { httpCall } from "./http-client.js";

/**
 * Just enough of the registry API for trust: resolve a tag (or digest) to the manifest's exact
 * bytes, digest and size, with anonymous or basic-credential token auth. Loopback registries are
 * spoken to over plain HTTP (as docker treats 127.0.0.0/8 as insecure), others over HTTPS.
 * (When the move room's registry client lands this should delegate to it.)
 */
export interface ResolvedManifest {
  digest: string;
  size: number;
  mediaType: string;
  bytes: Buffer;
}

export interface RegistryAccess {
  /** "user:password" (DOCKYARD_REGISTRY_AUTH). */
  auth?: string;
  /** Force http:// or https://. */
  scheme?: "http" | "https";
  caFile?: string;
}

export function registryBase(host: string, access: RegistryAccess = {}): string {
  const hostname = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const loopback = hostname === "localhost" || /^127\./.test(hostname) || hostname === "::1";
  const scheme =
    access.scheme ??
    (process.env.DOCKYARD_REGISTRY_SCHEME as "http" | "https" | undefined) ??
    (loopback ? "http" : "https");
  return `${scheme}://${host === "docker.io" ? "registry-1.docker.io" : host}`;
}

async function token(challenge: string, repo: string, access: RegistryAccess): Promise<string | undefined> {
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  if (!params.realm) return undefined;
  const u = new URL(params.realm);
  if (params.service) u.searchParams.set("service", params.service);
  u.searchParams.set("scope", `repository:${repo}:pull`);
  const headers: Record<string, string> = {};
  if (access.auth) headers.authorization = `Basic ${Buffer.from(access.auth).toString("base64")}`;
  const r = await httpCall(u.toString(), { headers, caFile: access.caFile });
  if (r.status !== 200) return undefined;
  const j = JSON.parse(r.body.toString("utf8")) as { token?: string; access_token?: string };
  return j.token ?? j.access_token;
}

export async function fetchManifest(
  ref: ImageReference,
  reference: string,
  access: RegistryAccess = {},
): Promise<ResolvedManifest> {
  const url = `${registryBase(ref.registry, access)}/v2/${ref.repository}/manifests/${reference}`;
  const headers: Record<string, string> = { accept: MANIFEST_MEDIA_TYPES.join(", ") };
  let r = await httpCall(url, { headers, caFile: access.caFile, maxBytes: 4 * 1024 * 1024 });
  if (r.status === 401) {
    const ch = String(r.headers["www-authenticate"] ?? "");
    if (/^bearer/i.test(ch)) {
      const t = await token(ch, ref.repository, access);
      if (t) headers.authorization = `Bearer ${t}`;
    } else if (access.auth) {
      headers.authorization = `Basic ${Buffer.from(access.auth).toString("base64")}`;
    }
    r = await httpCall(url, { headers, caFile: access.caFile, maxBytes: 4 * 1024 * 1024 });
  }
  if (r.status === 404)
    throw new DockyardError(
      "MANIFEST_UNKNOWN",
      `${ref.registry}/${ref.repository}:${reference} is not in the registry`,
    );
  if (r.status === 401 || r.status === 403)
    throw new DockyardError(
      "UNAUTHORIZED",
      `the registry refused access to ${ref.repository} (HTTP ${r.status}); set DOCKYARD_REGISTRY_AUTH=user:password`,
    );
  if (r.status !== 200)
    throw new DockyardError("NETWORK", `the registry answered HTTP ${r.status} for ${url}`);
  const digest = `sha256:${createHash("sha256").update(r.body).digest("hex")}`;
  const mediaType = String(r.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim();
  return { digest, size: r.body.length, mediaType, bytes: r.body };
}
