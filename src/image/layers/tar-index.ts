import { open, type FileHandle } from "node:fs/promises";
import { DockyardError } from "../errors.js";
import { parsePaxRecords, tarChecksumOk, tarHeaderName, tarNumber, tarString } from "./tar-header.js";

/** One entry of a tar file, with where its data lies (for random access reads). */
export interface TarIndexEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "other";
  size: number;
  /** Byte offset of the entry's data in the file. */
  offset: number;
  mode: number;
  linkname?: string;
}

const TYPES: Record<string, TarIndexEntry["type"]> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "5": "dir",
  "2": "symlink",
  "1": "hardlink",
  "3": "char",
  "4": "block",
  "6": "fifo",
};

/**
 * Normalizes an archive member name (`./a/b/` → `a/b`) and refuses names that would reach
 * outside the archive's root (absolute, `..`).
 */
export function cleanEntryName(raw: string): string {
  if (raw.includes("\0"))
    throw new DockyardError("PATH_ESCAPE", `tar entry ${JSON.stringify(raw)} has a NUL byte`);
  if (raw.startsWith("/"))
    throw new DockyardError("PATH_ESCAPE", `tar entry ${JSON.stringify(raw)} has an absolute path`);
  const parts: string[] = [];
  for (const p of raw.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..")
      throw new DockyardError("PATH_ESCAPE", `tar entry ${JSON.stringify(raw)} climbs out with ..`);
    parts.push(p);
  }
  return parts.join("/");
}

/**
 * Reads a tar file's headers (ustar, pax, GNU long names; not its data) into a map
 * name → entry, so members can then be read at random with `createReadStream(start, end)`.
 * Malformed archives get an ARCHIVE_INVALID error naming the entry.
 */
export async function indexTar(path: string): Promise<Map<string, TarIndexEntry>> {
  const fh: FileHandle = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const entries = new Map<string, TarIndexEntry>();
    const header = Buffer.alloc(512);
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    let zeros = 0;
    const readAt = async (buf: Buffer, at: number) => {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      return bytesRead;
    };
    for (;;) {
      if (pos >= fileSize) {
        if (entries.size === 0)
          throw new DockyardError("ARCHIVE_INVALID", `${path} is empty, not a tar archive`);
        break; // some writers omit the trailing zero blocks
      }
      const n = await readAt(header, pos);
      if (n < 512) throw new DockyardError("ARCHIVE_INVALID", `${path}: truncated tar header at byte ${pos}`);
      if (header.every((b) => b === 0)) {
        if (++zeros >= 2) break;
        pos += 512;
        continue;
      }
      zeros = 0;
      const rawName = tarString(header, 0, 100);
      if (!tarChecksumOk(header))
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${path}: bad tar header checksum at byte ${pos} (entry ${JSON.stringify(rawName)}); not a tar archive or corrupted`,
        );
      const typeflag = String.fromCharCode(header[156]!);
      let size = tarNumber(header, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${path}: entry ${JSON.stringify(rawName)} has an invalid size`,
        );
      const dataStart = pos + 512;
      const next = dataStart + Math.ceil(size / 512) * 512;
      if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
        if (size > 1 << 20)
          throw new DockyardError("ARCHIVE_INVALID", `${path}: extended header at byte ${pos} is too large`);
        const data = Buffer.alloc(size);
        if ((await readAt(data, dataStart)) < size)
          throw new DockyardError("ARCHIVE_INVALID", `${path}: truncated extended header at byte ${pos}`);
        if (typeflag === "x") {
          const recs = parsePaxRecords(data);
          if (!recs)
            throw new DockyardError("ARCHIVE_INVALID", `${path}: malformed PAX header at byte ${pos}`);
          for (const [k, v] of recs) pax[k] = v.toString("utf8");
        } else if (typeflag === "L") longName = tarString(data, 0, size);
        else if (typeflag === "K") longLink = tarString(data, 0, size);
        pos = next;
        continue;
      }
      let name = longName ?? tarHeaderName(header);
      if (pax.path) name = pax.path;
      if (pax.size) size = Number(pax.size);
      const linkname = pax.linkpath ?? longLink ?? tarString(header, 157, 100);
      pax = {};
      longName = undefined;
      longLink = undefined;
      const type = TYPES[typeflag] ?? "other";
      const dataEnd = dataStart + (type === "file" ? size : 0);
      if (dataEnd > fileSize)
        throw new DockyardError(
          "ARCHIVE_INVALID",
          `${path}: entry ${JSON.stringify(name)} claims ${size} bytes but the archive ends ${fileSize - dataStart} bytes later (truncated or hostile archive)`,
        );
      const clean = cleanEntryName(name);
      const entry: TarIndexEntry = {
        name: clean,
        type,
        size: type === "file" ? size : 0,
        offset: dataStart,
        mode: tarNumber(header, 100, 8),
      };
      if (type === "symlink" || type === "hardlink") entry.linkname = linkname;
      entries.set(clean, entry);
      pos = dataStart + Math.ceil((type === "file" || type === "other" ? size : 0) / 512) * 512;
    }
    return entries;
  } finally {
    await fh.close();
  }
}
