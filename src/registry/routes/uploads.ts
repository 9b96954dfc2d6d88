import type { IncomingMessage } from "node:http";
import { DockyardError } from "../../image/errors.js";
import { queryParams, checkName, sendEmpty, wireDigest, type RequestContext } from "../http.js";

function uploadHeaders(ctx: RequestContext, id: string, offset: number): Record<string, string | number> {
  const h: Record<string, string | number> = {
    Location: `/v2/${ctx.route.name}/blobs/uploads/${id}`,
    Range: `0-${offset > 0 ? offset - 1 : 0}`,
    "Docker-Upload-UUID": id,
  };
  if (ctx.config.uploads.chunkMinLength > 0) h["OCI-Chunk-Min-Length"] = ctx.config.uploads.chunkMinLength;
  return h;
}

/** Content-Range of a chunk: `a-b` (spec), also `bytes=a-b` and `bytes a-b/total`. */
function chunkRange(req: IncomingMessage): { start: number; length: number } | undefined {
  const h = req.headers["content-range"];
  if (h === undefined) return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim());
  if (!m) throw new DockyardError("RANGE_INVALID", `Content-Range ${JSON.stringify(h)} must be start-end`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new DockyardError("RANGE_INVALID", `Content-Range ${h} ends before it starts`);
  return { start, length: end - start + 1 };
}

function contentLength(req: IncomingMessage): number | undefined {
  const cl = req.headers["content-length"];
  if (cl === undefined) return undefined;
  const n = Number(cl);
  if (!Number.isSafeInteger(n) || n < 0) throw new DockyardError("SIZE_INVALID", `bad Content-Length ${cl}`);
  return n;
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers["content-length"];
  return (cl !== undefined && cl !== "0") || req.headers["transfer-encoding"] !== undefined;
}

function created(ctx: RequestContext, digest: string): void {
  sendEmpty(ctx.res, 201, {
    Location: `/v2/${ctx.route.name}/blobs/${digest}`,
    "Docker-Content-Digest": digest,
  });
}

/** POST /v2/<name>/blobs/uploads/: new session, monolithic `?digest=`, or mount `?mount=[&from=]`. */
export async function startUpload(ctx: RequestContext): Promise<void> {
  const { req, route, store } = ctx;
  const q = queryParams(ctx.rawQuery);
  const mount = q.get("mount");
  if (mount !== null) {
    const digest = wireDigest(mount, "mount");
    const from = q.get("from");
    let sources: string[];
    if (from !== null && from !== "") {
      checkName(from);
      sources = store.isBlobLinked(from, digest) && (await ctx.app.canPull(ctx.identity, from)) ? [from] : [];
    } else {
      // OCI 1.1 mount without `from`: any repository this identity may pull that has the blob.
      sources = [];
      for (const r of store.reposWithBlob(digest)) {
        if (await ctx.app.canPull(ctx.identity, r)) {
          sources.push(r);
          break;
        }
      }
    }
    if (sources.length && (await store.linkBlob(route.name, digest))) {
      created(ctx, digest);
      return;
    }
    // Not mountable: fall through to a plain upload session (202).
  }
  const digestParam = q.get("digest");
  if (digestParam !== null) {
    const digest = wireDigest(digestParam);
    const s = await store.startUpload(route.name);
    try {
      await store.finishUpload(route.name, s.id, digest, req, { length: contentLength(req) });
    } catch (err) {
      await store.cancelUpload(route.name, s.id).catch(() => {});
      throw err;
    }
    created(ctx, digest);
    return;
  }
  const s = await store.startUpload(route.name);
  if (hasBody(req)) req.resume();
  sendEmpty(ctx.res, 202, uploadHeaders(ctx, s.id, 0));
}

/** GET /v2/<name>/blobs/uploads/<id>: status (204 with Range). */
export async function uploadStatus(ctx: RequestContext): Promise<void> {
  const s = await ctx.store.uploadStatus(ctx.route.name, ctx.route.arg);
  sendEmpty(ctx.res, 204, uploadHeaders(ctx, s.id, s.offset));
}

/** PATCH: a chunk (Content-Range) or a streamed chunk (no Content-Range). */
export async function patchUpload(ctx: RequestContext): Promise<void> {
  const { req, route, store } = ctx;
  const range = chunkRange(req);
  const cl = contentLength(req);
  if (range && cl !== undefined && cl !== range.length)
    throw new DockyardError(
      "RANGE_INVALID",
      `Content-Range covers ${range.length} bytes but Content-Length is ${cl}`,
    );
  const s = await store.appendUpload(route.name, route.arg, req, {
    start: range?.start,
    length: range?.length ?? cl,
  });
  sendEmpty(ctx.res, 202, uploadHeaders(ctx, s.id, s.offset));
}

/** PUT ?digest=: completes the upload, with an optional last chunk. */
export async function putUpload(ctx: RequestContext): Promise<void> {
  const { req, route, store } = ctx;
  const q = queryParams(ctx.rawQuery);
  const digest = wireDigest(q.get("digest"));
  const range = chunkRange(req);
  const cl = contentLength(req);
  const body = hasBody(req) ? req : undefined;
  await store.finishUpload(route.name, route.arg, digest, body, {
    start: range?.start,
    length: range?.length ?? cl,
  });
  created(ctx, digest);
}

/** DELETE: cancels the session. */
export async function cancelUpload(ctx: RequestContext): Promise<void> {
  await ctx.store.cancelUpload(ctx.route.name, ctx.route.arg);
  sendEmpty(ctx.res, 204);
}
