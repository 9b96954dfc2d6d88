// The fields of a tar header block, shared by every tar reader in dockyard (the archive index in
// tar-index.ts and the builder's streaming layer reader): ustar/GNU numbers and strings, the
// header checksum, the entry name (ustar prefix), and PAX records.

/** A NUL-terminated string field (UTF-8). */
export function tarString(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString("utf8");
}

/**
 * A numeric field: octal text, or GNU base-256 (big-endian, top bit of the first byte set) for
 * big values. NaN when it is neither, or a negative base-256 value.
 */
export function tarNumber(h: Buffer, off: number, len: number): number {
  const f = h.subarray(off, off + len);
  if (f[0]! & 0x80) {
    if (f[0]! & 0x40) return NaN;
    let v = f[0]! & 0x3f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    return v;
  }
  const s = f.toString("latin1").replace(/\0.*$/s, "").trim();
  if (s === "") return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
}

/** The header's checksum field matches its bytes (the field itself counted as spaces). */
export function tarChecksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return tarNumber(h, 148, 8) === sum;
}

/** The entry name of a header: ustar's prefix joined to the name (GNU's magic has no prefix field). */
export function tarHeaderName(h: Buffer): string {
  const name = tarString(h, 0, 100);
  if (h.subarray(257, 263).toString("latin1") !== "ustar\0") return name;
  const prefix = tarString(h, 345, 155);
  return prefix ? `${prefix}/${name}` : name;
}

/**
 * PAX records (`LEN key=value\n`): keys as UTF-8, values as raw bytes (xattr values such as
 * security.capability are binary; decoding them as UTF-8 would corrupt them). Undefined when a
 * record is malformed.
 */
export function parsePaxRecords(body: Buffer): Map<string, Buffer> | undefined {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) return undefined;
    const len = Number(body.subarray(off, sp).toString("latin1"));
    if (!Number.isInteger(len) || len <= 0 || off + len > body.length) return undefined;
    const rec = body.subarray(sp + 1, off + len - 1); // without the trailing "\n"
    const eq = rec.indexOf(0x3d);
    if (eq < 0) return undefined;
    out.set(rec.subarray(0, eq).toString("utf8"), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}
