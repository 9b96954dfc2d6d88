// The builder's own content-addressed storage under $DOCKYARD_HOME/build:
//   blobs/sha256/<hex>   layer blobs (gzip) the builder made
//   layers/<diffid-hex>  each layer extracted once, in overlay form (a lowerdir), by diffID
//   steps/<key-hex>.json step cache: key = parent + instruction (expanded) + inputs → layer + time
//   statcache/           context stat caches;  mounts/  RUN --mount=type=cache dirs;  tmp/
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { mkdir, rename, rm, stat, mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { atomicWriteFile } from "../util/fs.js";
import type { Digest } from "../image/digest.js";
import { extractLayer } from "./snapshot.js";
import { registerTempDir, tempPrefix } from "./cleanup.js";

export interface LayerRecord {
  mediaType: string;
  digest: Digest;
  size: number;
  diffID: Digest;
}

export interface StepRecord {
  v: 1;
  /** Absent when the step changed no file (an empty layer, history empty_layer). */
  layer?: LayerRecord;
  created: string;
}

export function cacheKey(parts: unknown[]): string {
  return "sha256:" + createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

const hex = (d: string) => d.slice(d.indexOf(":") + 1);

export class BuildStore {
  readonly blobs: string;
  readonly layers: string;
  readonly steps: string;
  readonly statcache: string;
  readonly mounts: string;
  readonly tmp: string;
  private extracting = new Map<string, Promise<string>>();

  constructor(readonly root: string) {
    this.blobs = join(root, "blobs", "sha256");
    this.layers = join(root, "layers");
    this.steps = join(root, "steps");
    this.statcache = join(root, "statcache");
    this.mounts = join(root, "mounts");
    this.tmp = join(root, "tmp");
  }

  async init(): Promise<void> {
    await Promise.all(
      [this.blobs, this.layers, this.steps, this.statcache, this.mounts, this.tmp].map((d) =>
        mkdir(d, { recursive: true }),
      ),
    );
  }

  blobPath(digest: string): string {
    return join(this.blobs, hex(digest));
  }

  layerDir(diffID: string): string {
    return join(this.layers, hex(diffID));
  }

  private readonly opaqueKnown = new Map<string, Set<string> | null>();

  /**
   * The opaque directories of an extracted layer dir, from the list kept beside it (written when
   * the dir was made), so a COPY's lookups need not read xattrs; undefined when there is none.
   */
  opaqueDirsOf(layerDir: string): Set<string> | undefined {
    let known = this.opaqueKnown.get(layerDir);
    if (known === undefined) {
      try {
        const list = JSON.parse(readFileSync(`${layerDir}.opaque.json`, "utf8")) as unknown;
        known = Array.isArray(list) && list.every((x) => typeof x === "string") ? new Set(list) : null;
      } catch {
        known = null;
      }
      this.opaqueKnown.set(layerDir, known);
    }
    return known ?? undefined;
  }

  /** Keeps the list of a layer dir's opaque directories beside it (before the dir is in place). */
  async recordOpaqueDirs(layerDir: string, opaque: Iterable<string>): Promise<void> {
    await mkdir(this.layers, { recursive: true });
    await atomicWriteFile(`${layerDir}.opaque.json`, JSON.stringify([...opaque]), { fsync: false });
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /** Moves a finished blob file into the store under its digest. */
  async adoptBlob(path: string, digest: string): Promise<void> {
    await rename(path, this.blobPath(digest));
  }

  openBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  /**
   * The step record of `key`, when its layer blob is still there. Read synchronously: a record is
   * a few hundred bytes, and a no-change build looks up every step one after the other (each key
   * needs the one before), where a round trip through the thread pool per file would cost more
   * than the read.
   */
  async getStep(key: string): Promise<StepRecord | undefined> {
    try {
      const r = JSON.parse(readFileSync(join(this.steps, hex(key) + ".json"), "utf8")) as StepRecord;
      if (r.v !== 1) return undefined;
      if (r.layer && !statSync(this.blobPath(r.layer.digest), { throwIfNoEntry: false })?.isFile())
        return undefined;
      return r;
    } catch {
      return undefined;
    }
  }

  async putStep(key: string, rec: StepRecord): Promise<void> {
    await atomicWriteFile(join(this.steps, hex(key) + ".json"), JSON.stringify(rec), { fsync: false });
  }

  /** A new temp dir under tmp/; removed on Ctrl-C too (the caller removes it when done). */
  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(this.tmp, tempPrefix(prefix.replace(/-$/, ""), this.tmp)));
    registerTempDir(dir);
    return dir;
  }

  /**
   * The layer's extracted (overlay lowerdir) directory, extracting it once from `open()` (a
   * compressed or plain tar stream) when it is not there yet. Concurrent callers share one extraction.
   */
  async ensureLayerDir(layer: LayerRecord, open: () => Promise<Readable>): Promise<string> {
    const dir = this.layerDir(layer.diffID);
    try {
      await stat(dir);
      return dir;
    } catch {
      /* extract */
    }
    let p = this.extracting.get(layer.diffID);
    if (!p) {
      p = (async () => {
        const tmp = await this.tempDir("extract-");
        try {
          const raw = await open();
          const gz = layer.mediaType.endsWith("gzip") || layer.mediaType.endsWith("tar.gzip");
          const input = gz ? raw.pipe(createGunzip()) : raw;
          raw.on("error", (e) => input.destroy(e));
          const { opaque } = await extractLayer(input, join(tmp, "l"));
          await this.recordOpaqueDirs(dir, opaque);
          await rename(join(tmp, "l"), dir).catch(async (err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
          });
          return dir;
        } finally {
          await rm(tmp, { recursive: true, force: true });
          this.extracting.delete(layer.diffID);
        }
      })();
      this.extracting.set(layer.diffID, p);
    }
    return p;
  }

  /** Removes the step cache (and, with `all`, layers and blobs): `dockyard build --prune`. */
  async prune(all = false): Promise<void> {
    await rm(this.steps, { recursive: true, force: true });
    if (all) {
      for (const d of [this.layers, this.blobs, this.mounts, this.statcache])
        await rm(d, { recursive: true, force: true });
    }
    await this.init();
  }

  /** Leftover temp dirs (for tests: a build must leave none). */
  async tempEntries(): Promise<string[]> {
    try {
      return await readdir(this.tmp);
    } catch {
      return [];
    }
  }
}
