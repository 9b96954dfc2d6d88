/**
 * Canonical JSON as Notary (docker/go canonical/json) and go-tuf produce it for signing: object
 * keys sorted, no insignificant whitespace, strings and integers as JSON.stringify writes them.
 * Signatures are always computed over `canonicalize(doc.signed)`, never over the transmitted bytes,
 * so a document re-indented in transit still verifies (and its bytes are what snapshots hash).
 */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new TypeError("canonical JSON cannot encode a non-finite number");
    }
    if (value === undefined) return "null";
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalize(obj[k])).join(",") + "}";
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), "utf8");
}
