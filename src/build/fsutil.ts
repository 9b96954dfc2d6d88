import { lstatSync, type Stats } from "node:fs";
import { lstat, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { DockyardError } from "../image/errors.js";

/**
 * Resolves `path` (absolute, as seen inside the container) to a host path under `root`,
 * following symlinks the way a chroot would: an absolute link target is relative to `root`,
 * and `..` never climbs above it (like Go's securejoin). The last component is followed too
 * unless `noFollowLast` is set. Missing components are fine (the rest is appended as is).
 */
export async function resolveInRoot(
  root: string,
  path: string,
  opts: { noFollowLast?: boolean } = {},
): Promise<string> {
  const parts = posix
    .normalize("/" + path)
    .split("/")
    .filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === ".") continue;
    if (p === "..") {
      resolved.pop();
      continue;
    }
    const host = posix.join(root, ...resolved, p);
    let st;
    try {
      st = await lstat(host);
    } catch {
      resolved.push(p, ...parts.filter((x) => x !== "."));
      // remaining components may contain "..": normalise them inside the root
      return posix.join(root, posix.normalize("/" + resolved.join("/")));
    }
    if (st.isSymbolicLink() && !(opts.noFollowLast && parts.length === 0)) {
      if (++hops > 255)
        throw new DockyardError("PATH_ESCAPE", `too many levels of symbolic links in ${path}`);
      const target = await readlink(host);
      if (target.startsWith("/")) resolved.length = 0;
      parts.unshift(...target.split("/").filter(Boolean));
      continue;
    }
    resolved.push(p);
  }
  return posix.join(root, ...resolved);
}

/** Normalises a tar entry name / relative path: no leading "/" or "./"; throws on ".." escapes. */
export function cleanRelative(name: string, what = "path"): string {
  const n = posix
    .normalize("/" + name)
    .slice(1)
    .replace(/\/$/, "");
  const raw = name.split("/");
  let depth = 0;
  for (const c of raw) {
    if (c === "..") depth--;
    else if (c && c !== ".") depth++;
    if (depth < 0) throw new DockyardError("PATH_ESCAPE", `${what} ${JSON.stringify(name)} escapes its root`);
  }
  return n;
}

/** lstat, or undefined when there is nothing there (or a parent is not a directory). */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
