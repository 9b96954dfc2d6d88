/**
 * `RUN --mount=…` as BuildKit reads it (`instructions/runmount.go`): a CSV list of key=value
 * fields. Without an expander (the instruction layer) values are kept as written and only what
 * BuildKit checks at parse time is checked; with one (the build, after ARG/ENV are known) every value
 * is expanded and validated.
 */
import { InstructionError } from "./errors.js";
import { suggest } from "./suggest.js";

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export const MOUNT_TYPES: MountType[] = ["bind", "cache", "tmpfs", "secret", "ssh"];
export type CacheSharing = "shared" | "private" | "locked";

export interface Mount {
  type: MountType;
  /** Stage name, stage index or image to mount from (bind, cache). */
  from?: string;
  source?: string;
  target?: string;
  readOnly: boolean;
  /** secret/ssh: fail when the secret or agent is missing. */
  required?: boolean;
  /** cache id, secret id or ssh id. */
  id?: string;
  sharing?: CacheSharing;
  /** File mode (octal in the Dockerfile). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size in bytes. */
  size?: number;
  /** secret: expose as this environment variable. */
  env?: string;
  /** The flag value as written. */
  raw: string;
}

const MOUNT_KEYS = [
  "type",
  "from",
  "source",
  "src",
  "target",
  "dst",
  "destination",
  "readonly",
  "ro",
  "readwrite",
  "rw",
  "required",
  "size",
  "id",
  "sharing",
  "mode",
  "uid",
  "gid",
  "env",
];

/** encoding/csv for one record (no lazy quotes, no leading-space trimming). */
export function parseCSVRecord(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  if (n === 0) return [""];
  for (;;) {
    if (s[i] === '"') {
      let f = "";
      i++;
      for (;;) {
        if (i >= n)
          throw new InstructionError(
            `failed to parse csv mounts: parse error: extraneous or missing " in quoted-field`,
          );
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            f += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        f += s[i++];
      }
      out.push(f);
      if (i >= n) return out;
      if (s[i] !== ",") {
        throw new InstructionError(
          `failed to parse csv mounts: parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`,
        );
      }
      i++;
      if (i >= n) {
        out.push("");
        return out;
      }
      continue;
    }
    const c = s.indexOf(",", i);
    const f = c < 0 ? s.slice(i) : s.slice(i, c);
    const q = f.indexOf('"');
    if (q >= 0) {
      throw new InstructionError(
        `failed to parse csv mounts: parse error on line 1, column ${i + q + 1}: bare " in non-quoted-field`,
      );
    }
    out.push(f);
    if (c < 0) return out;
    i = c + 1;
    if (i >= n) {
      out.push("");
      return out;
    }
  }
}

function parseBool(v: string): boolean | undefined {
  switch (v) {
    case "1":
    case "t":
    case "T":
    case "true":
    case "TRUE":
    case "True":
      return true;
    case "0":
    case "f":
    case "F":
    case "false":
    case "FALSE":
    case "False":
      return false;
  }
  return undefined;
}

/** docker/go-units RAMInBytes: `64m`, `1g`, `512k`, `100` (binary multiples). */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return undefined;
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

function parseUint(v: string, base: 8 | 10): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(v)) return undefined;
  const n = parseInt(v, base);
  return n <= 0xffffffff ? n : undefined;
}

export function parseMount(value: string, expand?: (word: string) => string): Mount {
  const fields = parseCSVRecord(value);
  const m: Mount = { type: "bind", readOnly: false, raw: value };
  let roAuto = true;
  for (const field of fields) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    let v = eq < 0 ? "" : field.slice(eq + 1);
    if (eq < 0) {
      if (!expand) continue;
      switch (key) {
        case "readonly":
        case "ro":
          m.readOnly = true;
          roAuto = false;
          continue;
        case "readwrite":
        case "rw":
          m.readOnly = false;
          roAuto = false;
          continue;
        case "required":
          if (m.type === "secret" || m.type === "ssh") {
            m.required = true;
            continue;
          }
          throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          throw new InstructionError(`invalid field '${field}' must be a key=value pair`);
      }
    }
    if (expand) v = expand(v);
    else if (key === "from") {
      const d = v.indexOf("$");
      if (d !== -1 && d !== v.length - 1) {
        throw new InstructionError(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else continue;
    switch (key) {
      case "type": {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as string[]).includes(t)) {
          const s = suggest(v, MOUNT_TYPES, true);
          throw new InstructionError(
            `unsupported mount type ${JSON.stringify(v)}${s ? ` (did you mean ${s}?)` : ""}`,
          );
        }
        m.type = t as MountType;
        break;
      }
      case "from":
        m.from = v;
        break;
      case "source":
      case "src":
        m.source = v;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = v;
        break;
      case "readonly":
      case "ro": {
        const b = parseBool(v);
        if (b === undefined) throw new InstructionError(`invalid value for ${key}: ${v}`);
        m.readOnly = b;
        roAuto = false;
        break;
      }
      case "readwrite":
      case "rw": {
        const b = parseBool(v);
        if (b === undefined) throw new InstructionError(`invalid value for ${key}: ${v}`);
        m.readOnly = !b;
        roAuto = false;
        break;
      }
      case "required": {
        if (m.type !== "secret" && m.type !== "ssh") {
          throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
        }
        const b = parseBool(v);
        if (b === undefined) throw new InstructionError(`invalid value for ${key}: ${v}`);
        m.required = b;
        break;
      }
      case "size": {
        if (m.type !== "tmpfs")
          throw new InstructionError(`unexpected key '${key}' for mount type '${m.type}'`);
        const s = ramInBytes(v);
        if (s === undefined) throw new InstructionError(`invalid value for ${key}: ${v}`);
        m.size = s;
        break;
      }
      case "id":
        m.id = v;
        break;
      case "sharing": {
        const s = v.toLowerCase();
        if (s !== "") {
          if (s !== "shared" && s !== "private" && s !== "locked") {
            throw new InstructionError(`unsupported sharing value ${JSON.stringify(v)}`);
          }
          m.sharing = s;
        }
        break;
      }
      case "mode": {
        const n = parseUint(v, 8);
        if (n === undefined) throw new InstructionError(`invalid value ${v} for mode`);
        m.mode = n;
        break;
      }
      case "uid": {
        const n = parseUint(v, 10);
        if (n === undefined) throw new InstructionError(`invalid value ${v} for uid`);
        m.uid = n;
        break;
      }
      case "gid": {
        const n = parseUint(v, 10);
        if (n === undefined) throw new InstructionError(`invalid value ${v} for gid`);
        m.gid = n;
        break;
      }
      case "env":
        m.env = v;
        break;
      default: {
        const s = suggest(key, MOUNT_KEYS, true);
        throw new InstructionError(
          `unexpected key '${key}' in '${field}'${s ? ` (did you mean ${s}?)` : ""}`,
        );
      }
    }
  }
  if (roAuto) m.readOnly = !(m.type === "cache" || m.type === "tmpfs");
  if (m.sharing && m.type !== "cache")
    throw new InstructionError(`invalid cache sharing set for ${m.type} mount`);
  if (m.type === "secret") {
    if (m.from) throw new InstructionError("secret mount should not have a from");
    if (!m.source && !m.target && !m.id && expand) {
      throw new InstructionError("invalid secret mount. one of source, target required");
    }
    if (m.source && m.id) throw new InstructionError("both source and id can't be set");
  }
  return m;
}
