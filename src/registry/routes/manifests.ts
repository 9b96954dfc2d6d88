import { DockyardError } from "../../image/errors.js";
import { checkReference, readBody, sendEmpty, type RequestContext } from "../http.js";
import { parseManifest, isIndex } from "../../image/manifest.js";
import { MediaType, isIndexMediaType } from "../../image/media-types.js";
import type { ManifestMeta } from "../store.js";

/**
 * Accept negotiation, as distribution does for clients that do not list the stored type: a
 * manifest list / index fetched by tag falls back to its linux/amd64 image manifest when the
 * client accepts that; an OCI manifest or index the client does not accept is "unknown" to it
 * (404), while Docker types are served anyway (there is nothing older to convert to).
 */
async function negotiate(
  ctx: RequestContext,
  meta: ManifestMeta,
  ref: string,
  accept: string,
): Promise<ManifestMeta> {
  const accepted = accept.split(",").map((a) => a.split(";")[0]!.trim());
  if (isIndexMediaType(meta.mediaType) && !ref.includes(":")) {
    try {
      const { manifest } = parseManifest(await ctx.store.manifestBytes(meta.digest), meta.mediaType);
      if (isIndex(manifest)) {
        const child = manifest.manifests.find(
          (c) =>
            c.platform?.os === "linux" &&
            c.platform.architecture === "amd64" &&
            accepted.includes(c.mediaType),
        );
        const cm = child && ctx.store.resolve(ctx.route.name, child.digest);
        if (cm) return cm;
      }
    } catch {
      // fall through
    }
  }
  if (meta.mediaType === MediaType.ociManifest || meta.mediaType === MediaType.ociIndex)
    throw new DockyardError(
      "MANIFEST_UNKNOWN",
      `${ref} is an ${meta.mediaType}, which the request's Accept header does not include`,
      { name: ctx.route.name, reference: ref },
    );
  return meta;
}

/** GET / HEAD /v2/<name>/manifests/<reference>: the stored bytes, unchanged. */
export async function getManifest(ctx: RequestContext): Promise<void> {
  const { req, res, route, store } = ctx;
  const ref = route.arg;
  let meta = store.resolve(route.name, ref);
  if (!meta) {
    // A malformed digest is 400; any other unknown reference (even one that is not a valid tag,
    // as the conformance suite's ".INVALID_MANIFEST_NAME") is 404 MANIFEST_UNKNOWN.
    if (ref.includes(":")) checkReference(ref);
    throw new DockyardError("MANIFEST_UNKNOWN", `manifest ${ref} is not known in ${route.name}`, {
      name: route.name,
      reference: ref,
    });
  }
  const accept = req.headers.accept;
  if (
    accept &&
    accept.indexOf(meta.mediaType) < 0 &&
    !/\*\/\*|application\/\*|application\/json(?!\w)/.test(accept)
  )
    meta = await negotiate(ctx, meta, ref, accept);
  await ctx.app.beforeManifestGet(route.name, ref, meta);
  const headers = {
    "Content-Type": meta.mediaType,
    "Content-Length": meta.size,
    "Docker-Content-Digest": meta.digest,
    ETag: `"${meta.digest}"`,
  };
  if (req.method === "HEAD") {
    res.writeHead(200, headers);
    res.end();
    return;
  }
  const bytes = await store.manifestBytes(meta.digest);
  res.writeHead(200, headers);
  res.end(bytes);
}

/** PUT /v2/<name>/manifests/<reference>. */
export async function putManifest(ctx: RequestContext): Promise<void> {
  const { req, res, route, store, config } = ctx;
  const ref = route.arg;
  const kind = checkReference(ref);
  let bytes: Buffer;
  try {
    bytes = await readBody(req, config.manifests.maxBytes);
  } catch (err) {
    if (err instanceof DockyardError && err.code === "SIZE_INVALID") {
      const body = JSON.stringify({ errors: [{ code: "SIZE_INVALID", message: err.message, detail: null }] });
      res.writeHead(413, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        Connection: "close",
      });
      res.end(body);
      return;
    }
    throw err;
  }
  const ct = req.headers["content-type"];
  const meta = await store.putManifest(
    route.name,
    ref,
    bytes,
    ct,
    kind === "tag" ? (tag, d, old) => ctx.app.beforeTagWrite(route.name, tag, d, old) : undefined,
  );
  const headers: Record<string, string | number> = {
    Location: `/v2/${route.name}/manifests/${meta.digest}`,
    "Docker-Content-Digest": meta.digest,
  };
  if (meta.subject) headers["OCI-Subject"] = meta.subject;
  sendEmpty(res, 201, headers);
}

/** DELETE by digest (the revision and its tags) or by tag (the tag only). */
export async function deleteManifest(ctx: RequestContext): Promise<void> {
  const { res, route, store, config } = ctx;
  if (!config.storage.delete.enabled)
    throw new DockyardError("UNSUPPORTED", "deletes are disabled (set storage.delete.enabled: true)");
  const ref = route.arg;
  const kind = checkReference(ref);
  const ok =
    kind === "digest" ? await store.deleteManifest(route.name, ref) : await store.deleteTag(route.name, ref);
  if (!ok) throw new DockyardError("MANIFEST_UNKNOWN", `manifest ${ref} is not known in ${route.name}`);
  sendEmpty(res, 202);
}
