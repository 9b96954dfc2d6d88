import { randomBytes } from "node:crypto";
import { parseManifest, isIndex } from "../image/manifest.js";
import { isPathNotFound, type StorageDriver } from "./storage/driver.js";
import { RegistryStore, blobPath, type GcJournalEntry } from "./store.js";

/**
 * Garbage collection, safe while the registry keeps serving pushes.
 *
 * Mark: every manifest revision of every repository (with `deleteUntagged`, only those reachable
 * from a tag — through index children and referrers — or younger than the grace period) marks
 * itself, its config and its layers.
 * Sweep: an unmarked blob is deleted only when its content file is older than the run's start
 * minus `graceMs`. The write path touches a blob whenever it uploads, links (mount) or references
 * it (manifest PUT), so anything used during the run is "young" and kept. To close the race with a
 * write that happens at the moment of deletion, a blob is first moved aside (atomic rename), its
 * modification time is checked once more, and it is moved back if it was touched meanwhile; a
 * write that finds it moved aside fails cleanly (mount → 202 upload, manifest → MANIFEST_BLOB_UNKNOWN,
 * upload → writes it anew). Deleted entries are written to `gc/journal.json`, which a running
 * server polls to drop them from its in-memory index.
 */
export interface GcOptions {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  /** Content touched within this many ms before the run started is never deleted (default 1 h). */
  graceMs?: number;
  log?: (line: string) => void;
}

export interface GcReport {
  repositories: number;
  manifests: number;
  markedBlobs: number;
  deletedBlobs: number;
  deletedBytes: number;
  deletedManifests: number;
  /** Blob directories without their data file (a writer killed between mkdir and rename). */
  removedEmptyDirs: number;
  keptYoung: number;
  dryRun: boolean;
  /** Set when the run stopped before deleting anything (and why). */
  aborted?: string;
}

export const GC_JOURNAL = "gc/journal.json";
/** Added to the grace period (filesystem timestamp granularity). */
export const CLOCK_MARGIN_MS = 1000;

