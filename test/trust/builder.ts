import { generateKeyPairSync } from "node:crypto";
import { signerFor, tufKeyFromPublic, keyId, type Signer } from "../../src/trust/tuf/keys.js";
import {
  DAY,
  expiryIn,
  fileMetaOf,
  sha256Hex,
  signDocument,
  type DelegationRole,
  type RootSigned,
  type SnapshotSigned,
  type TargetsSigned,
  type TimestampSigned,
} from "../../src/trust/tuf/metadata.js";
import type { TufRemote } from "../../src/trust/tuf/client.js";

export function newSigner(alg: "ec" | "ed25519" | "rsa" = "ec"): Signer {
  const kp =
    alg === "ec"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : alg === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: 2048 })
        : generateKeyPairSync("ed25519");
  const k = tufKeyFromPublic(kp.publicKey);
  return signerFor(kp.privateKey, { keytype: k.keytype, keyval: { private: null, public: k.keyval.public } });
}

/**
 * An in-memory Notary repository whose keys the test holds, published to a map of files as a
 * trust server serves them. Tests mutate the documents, re-publish, or tamper with served files.
 */
export class RepoBuilder {
  rootSigners: Signer[] = [newSigner()];
  targetsSigners: Signer[] = [newSigner()];
  snapshotSigners: Signer[] = [newSigner()];
  timestampSigners: Signer[] = [newSigner()];
  root: RootSigned;
  targets: TargetsSigned = {
    _type: "Targets",
    delegations: { keys: {}, roles: [] },
    expires: expiryIn(365 * DAY),
    targets: {},
    version: 1,
  };
  delegations = new Map<string, { doc: TargetsSigned; signers: Signer[] }>();
  snapshot: SnapshotSigned = { _type: "Snapshot", expires: expiryIn(365 * DAY), meta: {}, version: 0 };
  timestamp: TimestampSigned = { _type: "Timestamp", expires: expiryIn(14 * DAY), meta: {}, version: 0 };
  files = new Map<string, Uint8Array>();
  /** Extra signers for the next root (rotation: old + new). */
  extraRootSigners: Signer[] = [];

  constructor() {
    this.root = {
      _type: "Root",
      consistent_snapshot: false,
      expires: expiryIn(3650 * DAY),
      keys: {},
      roles: {},
      version: 1,
    };
    this.setRoleKeys();
  }

  setRoleKeys(thresholds: Partial<Record<string, number>> = {}): void {
    this.root.keys = {};
    const set = (role: string, ss: Signer[]) => {
      for (const s of ss) this.root.keys[s.id] = s.key;
      this.root.roles[role] = { keyids: ss.map((s) => s.id), threshold: thresholds[role] ?? 1 };
    };
    set("root", this.rootSigners);
    set("targets", this.targetsSigners);
    set("snapshot", this.snapshotSigners);
    set("timestamp", this.timestampSigners);
  }

  delegate(name: string, signers: Signer[], paths: string[] = [""], threshold = 1): void {
    this.targets.delegations ??= { keys: {}, roles: [] };
    for (const s of signers) this.targets.delegations.keys[s.id] = s.key;
    const decl: DelegationRole = { name, keyids: signers.map((s) => s.id), threshold, paths };
    this.targets.delegations.roles = this.targets.delegations.roles
      .filter((r) => r.name !== name)
      .concat(decl);
    this.delegations.set(name, {
      doc: { _type: "Targets", expires: expiryIn(365 * DAY), targets: {}, version: 1 },
      signers,
    });
  }

  addTarget(name: string, bytes: Uint8Array, role = "targets"): void {
    const doc = role === "targets" ? this.targets : this.delegations.get(role)!.doc;
    doc.targets[name] = fileMetaOf(bytes);
  }

  private serve(role: string, bytes: Uint8Array, version?: number): void {
    this.files.set(`${role}.json`, bytes);
    this.files.set(`${role}.${sha256Hex(bytes)}.json`, bytes);
    if (version !== undefined) this.files.set(`${version}.${role}.json`, bytes);
  }

  /** Signs everything (root only with `rootToo`) and serves it; bumps versions of what changed. */
  publish(opts: { rootToo?: boolean; targetsSigners?: Signer[]; rootSigners?: Signer[] } = {}): void {
    if (opts.rootToo || !this.files.has("root.json")) {
      const bytes = signDocument(
        this.root,
        opts.rootSigners ?? [...this.rootSigners, ...this.extraRootSigners],
      );
      this.serve("root", bytes, this.root.version);
    }
    const roles = new Map<string, Uint8Array>();
    roles.set("root", this.files.get("root.json")!);
    roles.set("targets", signDocument(this.targets, opts.targetsSigners ?? this.targetsSigners));
    for (const [name, d] of this.delegations) roles.set(name, signDocument(d.doc, d.signers));
    for (const [role, b] of roles) if (role !== "root") this.serve(role, b);
    this.snapshot.version += 1;
    this.snapshot.meta = {};
    for (const [role, b] of roles) this.snapshot.meta[role] = fileMetaOf(b);
    const snap = signDocument(this.snapshot, this.snapshotSigners);
    this.serve("snapshot", snap, this.snapshot.version);
    this.timestamp.version += 1;
    this.timestamp.meta = { snapshot: fileMetaOf(snap) };
    this.serve("timestamp", signDocument(this.timestamp, this.timestampSigners), this.timestamp.version);
  }

  /** A remote serving `files` (what the test may have tampered with). */
  remote(): TufRemote & { requests: string[] } {
    const requests: string[] = [];
    return {
      requests,
      get: async (file: string) => {
        requests.push(file);
        return this.files.get(file);
      },
    };
  }
}

export { keyId };
