import { createHash } from "node:crypto";
import { canonicalBytes } from "./canonical.js";
import { TrustError } from "./errors.js";
import { keyId, verifySignature, type Signer, type TufKey, type TufSignature } from "./keys.js";

/** Notary's four top-level roles; delegations are named `targets/<name>[/<name>…]`. */
export const TOP_ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
export type TopRole = (typeof TOP_ROLES)[number];

export interface RoleKeys {
  keyids: string[];
  threshold: number;
}

export interface FileMeta {
  length: number;
  hashes: Record<string, string>; // algorithm -> base64
  custom?: unknown;
}

export interface RootSigned {
  _type: "Root";
  consistent_snapshot: boolean;
  expires: string;
  keys: Record<string, TufKey>;
  roles: Record<string, RoleKeys>;
  version: number;
}

export interface DelegationRole extends RoleKeys {
  name: string;
  paths?: string[];
  path_hash_prefixes?: string[];
}

export interface TargetsSigned {
  _type: "Targets";
  delegations?: { keys: Record<string, TufKey>; roles: DelegationRole[] };
  expires: string;
  targets: Record<string, FileMeta>;
  version: number;
}

export interface SnapshotSigned {
  _type: "Snapshot";
  expires: string;
  meta: Record<string, FileMeta>;
  version: number;
}

export interface TimestampSigned {
  _type: "Timestamp";
  expires: string;
  meta: Record<string, FileMeta>;
  version: number;
}

export type AnySigned = RootSigned | TargetsSigned | SnapshotSigned | TimestampSigned;

export interface SignedDoc<T = AnySigned> {
  signed: T;
  signatures: TufSignature[];
}

const TYPE_OF: Record<TopRole, string> = {
  root: "Root",
  targets: "Targets",
  snapshot: "Snapshot",
  timestamp: "Timestamp",
};

/** `targets/releases` → true. Notary's rules: under targets/, no empty, `.` or `..` segments. */
export function isDelegationName(role: string): boolean {
  if (!role.startsWith("targets/") || role.length > 255) return false;
  const segs = role.split("/").slice(1);
  return (
    segs.length > 0 && segs.every((s) => s !== "" && s !== "." && s !== ".." && /^[A-Za-z0-9_.@+-]+$/.test(s))
  );
}

export function isValidRoleName(role: string): boolean {
  return (TOP_ROLES as readonly string[]).includes(role) || isDelegationName(role);
}

/** The metadata type a role's documents carry. */
export function typeForRole(role: string): string {
  return isDelegationName(role) ? "Targets" : TYPE_OF[role as TopRole];
}

