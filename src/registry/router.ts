/** API areas of the distribution API; the router maps a path to one of them. */
export type Area = "base" | "catalog" | "blobs" | "uploads" | "upload" | "manifests" | "tags" | "referrers";

export interface Route {
  area: Area;
  /** Repository name ("" for base/catalog). */
  name: string;
  /** Digest, upload id, manifest reference; "" when none. */
  arg: string;
}

function dec(s: string): string {
  if (s.indexOf("%") < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Parses `/v2/…` paths by their trailing keywords (the name may itself contain slashes, so the
 * route is found from the right, as distribution's router does):
 *   /v2/                                  base
 *   /v2/_catalog                          catalog
 *   /v2/<name>/blobs/uploads/             uploads   (POST)
 *   /v2/<name>/blobs/uploads/<id>         upload    (GET PATCH PUT DELETE)
 *   /v2/<name>/blobs/<digest>             blobs
 *   /v2/<name>/manifests/<reference>      manifests
 *   /v2/<name>/tags/list                  tags
 *   /v2/<name>/referrers/<digest>         referrers
 * Returns undefined for anything else.
 */
export function parseRoute(path: string): Route | undefined {
  if (path === "/v2/" || path === "/v2") return { area: "base", name: "", arg: "" };
  if (!path.startsWith("/v2/")) return undefined;
  const rest = path.slice(4);
  if (rest === "_catalog" || rest === "_catalog/") return { area: "catalog", name: "", arg: "" };
  const segs = rest.split("/");
  const n = segs.length;
  if (n < 3) return undefined;
  const last = segs[n - 1]!;
  const prev = segs[n - 2]!;
  if (prev === "tags" && last === "list")
    return { area: "tags", name: dec(segs.slice(0, n - 2).join("/")), arg: "" };
  if (prev === "manifests")
    return { area: "manifests", name: dec(segs.slice(0, n - 2).join("/")), arg: dec(last) };
  if (prev === "referrers")
    return { area: "referrers", name: dec(segs.slice(0, n - 2).join("/")), arg: dec(last) };
  if (n >= 4 && segs[n - 3] === "blobs" && prev === "uploads") {
    const name = dec(segs.slice(0, n - 3).join("/"));
    return last === "" ? { area: "uploads", name, arg: "" } : { area: "upload", name, arg: dec(last) };
  }
  if (prev === "blobs") {
    if (last === "uploads") return { area: "uploads", name: dec(segs.slice(0, n - 2).join("/")), arg: "" };
    return { area: "blobs", name: dec(segs.slice(0, n - 2).join("/")), arg: dec(last) };
  }
  return undefined;
}
