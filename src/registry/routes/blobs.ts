import type { ServerResponse } from "node:http";
import { DockyardError } from "../../image/errors.js";
import { blobPath } from "../store.js";
import type { RandomReader } from "../storage/driver.js";
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

const CHUNK = 1024 * 1024;
const IN_FLIGHT = 4;
/** Recycled read buffers: fresh 1 MiB buffers per chunk cost page faults and kernel zeroing. */
const bufferPool: Buffer[] = [];

/**
 * Sends [start, end] of a blob: reads 1 MiB at a time into pooled buffers, keeps up to 4 chunks
 * queued on the socket (so disk reads overlap with sending), and returns each buffer to the pool
 * once the socket has taken it.
 */
async function pump(rr: RandomReader, res: ServerResponse, start: number, end: number): Promise<void> {
  let pos = start;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let closed = false;
  const onClose = (): void => {
    closed = true;
    wake?.();
  };
  res.on("close", onClose);
  try {
    while (pos <= end && !closed) {
      while (inFlight >= IN_FLIGHT && !closed) await new Promise<void>((r) => (wake = r));
      if (closed) break;
      const buf = bufferPool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
      const len = Math.min(CHUNK, end + 1 - pos);
      let n: number;
      try {
        n = await rr.read(buf, len, pos);
      } catch (err) {
        bufferPool.push(buf);
        throw err;
      }
      if (n === 0) {
        bufferPool.push(buf);
        res.destroy(new Error("blob shorter than its size"));
        return;
      }
      pos += n;
      inFlight++;
      res.write(n < CHUNK ? buf.subarray(0, n) : buf, () => {
        inFlight--;
        if (bufferPool.length < 64) bufferPool.push(buf);
        const w = wake;
        wake = undefined;
        w?.();
      });
    }
    if (!closed) res.end();
  } catch {
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
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
  if (store.driver.openRandom) {
    const rr = await store.driver.openRandom(blobPath(digest));
    res.writeHead(status, headers);
    await pump(rr, res, start, end).finally(() => rr.close());
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
