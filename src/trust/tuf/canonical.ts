/**
 * Canonical JSON as Notary signs it (docker/go canonical/json, OLPC canonical JSON): object keys
 * sorted by their UTF-8 bytes, no insignificant whitespace, integers only, and strings with only
 * `"` and `\` escaped (every other character, control characters included, written as is).
 * Signatures are always computed over `canonicalize(doc.signed)`, never over the transmitted
 * bytes, so a document re-indented in transit still verifies (and its bytes are what snapshots hash).
 */
export function canonicalize(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON has integers only, not ${value}`);
      return String(value);
    case "string":
      return `"${value.replace(/["\\]/g, "\\$&")}"`;
    case "object":
      break;
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort(byUtf8);
  return "{" + keys.map((k) => canonicalize(k) + ":" + canonicalize(obj[k])).join(",") + "}";
}

function byUtf8(a: string, b: string): number {
  // code-unit order equals UTF-8 byte order except around surrogates; only then compare bytes
  if (!/[\ud800-\udfff]/.test(a + b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), "utf8");
}