/** Parses and shape-checks a signed document for `role`. Throws TrustError("format"). */
export function parseSigned<T extends AnySigned>(bytes: Uint8Array, role: string): SignedDoc<T> {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new TrustError("format", `${role} metadata is not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as SignedDoc<T>;
  if (
    !d ||
    typeof d !== "object" ||
    !d.signed ||
    typeof d.signed !== "object" ||
    !Array.isArray(d.signatures)
  ) {
    throw new TrustError("format", `${role} metadata must be {"signed": {...}, "signatures": [...]}`);
  }
  const s = d.signed as AnySigned;
  const want = typeForRole(role);
  if (typeof s._type !== "string" || s._type.toLowerCase() !== want.toLowerCase()) {
    throw new TrustError("format", `${role} metadata has _type ${JSON.stringify(s._type)}, expected ${want}`);
  }
  if (!Number.isInteger(s.version) || s.version < 0) {
    throw new TrustError("format", `${role} metadata has no valid version`);
  }
  if (typeof s.expires !== "string" || Number.isNaN(Date.parse(s.expires))) {
    throw new TrustError("format", `${role} metadata has no valid expiry date`);
  }
  if (want === "Root") {
    const r = s as RootSigned;
    if (!r.keys || typeof r.keys !== "object" || !r.roles || typeof r.roles !== "object") {
      throw new TrustError("format", "root metadata needs keys and roles");
    }
    for (const name of TOP_ROLES) {
      const rk = r.roles[name];
      if (!rk || !Array.isArray(rk.keyids) || !Number.isInteger(rk.threshold) || rk.threshold < 1) {
        throw new TrustError("format", `root metadata has no valid ${name} role (keyids, threshold >= 1)`);
      }
    }
  } else if (want === "Targets") {
    const t = s as TargetsSigned;
    if (!t.targets || typeof t.targets !== "object")
      throw new TrustError("format", `${role} metadata has no targets map`);
    for (const [name, fm] of Object.entries(t.targets)) checkFileMeta(fm, `${role} target ${name}`);
    if (t.delegations !== undefined && t.delegations !== null) {
      if (typeof t.delegations.keys !== "object" || !Array.isArray(t.delegations.roles)) {
        throw new TrustError("format", `${role} delegations need keys and roles`);
      }
      for (const dr of t.delegations.roles) {
        if (
          !dr ||
          typeof dr.name !== "string" ||
          !Array.isArray(dr.keyids) ||
          !Number.isInteger(dr.threshold) ||
          dr.threshold < 1
        ) {
          throw new TrustError("format", `${role} has a malformed delegation`);
        }
      }
    }
  } else {
    const m = (s as SnapshotSigned).meta;
    if (!m || typeof m !== "object") throw new TrustError("format", `${role} metadata has no meta map`);
    for (const [name, fm] of Object.entries(m)) checkFileMeta(fm, `${role} entry ${name}`);
  }
  return d;
}

function checkFileMeta(fm: FileMeta, what: string): void {
  if (
    !fm ||
    typeof fm !== "object" ||
    !Number.isInteger(fm.length) ||
    fm.length < 0 ||
    !fm.hashes ||
    typeof fm.hashes !== "object"
  ) {
    throw new TrustError("format", `${what} needs a length and hashes`);
  }
}

/**
 * Checks that `doc` carries at least `role.threshold` valid signatures by distinct keys of
 * `role.keyids` (looked up in `keys`). Distinct means distinct key ids computed from the keys,
 * so one key listed twice cannot count twice.
 */
export function verifyRoleSignatures(
  doc: SignedDoc,
  roleName: string,
  role: RoleKeys,
  keys: Record<string, TufKey>,
  /** Whose keys these are, for messages (default "trusted for <role>"). */
  whose?: string,
): void {
  const by = whose ?? `trusted for ${roleName}`;
  const msg = canonicalBytes(doc.signed);
  const trusted = new Set(role.keyids);
  const good = new Set<string>();
  let unknown = 0;
  let bad = 0;
  for (const s of doc.signatures) {
    if (!s || typeof s.keyid !== "string" || typeof s.sig !== "string") continue;
    const key = keys[s.keyid];
    if (!trusted.has(s.keyid) || !key) {
      unknown++;
      continue;
    }
    if (verifySignature(key, String(s.method), msg, s.sig)) good.add(keyId(key));
    else bad++;
  }
  if (good.size >= role.threshold) return;
  if (good.size === 0 && bad > 0) {
    throw new TrustError(
      "signature",
      `${roleName} metadata has a signature by a key ${by} that does not verify (content changed after signing?)`,
    );
  }
  if (good.size === 0) {
    throw new TrustError(
      "signature",
      `${roleName} metadata is not signed by any key ${by}` +
        (unknown ? ` (${unknown} signature(s) by other keys)` : ""),
    );
  }
  throw new TrustError(
    "threshold",
    `${roleName} metadata has ${good.size} valid signature(s) by keys ${by}, the threshold is ${role.threshold}`,
  );
}

export function checkNotExpired(signed: AnySigned, role: string, now = new Date()): void {
  if (Date.parse(signed.expires) <= now.getTime()) {
    throw new TrustError("freeze", `${role} metadata expired at ${signed.expires}`);
  }
}

export function fileMetaOf(bytes: Uint8Array): FileMeta {
  return {
    hashes: {
      sha256: createHash("sha256").update(bytes).digest("base64"),
      sha512: createHash("sha512").update(bytes).digest("base64"),
    },
    length: bytes.length,
  };
}

/** True when `bytes` match every supported hash `fm` gives (and at least one is supported) and its length. */
export function matchesFileMeta(bytes: Uint8Array, fm: FileMeta): boolean {
  if (fm.length !== undefined && fm.length !== bytes.length) return false;
  let checked = 0;
  for (const [alg, b64] of Object.entries(fm.hashes)) {
    if (alg !== "sha256" && alg !== "sha512") continue;
    checked++;
    if (createHash(alg).update(bytes).digest("base64") !== b64) return false;
  }
  return checked > 0;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Signs `signed` with each signer; returns the serialized document (Notary's layout). */
export function signDocument(signed: AnySigned, signers: Signer[]): Uint8Array {
  const msg = canonicalBytes(signed);
  const signatures = signers.map((s) => s.sign(msg));
  return Buffer.from(JSON.stringify({ signed, signatures }), "utf8");
}

/** Go's time.Time JSON form, as Notary writes expiry dates. */
/**
 * An expiry in whole seconds ("2027-12-01T14:20:01Z"). notary-server re-encodes the roles it
 * parses with Go's time format, which drops trailing zeros of the fraction: a millisecond like
 * .120 came back as .12, so the snapshot it generated named targets bytes it did not hold (one
 * byte shorter), and clients failed to fetch them — about one signing in ten.
 */
export function expiryIn(ms: number, now = Date.now()): string {
  return new Date(Math.floor((now + ms) / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

export const DAY = 24 * 3600 * 1000;
export const YEAR = 365 * DAY;

/** Whether a delegation with `paths` may sign `target` (Notary: prefixes; "" matches all). */
export function pathAllowed(role: DelegationRole, target: string): boolean {
  if (Array.isArray(role.paths)) return role.paths.some((p) => target.startsWith(p));
  if (Array.isArray(role.path_hash_prefixes)) {
    const h = createHash("sha256").update(target).digest("hex");
    return role.path_hash_prefixes.some((p) => h.startsWith(p));
  }
  return false;
}
