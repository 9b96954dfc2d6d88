import { DockyardError } from "../../image/errors.js";
import { MediaType } from "../../image/media-types.js";
import { pagination, queryParams, sendJson, wireDigest, type RequestContext } from "../http.js";
import { sortedIndexAfter } from "../util.js";

function page(
  all: readonly string[],
  n: number | undefined,
  last: string | undefined,
): { items: readonly string[]; more: boolean } {
  const from = last === undefined ? 0 : sortedIndexAfter(all as string[], last);
  if (n === undefined) return { items: from === 0 ? all : all.slice(from), more: false };
  const items = all.slice(from, from + n);
  return { items, more: n > 0 && from + n < all.length };
}

/** GET /v2/<name>/tags/list[?n=&last=]: lexical order, Link rel="next" when more remain. */
export async function listTags(ctx: RequestContext): Promise<void> {
  const { route, store, res } = ctx;
  const tags = store.tags(route.name);
  if (!tags)
    throw new DockyardError("NAME_UNKNOWN", `repository ${route.name} is not known`, { name: route.name });
  const { n, last } = pagination(queryParams(ctx.rawQuery));
  if (n === undefined && last === undefined) {
    sendJson(res, 200, store.tagsListBody(route.name)!);
    return;
  }
  const { items, more } = page(tags, n, last);
  const body = `{"name":${JSON.stringify(route.name)},"tags":${JSON.stringify(items)}}`;
  const headers: Record<string, string> = {};
  if (more)
    headers.Link = `</v2/${route.name}/tags/list?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"`;
  sendJson(res, 200, body, headers);
}

let catalogCache: { store: object; version: number; body: string } | undefined;

/** GET /v2/_catalog[?n=&last=]: every repository, sorted; the whole list when n is absent. */
export async function catalog(ctx: RequestContext): Promise<void> {
  const { store, res } = ctx;
  const all = store.repositories();
  const { n, last } = pagination(queryParams(ctx.rawQuery));
  if (n === undefined && last === undefined) {
    if (catalogCache?.store !== store || catalogCache.version !== store.repoVersion)
      catalogCache = { store, version: store.repoVersion, body: `{"repositories":${JSON.stringify(all)}}` };
    sendJson(res, 200, catalogCache.body);
    return;
  }
  const { items, more } = page(all, n, last);
  const headers: Record<string, string> = {};
  if (more)
    headers.Link = `</v2/_catalog?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"`;
  sendJson(res, 200, `{"repositories":${JSON.stringify(items)}}`, headers);
}

/** GET /v2/<name>/referrers/<digest>[?artifactType=]: an OCI index of the manifests whose subject it is. */
export async function referrers(ctx: RequestContext): Promise<void> {
  const { route, store, res } = ctx;
  const digest = wireDigest(route.arg);
  const artifactType = queryParams(ctx.rawQuery).get("artifactType");
  let list = store.referrers(route.name, digest);
  const headers: Record<string, string> = {};
  if (artifactType !== null && artifactType !== "") {
    list = list.filter((d) => d.artifactType === artifactType);
    headers["OCI-Filters-Applied"] = "artifactType";
  }
  const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: list });
  res.writeHead(200, {
    "Content-Type": MediaType.ociIndex,
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
