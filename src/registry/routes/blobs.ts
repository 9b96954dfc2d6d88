import { DockyardError } from "../../image/errors.js";
import { sendEmpty, wireDigest, type RequestContext } from "../http.js";

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; "unsatisfiable" or undefined (ignore). */
function parseRange(h: string, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === "" && b === "") return undefined;
  let start: number;
  let end: number;
  if (a === "") {
    const n = Number(b);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== "" && Number(b) < start) return "unsatisfiable";
  }
  if (start >= size || size === 0) return "unsatisfiable";
  return { start, end };
}

/** GET / HEAD /v2/<name>/blobs/<digest>: streams the blob (Range → 206, bad range → 416). */
export async function getBlob(ctx: RequestContext): Promise<void> {
  const { req, res, route, store } = ctx;
  const digest = wireDigest(route.arg);
  const size = await store.statBlob(route.name, digest);
  if (size === undefined)
    throw new DockyardError("BLOB_UNKNOWN", `blob ${digest} is not known in ${route.name}`, { digest });
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000",
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const rh = req.headers.range;
  if (rh) {
    const r = parseRange(rh, size);
    if (r === "unsatisfiable") {
      res.writeHead(416, {
        "Content-Range": `bytes */${size}`,
        "Content-Length": 0,
        "Docker-Content-Digest": digest,
      });
      res.end();
      return;
    }
    if (r) {
      start = r.start;
      end = r.end;
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
  }
  headers["Content-Length"] = end - start + 1;
  if (req.method === "HEAD" || size === 0) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const stream = await store.openBlob(digest, start, end);
  res.writeHead(status, headers);
  stream.on("error", () => res.destroy());
  res.on("close", () => stream.destroy());
  stream.pipe(res);
}

/** DELETE /v2/<name>/blobs/<digest>: removes the repository's link (content goes at gc). */
export async function deleteBlob(ctx: RequestContext): Promise<void> {
  const { route, store, config, res } = ctx;
  if (!config.storage.delete.enabled)
    throw new DockyardError("UNSUPPORTED", "deletes are disabled (set storage.delete.enabled: true)");
  const digest = wireDigest(route.arg);
  if (!(await store.unlinkBlob(route.name, digest)))
    throw new DockyardError("BLOB_UNKNOWN", `blob ${digest} is not known in ${route.name}`, { digest });
  sendEmpty(res, 202, { "Docker-Content-Digest": digest });
}
