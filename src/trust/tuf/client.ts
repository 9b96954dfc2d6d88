import { TrustError } from "./errors.js";
import { certificateOf, type TufKey } from "./keys.js";
import {
  checkNotExpired,
  matchesFileMeta,
  parseSigned,
  pathAllowed,
  verifyRoleSignatures,
  type DelegationRole,
  type FileMeta,
  type RootSigned,
  type SignedDoc,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from "./metadata.js";

/** Where the client fetches metadata from: `file` is e.g. `timestamp.json`, `3.root.json`. */
export interface TufRemote {
  get(file: string, maxBytes: number): Promise<Uint8Array | undefined>;
}

/** The client's trusted local copies (the last verified document per role). */
export interface TufCache {
  load(role: string): Promise<Uint8Array | undefined>;
  save(role: string, bytes: Uint8Array): Promise<void>;
  remove(role: string): Promise<void>;
  /** Drops anything remembered about the stored files (called as each update starts). */
  refresh?(): void;
}

export interface ClientOptions {
  now?: Date;
  /** Accept the server's root on first contact (Notary's TOFU). Default true. */
  trustOnFirstUse?: boolean;
  /** Largest root/timestamp download (bytes). */
  maxRootBytes?: number;
  /** How many root versions to walk at most in one update (TUF spec: a fixed bound). */
  maxRootRotations?: number;
}

/** A target as some role signed it. */
export interface SignedTarget {
  name: string;
  meta: FileMeta;
  role: string;
  /** Key ids that signed the role's metadata. */
  signers: string[];
}

export interface TrustedRepository {
  gun: string;
  root: SignedDoc<RootSigned>;
  timestamp: SignedDoc<TimestampSigned>;
  snapshot: SignedDoc<SnapshotSigned>;
  targets: SignedDoc<TargetsSigned>;
  /** Verified delegated roles (name → metadata) reached from targets. */
  delegations: Map<string, { doc: SignedDoc<TargetsSigned>; decl: DelegationRole }>;
  /** Targets a delegation listed outside its paths: ignored, reported. */
  ignored: { role: string; name: string }[];
}

const MB = 1024 * 1024;

/**
 * The TUF client update workflow (TUF specification §5, "Detailed client workflow"), adapted to
 * Notary's layout (no versions in snapshot meta; hashed file names `<role>.<sha256>.json`).
 * `update()` reads as the spec's numbered steps.
 */
export class TufClient {
  private readonly now: Date;
  private readonly opts: Required<Omit<ClientOptions, "now">>;

  constructor(
    readonly gun: string,
    private readonly remote: TufRemote,
    private readonly cache: TufCache,
    opts: ClientOptions = {},
  ) {
    this.now = opts.now ?? new Date();
    this.opts = {
      trustOnFirstUse: opts.trustOnFirstUse ?? true,
      maxRootBytes: opts.maxRootBytes ?? 2 * MB,
      maxRootRotations: opts.maxRootRotations ?? 256,
    };
  }

  async update(): Promise<TrustedRepository> {
    // 5.1 Record the time at which the update began (this.now): every expiry check uses it.
    // 5.2 Load the trusted root metadata.
    this.cache.refresh?.();
    let root = await this.loadTrustedRoot();
    // 5.3 Update the root metadata: walk N+1, N+2, … each signed by the old and the new root.
    root = await this.updateRoot(root);
    // 5.4 Download and check the timestamp.
    const timestamp = await this.updateTimestamp(root.signed);
    // 5.5 Download and check the snapshot the timestamp names.
    const snapshot = await this.updateSnapshot(root.signed, timestamp.signed);
    // 5.6 Download and check the top-level targets the snapshot names.
    const targets = await this.updateTargets(root.signed, snapshot.signed);
    // 5.7 Walk delegations (preorder depth-first), each checked against its delegator.
    const repo: TrustedRepository = {
      gun: this.gun,
      root,
      timestamp,
      snapshot,
      targets,
      delegations: new Map(),
      ignored: [],
    };
    await this.walkDelegations(repo, "targets", targets.signed, snapshot.signed, []);
    return repo;
  }

  // 5.2
  private async loadTrustedRoot(): Promise<SignedDoc<RootSigned>> {
    const cached = await this.cache.load("root");
    if (cached) return parseSigned<RootSigned>(cached, "root");
    if (!this.opts.trustOnFirstUse) {
      throw new TrustError("signature", `no trusted root for ${this.gun} and trust on first use is off`);
    }
    // First contact: fetch root.json, check it is self-consistent and its certificates name this GUN.
    const bytes = await this.remote.get("root.json", this.opts.maxRootBytes);
    if (!bytes)
      throw new TrustError(
        "signature",
        `${this.gun} has no trust data (no root.json on the trust server): it is not signed`,
      );
    const doc = parseSigned<RootSigned>(bytes, "root");
    verifyRoleSignatures(doc, "root", doc.signed.roles.root!, doc.signed.keys);
    this.checkRootCertificates(doc.signed);
    await this.cache.save("root", bytes);
    return doc;
  }

  // 5.3
  private async updateRoot(trusted: SignedDoc<RootSigned>): Promise<SignedDoc<RootSigned>> {
    const start = trusted.signed;
    let current = trusted;
    for (let i = 0; i < this.opts.maxRootRotations; i++) {
      // 5.3.2 Try downloading version N+1 of the root metadata file.
      const next = current.signed.version + 1;
      const bytes = await this.remote.get(`${next}.root.json`, this.opts.maxRootBytes);
      if (!bytes) break; // 5.3.2: not found — the latest root is the trusted one
      const doc = parseSigned<RootSigned>(bytes, "root");
      // 5.3.4 Check signatures: a threshold of the trusted root's root keys …
      verifyRoleSignatures(
        doc,
        `root v${next}`,
        current.signed.roles.root!,
        current.signed.keys,
        `of the trusted root v${current.signed.version} (a rotation must be signed by the old root keys)`,
      );
      //       … and a threshold of the new root's own root keys.
      verifyRoleSignatures(
        doc,
        `root v${next}`,
        doc.signed.roles.root!,
        doc.signed.keys,
        "of its own root role",
      );
      // 5.3.5 Check for a rollback attack: the version must be exactly N+1.
      if (doc.signed.version !== next) {
        throw new TrustError("rollback", `${next}.root.json carries version ${doc.signed.version}`);
      }
      this.checkRootCertificates(doc.signed);
      // 5.3.7 Set the trusted root to the new root; 5.3.8 persist it.
      await this.cache.save("root", bytes);
      current = doc;
    }
    // 5.3.10 Check for a freeze attack: the final root must not be expired.
    checkNotExpired(current.signed, "root", this.now);
    // 5.3.11 If the timestamp or snapshot keys rotated, forget the trusted timestamp and snapshot
    // (recovery from a fast-forward attack).
    if (current !== trusted) {
      const same = (role: string) =>
        JSON.stringify([...start.roles[role]!.keyids].sort()) ===
        JSON.stringify([...current.signed.roles[role]!.keyids].sort());
      if (!same("timestamp") || !same("snapshot")) {
        await this.cache.remove("timestamp");
        await this.cache.remove("snapshot");
      }
    }
    return current;
  }

  // 5.4
  private async updateTimestamp(root: RootSigned): Promise<SignedDoc<TimestampSigned>> {
    // 5.4.1 Download the timestamp (fixed size bound; its name carries no hash).
    const bytes = await this.remote.get("timestamp.json", MB);
    if (!bytes) throw new TrustError("signature", `${this.gun} has no timestamp on the trust server`);
    const doc = parseSigned<TimestampSigned>(bytes, "timestamp");
    // 5.4.2 Check signatures against the root's timestamp role.
    verifyRoleSignatures(doc, "timestamp", root.roles.timestamp!, root.keys);
    // 5.4.3 Check for a rollback attack against the trusted timestamp.
    const cached = await this.loadCached<TimestampSigned>("timestamp");
    if (cached && doc.signed.version < cached.signed.version) {
      throw new TrustError(
        "rollback",
        `timestamp version ${doc.signed.version} is lower than expected: already trusted version ${cached.signed.version} (a replayed old timestamp)`,
      );
    }
    if (!doc.signed.meta.snapshot) throw new TrustError("format", "timestamp does not record the snapshot");
    // 5.4.4 Check for a freeze attack.
    checkNotExpired(doc.signed, "timestamp", this.now);
    // 5.4.5 Persist.
    await this.cache.save("timestamp", bytes);
    return doc;
  }

  // 5.5
  private async updateSnapshot(root: RootSigned, ts: TimestampSigned): Promise<SignedDoc<SnapshotSigned>> {
    const fm = ts.meta.snapshot!;
    // 5.5.1 Download the snapshot by the hash the timestamp records, at most its recorded length
    // (unless the trusted copy is those very bytes).
    const { bytes, fromCache } = await this.fetchOrTrusted("snapshot", fm);
    // 5.5.2 Check against the timestamp's hashes and length.
    if (!matchesFileMeta(bytes, fm)) {
      throw new TrustError("integrity", "the snapshot does not match the hash the timestamp records");
    }
    const doc = parseSigned<SnapshotSigned>(bytes, "snapshot");
    // 5.5.3 Check signatures against the root's snapshot role.
    verifyRoleSignatures(doc, "snapshot", root.roles.snapshot!, root.keys);
    // 5.5.5 Check for a rollback attack.
    const cached = await this.loadCached<SnapshotSigned>("snapshot");
    if (cached && doc.signed.version < cached.signed.version) {
      throw new TrustError(
        "rollback",
        `snapshot version ${doc.signed.version} is lower than expected: already trusted version ${cached.signed.version}`,
      );
    }
    // 5.5.6 Check for a freeze attack.
    checkNotExpired(doc.signed, "snapshot", this.now);
    if (!doc.signed.meta.targets) throw new TrustError("format", "the snapshot does not record targets");
    // 5.5.7 Persist.
    if (!fromCache) await this.cache.save("snapshot", bytes);
    return doc;
  }

  // 5.6
  private async updateTargets(root: RootSigned, snap: SnapshotSigned): Promise<SignedDoc<TargetsSigned>> {
    const fm = snap.meta.targets!;
    // 5.6.1 Download targets by the hash the snapshot records (unless the trusted copy is it).
    const { bytes, fromCache } = await this.fetchOrTrusted("targets", fm);
    // 5.6.2 Check against the snapshot: the snapshot decides which targets version is current, so
    // targets from another snapshot (mix-and-match) or changed in transit are refused here.
    if (!matchesFileMeta(bytes, fm)) {
      throw new TrustError(
        "mix-and-match",
        "targets does not match the hash the snapshot records (mixed versions or tampered)",
      );
    }
    const doc = parseSigned<TargetsSigned>(bytes, "targets");
    // 5.6.3 Check signatures against the root's targets role.
    verifyRoleSignatures(doc, "targets", root.roles.targets!, root.keys);
    // 5.6.4 Check for a rollback attack.
    const cached = await this.loadCached<TargetsSigned>("targets");
    if (cached && doc.signed.version < cached.signed.version) {
      throw new TrustError(
        "rollback",
        `targets version ${doc.signed.version} is lower than the trusted ${cached.signed.version}`,
      );
    }
    // 5.6.5 Check for a freeze attack.
    checkNotExpired(doc.signed, "targets", this.now);
    if (!fromCache) await this.cache.save("targets", bytes);
    return doc;
  }

  // 5.7 (delegations): each delegated role is fetched by its snapshot hash and verified with the
  // keys and threshold its delegator gives it; targets outside its paths — and outside the paths
  // of every delegation above it — are ignored. A role may only delegate its own children
  // (Notary: targets/a delegates targets/a/b).
  private async walkDelegations(
    repo: TrustedRepository,
    parentName: string,
    parent: TargetsSigned,
    snap: SnapshotSigned,
    ancestors: DelegationRole[],
  ): Promise<void> {
    if (!parent.delegations || ancestors.length > 32) return;
    for (const decl of parent.delegations.roles) {
      if (repo.delegations.has(decl.name)) continue;
      if (!decl.name.startsWith(`${parentName}/`) || decl.name.slice(parentName.length + 1).includes("/"))
        continue;
      const fm = snap.meta[decl.name];
      if (!fm) continue; // delegated, but nothing published under it yet
      const bytes = await this.fetchByMeta(decl.name, fm);
      if (!matchesFileMeta(bytes, fm)) {
        throw new TrustError("mix-and-match", `${decl.name} does not match the hash the snapshot records`);
      }
      const doc = parseSigned<TargetsSigned>(bytes, decl.name);
      verifyRoleSignatures(doc, decl.name, decl, parent.delegations.keys);
      checkNotExpired(doc.signed, decl.name, this.now);
      const chain = [...ancestors, decl];
      for (const name of Object.keys(doc.signed.targets)) {
        if (!chain.every((d) => pathAllowed(d, name))) {
          repo.ignored.push({ role: decl.name, name });
          delete doc.signed.targets[name];
        }
      }
      repo.delegations.set(decl.name, { doc, decl });
      await this.walkDelegations(repo, decl.name, doc.signed, snap, chain);
    }
  }

  /**
   * A role's metadata by the file meta (hashes, length) its parent records: the trusted copy on
   * disk when it is exactly those bytes — nothing to download, as the TUF reference client does —
   * else from the server. Either way every check of the step runs on the bytes.
   */
  private async fetchOrTrusted(
    role: string,
    fm: FileMeta,
  ): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
    const local = await this.cache.load(role);
    if (local && matchesFileMeta(local, fm)) return { bytes: local, fromCache: true };
    return { bytes: await this.fetchByMeta(role, fm), fromCache: false };
  }

  private async fetchByMeta(role: string, fm: FileMeta): Promise<Uint8Array> {
    const max = fm.length > 0 ? fm.length : 64 * MB;
    const sha = fm.hashes.sha256 ? Buffer.from(fm.hashes.sha256, "base64").toString("hex") : undefined;
    const bytes =
      (sha ? await this.remote.get(`${role}.${sha}.json`, max) : undefined) ??
      (await this.remote.get(`${role}.json`, max));
    if (!bytes)
      throw new TrustError(
        "integrity",
        `${role} metadata recorded in the snapshot is missing on the trust server`,
      );
    return bytes;
  }

  private async loadCached<T extends TimestampSigned | SnapshotSigned | TargetsSigned>(
    role: string,
  ): Promise<SignedDoc<T> | undefined> {
    const b = await this.cache.load(role);
    if (!b) return undefined;
    try {
      return parseSigned<T>(b, role);
    } catch {
      return undefined;
    }
  }

  /** Root certificates (x509 keys) must name this GUN and be valid now (Notary's rule). */
  private checkRootCertificates(root: RootSigned): void {
    for (const id of root.roles.root!.keyids) {
      const key: TufKey | undefined = root.keys[id];
      if (!key || !key.keytype.endsWith("-x509")) continue;
      const cert = certificateOf(key);
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
      if (cn !== this.gun)
        throw new TrustError("signature", `root certificate is for ${JSON.stringify(cn)}, not ${this.gun}`);
      if (Date.parse(cert.validTo) <= this.now.getTime()) {
        throw new TrustError("freeze", `root certificate expired at ${cert.validTo}`);
      }
    }
  }
}

/** Signed targets for `name`, in Docker's order: targets/releases first, then targets. */
export function lookupTarget(
  repo: TrustedRepository,
  name: string,
  roles = ["targets/releases", "targets"],
): SignedTarget | undefined {
  for (const role of roles) {
    const doc = role === "targets" ? repo.targets : repo.delegations.get(role)?.doc;
    const meta = doc?.signed.targets[name];
    if (doc && meta) return { name, meta, role, signers: doc.signatures.map((s) => s.keyid) };
  }
  return undefined;
}

/** Every target of every verified role. */
export function allTargets(repo: TrustedRepository): SignedTarget[] {
  const out: SignedTarget[] = [];
  const add = (role: string, doc: SignedDoc<TargetsSigned>) => {
    for (const [name, meta] of Object.entries(doc.signed.targets)) {
      out.push({ name, meta, role, signers: doc.signatures.map((s) => s.keyid) });
    }
  };
  add("targets", repo.targets);
  for (const [role, { doc }] of repo.delegations) add(role, doc);
  return out;
}
