import { certificateOf, keyId, type TufKey } from "../tuf/keys.js";
import { TrustError } from "../tuf/errors.js";
import {
  DAY,
  YEAR,
  checkNotExpired,
  expiryIn,
  fileMetaOf,
  isDelegationName,
  isValidRoleName,
  matchesFileMeta,
  parseSigned,
  pathAllowed,
  sha256Hex,
  signDocument,
  verifyRoleSignatures,
  type RootSigned,
  type SignedDoc,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from "../tuf/metadata.js";
import { ServerKeys } from "./server-keys.js";
import { joinPath, type TrustStorage } from "./storage.js";

/** Thrown for requests the server refuses; `status` is the HTTP status. */
export class NotaryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface RoleState {
  version: number;
  sha256: string;
}
interface GunState {
  roles: Record<string, RoleState>;
  /** role → version → sha256 of every version ever stored (serves <version>.<role>.json and checksum URLs). */
  history: Record<string, Record<string, string>>;
}

export interface NotaryServiceOptions {
  /** Timestamp lifetime (notary-server: 14 days). */
  timestampExpiryMs?: number;
  /** Snapshot lifetime when the server signs it (notary-server: 3 years). */
  snapshotExpiryMs?: number;
  /** Re-sign a server-managed timestamp/snapshot when it expires within this margin. */
  refreshMarginMs?: number;
  now?: () => Date;
}

/**
 * Notary server semantics over a TrustStorage, independent of HTTP: read metadata by role,
 * version or checksum; validate and apply a client's update; keep the timestamp (and, when it
 * holds the key, the snapshot) signed and fresh; delete a repository's trust data.
 *
 * Storage layout per GUN: `blobs/<sha256>` (every stored document's exact bytes), `keys/<role>/`
 * (server-held keys), `state.json` (current version and hash per role plus history) written last
 * and atomically, so an update is all-or-nothing even if the process dies mid-way.
 */
export class NotaryService {
  readonly keys: ServerKeys;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly opts: Required<NotaryServiceOptions>;

  constructor(
    private readonly storage: TrustStorage,
    opts: NotaryServiceOptions = {},
  ) {
    this.keys = new ServerKeys(storage, (g) => this.dir(g));
    this.opts = {
      timestampExpiryMs: opts.timestampExpiryMs ?? 14 * DAY,
      snapshotExpiryMs: opts.snapshotExpiryMs ?? 3 * YEAR,
      refreshMarginMs: opts.refreshMarginMs ?? 7 * DAY,
      now: opts.now ?? (() => new Date()),
    };
  }

  private dir(gun: string): string {
    return joinPath("gun", encodeURIComponent(gun));
  }

  /** Serializes work per GUN (updates, timestamp refreshes, deletes) inside this process. */
  private async locked<T>(gun: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(gun) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(gun, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(gun) === tail) this.locks.delete(gun);
    }
  }

  private async state(gun: string): Promise<GunState | undefined> {
    const b = await this.storage.get(joinPath(this.dir(gun), "state.json"));
    return b ? (JSON.parse(Buffer.from(b).toString("utf8")) as GunState) : undefined;
  }

  private async blob(gun: string, sha: string): Promise<Uint8Array | undefined> {
    return this.storage.get(joinPath(this.dir(gun), "blobs", sha));
  }

  private async current(gun: string, st: GunState, role: string): Promise<Uint8Array | undefined> {
    const r = st.roles[role];
    return r ? this.blob(gun, r.sha256) : undefined;
  }

  // ------------------------------------------------------------------ reads

  /**
   * `file` is what follows `_trust/tuf/`: `<role>.json`, `<version>.<role>.json` or
   * `<role>.<sha256>.json`. Undefined when unknown.
   */
  async getMetadata(gun: string, file: string): Promise<Uint8Array | undefined> {
    if (!file.endsWith(".json")) return undefined;
    const base = file.slice(0, -5);
    let st = await this.state(gun);
    if (!st) return undefined;
    let m = /^(\d+)\.(.+)$/.exec(base);
    if (m && isValidRoleName(m[2]!)) {
      const sha = st.history[m[2]!]?.[String(Number(m[1]))];
      return sha ? this.blob(gun, sha) : undefined;
    }
    m = /^(.+)\.([0-9a-f]{64})$/.exec(base);
    if (m && isValidRoleName(m[1]!)) {
      const known = Object.values(st.history[m[1]!] ?? {}).includes(m[2]!);
      return known ? this.blob(gun, m[2]!) : undefined;
    }
    if (!isValidRoleName(base)) return undefined;
    if (base === "timestamp" || base === "snapshot") {
      st = (await this.refreshIfStale(gun)) ?? st;
    }
    return this.current(gun, st, base);
  }

  /** GET <role>.key: the server's public key for timestamp or snapshot, created on first use. */
  async getKey(gun: string, role: string): Promise<TufKey> {
    if (role !== "timestamp" && role !== "snapshot") {
      throw new NotaryHttpError(
        404,
        "INVALID_ROLE",
        `the server holds keys only for timestamp and snapshot, not ${role}`,
      );
    }
    return this.locked(gun, () => this.keys.getOrCreate(gun, role));
  }

  /** POST <role>.key: a new server key (the client then publishes a root naming it). */
  async rotateKey(gun: string, role: string): Promise<TufKey> {
    if (role !== "timestamp" && role !== "snapshot") {
      throw new NotaryHttpError(
        404,
        "INVALID_ROLE",
        `the server holds keys only for timestamp and snapshot, not ${role}`,
      );
    }
    return this.locked(gun, () => this.keys.create(gun, role));
  }

  async deleteGun(gun: string): Promise<void> {
    await this.locked(gun, () => this.storage.delete(this.dir(gun)));
  }

  /** The sha256 of a role's current document (changes whenever anything is published). */
  async currentHash(gun: string, role: string): Promise<string | undefined> {
    return (await this.state(gun))?.roles[role]?.sha256;
  }

  /** GUNs stored here whose repository part is `repo` (any host). */
  async gunsFor(repo: string): Promise<string[]> {
    const names = (await this.storage.list("gun")).map((n) => decodeURIComponent(n));
    return names.filter((g) => repositoryOfGun(g) === repo);
  }

  async exists(gun: string): Promise<boolean> {
    return (await this.state(gun)) !== undefined;
  }

  // ------------------------------------------------------------------ update

  /** Validates a client's update (role → exact uploaded bytes) and applies it atomically. */
  async update(gun: string, uploads: Map<string, Uint8Array>): Promise<void> {
    if (uploads.size === 0)
      throw new NotaryHttpError(400, "MALFORMED_UPLOAD", "the update contains no metadata");
    for (const role of uploads.keys()) {
      if (!isValidRoleName(role)) {
        throw new NotaryHttpError(
          400,
          "INVALID_ROLE",
          `${JSON.stringify(role)} is not a valid role name (root, targets, snapshot or targets/<name>)`,
        );
      }
      if (role === "timestamp") {
        throw new NotaryHttpError(
          400,
          "INVALID_ROLE",
          "the timestamp is signed by the server; do not upload one",
        );
      }
    }
    await this.locked(gun, async () => {
      try {
        await this.applyUpdate(gun, uploads);
      } catch (e) {
        if (e instanceof TrustError) throw new NotaryHttpError(400, "INVALID_UPDATE", e.message);
        throw e;
      }
    });
  }

  private async applyUpdate(gun: string, uploads: Map<string, Uint8Array>): Promise<void> {
    const now = this.opts.now();
    const st: GunState = (await this.state(gun)) ?? { roles: {}, history: {} };
    const docs = new Map<string, SignedDoc>();
    for (const [role, bytes] of uploads) {
      const doc = parseSigned(bytes, role);
      checkNotExpired(doc.signed, role, now);
      docs.set(role, doc);
    }
    const storedDoc = async <T extends RootSigned | TargetsSigned | SnapshotSigned>(role: string) => {
      const b = await this.current(gun, st, role);
      return b ? parseSigned<T>(b, role) : undefined;
    };

    // 1. root: a rotation must be signed by the old root's threshold and its own, version + 1.
    const oldRoot = await storedDoc<RootSigned>("root");
    let root: RootSigned;
    const newRootDoc = docs.get("root") as SignedDoc<RootSigned> | undefined;
    if (newRootDoc) {
      const nr = newRootDoc.signed;
      if (oldRoot) {
        if (nr.version !== oldRoot.signed.version + 1) {
          throw new TrustError(
            "root-rotation",
            `root version ${nr.version} must be exactly one above the current ${oldRoot.signed.version} (clients walk every root version)`,
          );
        }
        verifyRoleSignatures(
          newRootDoc,
          `root v${nr.version}`,
          oldRoot.signed.roles.root!,
          oldRoot.signed.keys,
          `of the current root v${oldRoot.signed.version} (a rotation must be signed by the old root keys)`,
        );
      }
      verifyRoleSignatures(
        newRootDoc,
        `root v${nr.version}`,
        nr.roles.root!,
        nr.keys,
        "of its own root role",
      );
      checkRootKeys(nr, gun, now);
      root = nr;
    } else if (oldRoot) {
      root = oldRoot.signed;
    } else {
      throw new TrustError("format", `no trust data for ${gun} yet: the first update must include root.json`);
    }
    // A new root that changes the targets keys must come with targets signed by the new keys:
    // otherwise every client would refuse the repository afterwards.
    if (newRootDoc && !docs.has("targets")) {
      const stored = await storedDoc<TargetsSigned>("targets");
      if (stored) {
        try {
          verifyRoleSignatures(stored, "targets", root.roles.targets!, root.keys, "of the new root");
        } catch {
          throw new TrustError(
            "signature",
            "the new root changes the targets keys: upload targets re-signed with the new targets key in the same update",
          );
        }
      }
    }
    const tsSigner = await this.keys.signerAmong(gun, "timestamp", root.roles.timestamp!.keyids);
    if (!tsSigner) {
      throw new TrustError(
        "signature",
        "root's timestamp key is not one this server holds (GET …/_trust/tuf/timestamp.key for it)",
      );
    }

    // 2. targets and delegations, parents before children.
    const targetRoles = [...docs.keys()]
      .filter((r) => r === "targets" || isDelegationName(r))
      .sort((a, b) => a.split("/").length - b.split("/").length);
    const targetsView = async (role: string) =>
      (docs.get(role) as SignedDoc<TargetsSigned> | undefined) ?? (await storedDoc<TargetsSigned>(role));
    for (const role of targetRoles) {
      const doc = docs.get(role) as SignedDoc<TargetsSigned>;
      const prev = st.roles[role]?.version ?? 0;
      if (doc.signed.version <= prev) {
        throw new TrustError(
          "rollback",
          `${role} version ${doc.signed.version} is not above the current ${prev}`,
        );
      }
      if (role === "targets") {
        verifyRoleSignatures(doc, "targets", root.roles.targets!, root.keys);
        continue;
      }
      const parentName = role.slice(0, role.lastIndexOf("/"));
      const parent = await targetsView(parentName);
      const decl = parent?.signed.delegations?.roles.find((d) => d.name === role);
      if (!parent || !decl) {
        throw new TrustError("delegation", `${role} is not delegated by ${parentName}`);
      }
      verifyRoleSignatures(doc, role, decl, parent.signed.delegations!.keys);
      // paths must be allowed by this delegation and by every delegation above it
      const chain = [decl];
      for (let p = parentName; p !== "targets"; p = p.slice(0, p.lastIndexOf("/"))) {
        const up = p.slice(0, p.lastIndexOf("/"));
        const d = (await targetsView(up))?.signed.delegations?.roles.find((x) => x.name === p);
        if (!d) throw new TrustError("delegation", `${p} is not delegated by ${up}`);
        chain.push(d);
      }
      for (const name of Object.keys(doc.signed.targets)) {
        if (!chain.every((d) => pathAllowed(d, name))) {
          throw new TrustError(
            "delegation",
            `${role} may not sign ${JSON.stringify(name)}: outside its delegated paths`,
          );
        }
      }
    }

    // 3. snapshot: uploaded (client-held key) and consistent, or made here with the server's key.
    const newBytes = new Map<string, Uint8Array>();
    for (const role of Object.keys(st.roles)) {
      if (role === "snapshot" || role === "timestamp") continue;
      const b = await this.current(gun, st, role);
      if (b) newBytes.set(role, b);
    }
    for (const [role, b] of uploads) if (role !== "snapshot") newBytes.set(role, b);
    if (!newBytes.has("targets"))
      throw new TrustError("format", "the first update must include targets.json");

    let snapshotBytes: Uint8Array;
    const snapDoc = docs.get("snapshot") as SignedDoc<SnapshotSigned> | undefined;
    const prevSnap = st.roles.snapshot?.version ?? 0;
    if (snapDoc) {
      if (snapDoc.signed.version <= prevSnap) {
        throw new TrustError(
          "rollback",
          `snapshot version ${snapDoc.signed.version} is not above the current ${prevSnap}`,
        );
      }
      verifyRoleSignatures(snapDoc, "snapshot", root.roles.snapshot!, root.keys);
      for (const [role, b] of newBytes) {
        const fm = snapDoc.signed.meta[role];
        const required = uploads.has(role) || role === "root" || role === "targets";
        if (!fm) {
          if (required) throw new TrustError("mix-and-match", `the snapshot does not record ${role}`);
          continue;
        }
        if (!matchesFileMeta(b, fm)) {
          throw new TrustError(
            "mix-and-match",
            `the snapshot records a different ${role} than the one being published`,
          );
        }
      }
      snapshotBytes = uploads.get("snapshot")!;
    } else {
      const signer = await this.keys.signerAmong(gun, "snapshot", root.roles.snapshot!.keyids);
      if (!signer) {
        throw new TrustError(
          "format",
          "no snapshot in the update and this server does not hold the repository's snapshot key: sign and upload snapshot.json",
        );
      }
      snapshotBytes = this.makeSnapshot(newBytes, prevSnap + 1, signer);
    }
    const prevTs = st.roles.timestamp?.version ?? 0;
    const tsBytes = this.makeTimestamp(snapshotBytes, prevTs + 1, tsSigner);

    // 4. write every blob first, then the state that makes them current.
    const writes = new Map<string, Uint8Array>(newBytes);
    writes.set("snapshot", snapshotBytes);
    writes.set("timestamp", tsBytes);
    await this.commit(gun, st, writes);
  }

  private async commit(gun: string, st: GunState, writes: Map<string, Uint8Array>): Promise<void> {
    for (const [role, bytes] of writes) {
      const sha = sha256Hex(bytes);
      if (st.roles[role]?.sha256 === sha) continue;
      const version = (JSON.parse(Buffer.from(bytes).toString("utf8")) as SignedDoc).signed.version;
      await this.storage.put(joinPath(this.dir(gun), "blobs", sha), bytes);
      st.roles[role] = { version, sha256: sha };
      (st.history[role] ??= {})[String(version)] = sha;
    }
    await this.storage.put(joinPath(this.dir(gun), "state.json"), Buffer.from(JSON.stringify(st)));
  }

  private makeSnapshot(
    roles: Map<string, Uint8Array>,
    version: number,
    signer: import("../tuf/keys.js").Signer,
  ): Uint8Array {
    const meta: SnapshotSigned["meta"] = {};
    for (const role of [...roles.keys()].sort()) meta[role] = fileMetaOf(roles.get(role)!);
    const signed: SnapshotSigned = {
      _type: "Snapshot",
      expires: expiryIn(this.opts.snapshotExpiryMs, this.opts.now().getTime()),
      meta,
      version,
    };
    return signDocument(signed, [signer]);
  }

  private makeTimestamp(
    snapshot: Uint8Array,
    version: number,
    signer: import("../tuf/keys.js").Signer,
  ): Uint8Array {
    const signed: TimestampSigned = {
      _type: "Timestamp",
      expires: expiryIn(this.opts.timestampExpiryMs, this.opts.now().getTime()),
      meta: { snapshot: fileMetaOf(snapshot) },
      version,
    };
    return signDocument(signed, [signer]);
  }

  /**
   * Re-signs the timestamp (and a server-held snapshot) when it is about to expire or when root
   * has moved its key to another one the server holds. Returns the new state, if it changed.
   */
  private async refreshIfStale(gun: string): Promise<GunState | undefined> {
    const peek = await this.state(gun);
    if (!peek || !(await this.needsRefresh(gun, peek))) return undefined;
    return this.locked(gun, async () => {
      const st = await this.state(gun);
      if (!st || !(await this.needsRefresh(gun, st))) return st;
      const root = parseSigned<RootSigned>((await this.current(gun, st, "root"))!, "root").signed;
      const writes = new Map<string, Uint8Array>();
      let snapshot = (await this.current(gun, st, "snapshot"))!;
      const snap = parseSigned<SnapshotSigned>(snapshot, "snapshot").signed;
      const snapSigner = await this.keys.signerAmong(gun, "snapshot", root.roles.snapshot!.keyids);
      if (snapSigner && this.expiring(snap.expires)) {
        const roles = new Map<string, Uint8Array>();
        for (const role of Object.keys(snap.meta)) {
          const b = await this.current(gun, st, role);
          if (b) roles.set(role, b);
        }
        snapshot = this.makeSnapshot(roles, snap.version + 1, snapSigner);
        writes.set("snapshot", snapshot);
      }
      const tsSigner = await this.keys.signerAmong(gun, "timestamp", root.roles.timestamp!.keyids);
      if (!tsSigner) return st;
      writes.set("timestamp", this.makeTimestamp(snapshot, (st.roles.timestamp?.version ?? 0) + 1, tsSigner));
      await this.commit(gun, st, writes);
      return st;
    });
  }

  private expiring(expires: string): boolean {
    return Date.parse(expires) - this.opts.now().getTime() < this.opts.refreshMarginMs;
  }

  private async needsRefresh(gun: string, st: GunState): Promise<boolean> {
    const ts = await this.current(gun, st, "timestamp");
    if (!ts) return false;
    const t = parseSigned<TimestampSigned>(ts, "timestamp").signed;
    if (this.expiring(t.expires)) return true;
    const snapB = await this.current(gun, st, "snapshot");
    if (snapB && this.expiring(parseSigned<SnapshotSigned>(snapB, "snapshot").signed.expires)) return true;
    return false;
  }
}