export async function runGc(driver: StorageDriver, opts: GcOptions = {}): Promise<GcReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  // File timestamps come from the kernel's coarse clock (a tick behind real time): a margin keeps
  // content written just after the run started from looking older than the start.
  const threshold = started - (opts.graceMs ?? 3600_000) - CLOCK_MARGIN_MS;
  const dry = opts.dryRun === true;
  const store = await RegistryStore.open(driver, { manifestCacheBytes: 0 });
  const report: GcReport = {
    repositories: 0,
    manifests: 0,
    markedBlobs: 0,
    deletedBlobs: 0,
    deletedBytes: 0,
    deletedManifests: 0,
    removedEmptyDirs: 0,
    keptYoung: 0,
    dryRun: dry,
  };
  const journal: GcJournalEntry[] = [];
  const marked = new Set<string>();
  const linksOf = new Map<string, string[]>();

  /** Touched (mtime) or renamed into place (ctime) since the threshold; `mtimeOnly` after our own rename. */
  const isYoung = async (path: string, mtimeOnly = false): Promise<boolean> => {
    try {
      const st = await driver.stat(path);
      return Math.max(st.mtimeMs, mtimeOnly ? 0 : (st.ctimeMs ?? 0)) >= threshold;
    } catch (err) {
      if (isPathNotFound(err)) return false;
      throw err;
    }
  };

  /**
   * Removes a blob directory that has no data file and is older than the grace period. It is
   * moved aside first, so a writer renaming its data in at that moment either lands before the
   * move (and its blob is put back) or after it (and re-creates the directory itself).
   */
  const removeAbandonedBlobDir = async (dir: string): Promise<boolean> => {
    // mtime only: a writer's temp file in the directory bumps it; ctime can't be set back by tests or tools.
    if (
      (await isYoung(dir, true)) ||
      !(await driver.stat(dir).then(
        () => true,
        () => false,
      ))
    )
      return false;
    if (dry) return true;
    const aside = `blobs/.trash-${randomBytes(6).toString("hex")}`;
    try {
      await driver.move(dir, aside);
    } catch (err) {
      if (isPathNotFound(err)) return false;
      throw err;
    }
    if ((await driver.list(aside)).includes("data")) {
      await driver.move(aside, dir).catch(() => driver.delete(aside));
      return false;
    }
    await driver.delete(aside);
    return true;
  };

  for (const repo of store.repositories()) {
    report.repositories++;
    for (const d of store.layers(repo)) {
      const l = linksOf.get(d);
      if (l) l.push(repo);
      else linksOf.set(d, [repo]);
    }
    const metas = store.manifests(repo);
    let keep = new Set(metas.map((m) => m.digest as string));
    const children = new Map<string, string[]>();
    const parsed = new Map<string, string[]>();
    for (const m of metas) {
      let bytes: Buffer;
      try {
        bytes = await store.manifestBytes(m.digest);
      } catch {
        // Without its bytes we cannot know what it references: keep everything this run.
        log(`manifest ${repo}@${m.digest} is unreadable: nothing will be deleted this run`);
        return { ...report, aborted: `manifest ${repo}@${m.digest} is unreadable; nothing was deleted` };
      }
      let refs: string[] = [];
      try {
        const { manifest } = parseManifest(bytes, m.mediaType);
        if (isIndex(manifest))
          children.set(
            m.digest,
            manifest.manifests.map((c) => c.digest),
          );
        else refs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      } catch {
        // an unparseable stored manifest keeps what it can: itself
      }
      parsed.set(m.digest, refs);
    }
    if (opts.deleteUntagged) {
      // Reachable: tagged, children of reachable indexes, referrers of reachable manifests.
      keep = new Set();
      const stack: string[] = [...new Set((store.tags(repo) ?? []).map((t) => store.tagDigest(repo, t)!))];
      const bySubject = new Map<string, string[]>();
      for (const m of metas)
        if (m.subject) bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), m.digest]);
      while (stack.length) {
        const d = stack.pop()!;
        if (keep.has(d)) continue;
        keep.add(d);
        stack.push(...(children.get(d) ?? []), ...(bySubject.get(d) ?? []));
      }
      for (const m of metas) {
        if (keep.has(m.digest)) continue;
        const link = RegistryStore.manifestLinkPath(repo, m.digest);
        if (await isYoung(link)) {
          keep.add(m.digest);
          report.keptYoung++;
          continue;
        }
        report.deletedManifests++;
        log(`${dry ? "would delete" : "delete"} manifest ${repo}@${m.digest}`);
        if (!dry) {
          // Move aside, re-check, then delete (a concurrent tag PUT touches or rewrites the link).
          const aside = `${link}.gc-${randomBytes(4).toString("hex")}`;
          const tmp = aside.replace(/\/([^/]+)$/, "/.$1");
          try {
            await driver.move(link, tmp);
          } catch (err) {
            if (isPathNotFound(err)) continue;
            throw err;
          }
          if (await isYoung(tmp, true)) {
            await driver.move(tmp, link).catch(() => {});
            keep.add(m.digest);
            report.deletedManifests--;
            report.keptYoung++;
            continue;
          }
          await driver.delete(tmp);
          journal.push({ kind: "manifest", repo, digest: m.digest });
        }
      }
    }
    for (const d of keep) {
      report.manifests++;
      marked.add(d);
      for (const r of parsed.get(d) ?? []) marked.add(r);
    }
  }
  report.markedBlobs = marked.size;
  log(`marked ${marked.size} blobs in ${report.repositories} repositories`);

  // Sweep every blob in storage.
  for (const alg of await driver.list("blobs")) {
    for (const prefix of await driver.list(`blobs/${alg}`)) {
      for (const hex of await driver.list(`blobs/${alg}/${prefix}`)) {
        const digest = `${alg}:${hex}`;
        if (marked.has(digest)) continue;
        let path: string;
        try {
          path = blobPath(digest);
        } catch {
          continue;
        }
        let size = 0;
        try {
          const st = await driver.stat(path);
          size = st.size;
          if (Math.max(st.mtimeMs, st.ctimeMs ?? 0) >= threshold) {
            report.keptYoung++;
            continue;
          }
        } catch (err) {
          if (!isPathNotFound(err)) throw err;
          if (await removeAbandonedBlobDir(path.slice(0, -"/data".length))) report.removedEmptyDirs++;
          continue;
        }
        log(`${dry ? "would delete" : "delete"} blob ${digest} (${size} bytes)`);
        if (!dry) {
          const dir = path.slice(0, -"/data".length);
          const aside = `blobs/.trash-${randomBytes(6).toString("hex")}`;
          try {
            await driver.move(dir, aside);
          } catch (err) {
            if (isPathNotFound(err)) continue;
            throw err;
          }
          if (await isYoung(`${aside}/data`)) {
            // Touched (uploaded, mounted, referenced) since we looked: put it back.
            try {
              await driver.stat(path);
              await driver.delete(aside); // a fresh upload already re-created it
            } catch {
              await driver.move(aside, dir).catch(() => driver.delete(aside));
            }
            report.keptYoung++;
            continue;
          }
          await driver.delete(aside);
          // A concurrent upload may have re-created the blob (and its links) meanwhile.
          let recreated = false;
          try {
            await driver.stat(path);
            recreated = true;
          } catch {
            recreated = false;
          }
          if (!recreated)
            for (const repo of linksOf.get(digest) ?? []) {
              const link = RegistryStore.layerLinkPath(repo, digest);
              if (await isYoung(link)) continue;
              await driver.delete(link);
              journal.push({ kind: "layer", repo, digest });
            }
        }
        report.deletedBlobs++;
        report.deletedBytes += size;
      }
    }
  }
  if (!dry && journal.length) {
    let previous: GcJournalEntry[] = [];
    try {
      previous = (
        JSON.parse((await driver.getContent(GC_JOURNAL)).toString()) as { entries: GcJournalEntry[] }
      ).entries;
    } catch {
      previous = [];
    }
    // Keep the journal bounded: the server applies it within seconds.
    const entries = [...previous, ...journal].slice(-100_000);
    await driver.putContent(GC_JOURNAL, JSON.stringify({ time: new Date().toISOString(), entries }));
  }
  return report;
}