/**
 * The registry repository a GUN names: its path after the host part, when the first component
 * looks like a host (has a dot or colon, or is localhost). GUNs for other hosts are accepted (the
 * server serves whatever GUN it is asked about, as notary-server does).
 */
export function repositoryOfGun(gun: string): string {
  const i = gun.indexOf("/");
  if (i < 0) return gun;
  const first = gun.slice(0, i);
  return /[.:]/.test(first) || first === "localhost" ? gun.slice(i + 1) : gun;
}

/** Root's root keys: x509 certificates must name the GUN and be within their validity period. */
function checkRootKeys(root: RootSigned, gun: string, now: Date): void {
  for (const id of root.roles.root!.keyids) {
    const key = root.keys[id];
    if (!key) throw new TrustError("format", `root lists root key ${id} but does not include it`);
    if (keyId(key) !== id) throw new TrustError("format", `root key ${id} does not hash to its id`);
    if (key.keytype.endsWith("-x509")) {
      let cert;
      try {
        cert = certificateOf(key);
      } catch {
        throw new TrustError("format", `root key ${id} is not a valid certificate`);
      }
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
      if (cn !== gun) {
        throw new TrustError(
          "root-rotation",
          `root certificate ${id} is for ${JSON.stringify(cn)}, not for ${gun}`,
        );
      }
      if (Date.parse(cert.validTo) < now.getTime() || Date.parse(cert.validFrom) > now.getTime() + DAY) {
        throw new TrustError(
          "freeze",
          `root certificate ${id} is not valid now (${cert.validFrom} – ${cert.validTo})`,
        );
      }
    }
  }
}
