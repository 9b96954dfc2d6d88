import { createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { DockyardError } from "../image/errors.js";
import { generateKeyPair, makeRootCertificate, publicTufKey } from "./keys/generate.js";
import type { KeyStore } from "./keys/store.js";
import { withTrustLock } from "./lock.js";
import { FileTufCache, NotaryRemote, type TrustServerOptions } from "./remote.js";
import { TufClient, type TrustedRepository } from "./tuf/client.js";
import { keyId, spkiOf, tufKeyFromPublic, type Signer, type TufKey } from "./tuf/keys.js";
import {
  YEAR,
  expiryIn,
  signDocument,
  type DelegationRole,
  type FileMeta,
  type RootSigned,
  type SignedDoc,
  type TargetsSigned,
} from "./tuf/metadata.js";
import type { TufCache } from "./tuf/client.js";

const ROOT_EXPIRY = 10 * YEAR;
const TARGETS_EXPIRY = 3 * YEAR;

export interface RepositoryOptions {
  gun: string;
  server: TrustServerOptions;
  keys: KeyStore;
  /** Trusted metadata cache; default <trust dir>/tuf/<gun>/metadata. */
  cache?: TufCache;
  now?: () => Date;
}

/**
 * A Notary repository from the publisher's side: init, sign/revoke targets, delegations
 * (signers), key rotation. Every change is built on freshly verified metadata (the TUF client
 * update runs first), signed locally and published in one update; the server validates it and
 * signs the snapshot (its key, handed over at init) and timestamp.
 */
export class TrustRepository {
  readonly gun: string;
  readonly remote: NotaryRemote;
  readonly cache: TufCache;
  private readonly keys: KeyStore;

  constructor(opts: RepositoryOptions) {
    this.gun = opts.gun;
    this.remote = new NotaryRemote(opts.gun, opts.server);
    this.keys = opts.keys;
    this.cache = opts.cache ?? new FileTufCache(opts.keys.dirs.base, opts.gun);
  }

  /**
   * Runs `fn` holding the trust directory's lock (src/trust/lock.ts): every operation here reads
   * the TUF cache and keys, and most publish; two processes on one trust dir take turns.
   */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withTrustLock(this.keys.dirs.base, fn);
  }

  /** Runs the TUF client update and returns the verified repository. */
  async update(): Promise<TrustedRepository> {
    return this.locked(async () => {
      return new TufClient(this.gun, this.remote, this.cache).update();
    });
  }

  /** Creates the trust data when the server has none (init); true when it did. One process at a time. */
  async initIfNeeded(): Promise<boolean> {
    return this.locked(async () => {
      if (await this.initialized()) return false;
      await this.init();
      return true;
    });
  }

  async initialized(): Promise<boolean> {
    return (await this.remote.get("root.json", 4 * 1024 * 1024)) !== undefined;
  }

  /**
   * Creates the repository's trust data: a root key (reused if one exists in the root key
   * directory, like notary) with a certificate for the GUN, a new targets key, the server's
   * timestamp and snapshot keys; publishes root v1 and empty targets v1.
   */
  async init(
    opts: { rootKeyId?: string; algorithm?: "ecdsa" } = {},
  ): Promise<{ rootKeyId: string; targetsKeyId: string }> {
    return this.locked(async () => {
      if (await this.initialized()) {
        throw new DockyardError(
          "USAGE",
          `${this.gun} already has trust data on the server (use 'trust key rotate' to change keys)`,
        );
      }
      const rootSigner = await this.rootSignerForNewRepo(opts.rootKeyId);
      const { privateKey: tPriv } = generateKeyPair(opts.algorithm ?? "ecdsa");
      const targetsKey = publicTufKey(tPriv);
      const targetsInfo = await this.keys.add(tPriv, targetsKey, { role: "targets", gun: this.gun });
      const tsKey = await this.remote.getKey("timestamp");
      const snKey = await this.remote.getKey("snapshot");
      const root: RootSigned = {
        _type: "Root",
        consistent_snapshot: false,
        expires: expiryIn(ROOT_EXPIRY),
        keys: {
          [rootSigner.id]: rootSigner.key,
          [keyId(targetsKey)]: targetsKey,
          [keyId(snKey)]: withNullPrivate(snKey),
          [keyId(tsKey)]: withNullPrivate(tsKey),
        },
        roles: {
          root: { keyids: [rootSigner.id], threshold: 1 },
          snapshot: { keyids: [keyId(snKey)], threshold: 1 },
          targets: { keyids: [keyId(targetsKey)], threshold: 1 },
          timestamp: { keyids: [keyId(tsKey)], threshold: 1 },
        },
        version: 1,
      };
      const targets: TargetsSigned = {
        _type: "Targets",
        delegations: { keys: {}, roles: [] },
        expires: expiryIn(TARGETS_EXPIRY),
        targets: {},
        version: 1,
      };
      const targetsSigner = await this.keys.signer(targetsInfo.id);
      await this.remote.publish(
        new Map([
          ["root", signDocument(root, [rootSigner])],
          ["targets", signDocument(targets, [targetsSigner])],
        ]),
      );
      await this.cache.remove("root");
      await this.update();
      return { rootKeyId: rootSigner.id, targetsKeyId: targetsInfo.id };
    });
  }

  /** A signer for the GUN's root certificate, over an existing root key or a new one. */
  private async rootSignerForNewRepo(rootKeyId?: string): Promise<Signer> {
    const roots = (await this.keys.list()).filter((k) => k.role === "root");
    let base = rootKeyId
      ? roots.find((k) => k.id.startsWith(rootKeyId))
      : roots.find((k) => k.name === "root");
    if (rootKeyId && !base)
      throw new DockyardError("NOT_FOUND", `no root key ${rootKeyId} in ${this.keys.dirs.rootKeys}`);
    let priv: KeyObject;
    if (!base) {
      priv = generateKeyPair("ecdsa").privateKey;
      base = await this.keys.add(priv, publicTufKey(priv), { role: "root", name: "root" });
    } else {
      priv = await this.keys.privateKey(base.id);
    }
    const { key } = await makeRootCertificate(priv, this.gun);
    // remember the certificate as its own entry so `findSigner` can match it by id later
    return await this.keys.signerForPrivate(priv, key);
  }

  // ------------------------------------------------------------------ targets

  /**
   * Where new targets go (as docker does): every delegation of targets we hold a key for —
   * targets/releases and targets/<signer> — or, with none, targets itself.
   */
  private async signableRoles(
    repo: TrustedRepository,
  ): Promise<{ role: string; doc: TargetsSigned; signers: Signer[] }[]> {
    const out: { role: string; doc: TargetsSigned; signers: Signer[] }[] = [];
    for (const decl of repo.targets.signed.delegations?.roles ?? []) {
      const signers = await this.delegationSigners(decl, repo.targets.signed);
      if (!signers.length) continue;
      const doc = repo.delegations.get(decl.name)?.doc.signed ?? emptyTargets(0);
      out.push({ role: decl.name, doc: structuredClone(doc), signers });
    }
    if (out.length) return out;
    const signers = await this.topSigners(repo.root.signed, "targets");
    if (!signers.length) {
      throw new DockyardError(
        "DENIED",
        `no key to sign ${this.gun}: neither the targets key nor a signer (delegation) key is in ${this.keys.dirs.base}`,
      );
    }
    return [{ role: "targets", doc: structuredClone(repo.targets.signed), signers }];
  }

  private async topSigners(root: RootSigned, role: string): Promise<Signer[]> {
    const keys: Record<string, TufKey> = {};
    for (const id of root.roles[role]!.keyids) if (root.keys[id]) keys[id] = root.keys[id]!;
    return this.keys.findSigners(role, keys);
  }

  private async delegationSigners(decl: DelegationRole, parent: TargetsSigned): Promise<Signer[]> {
    const keys: Record<string, TufKey> = {};
    for (const id of decl.keyids) if (parent.delegations?.keys[id]) keys[id] = parent.delegations.keys[id]!;
    return this.keys.findSigners(decl.name, keys);
  }

  /** Signs `name` → `meta` (a tag → manifest digest and size) and publishes. Returns the roles used. */
  async addTarget(name: string, meta: FileMeta): Promise<string[]> {
    return this.locked(async () => {
      const repo = await this.update();
      const files = new Map<string, Uint8Array>();
      for (const { role, doc, signers } of await this.signableRoles(repo)) {
        doc.targets[name] = meta;
        bump(doc);
        files.set(role, signDocument(doc, signers));
      }
      await this.remote.publish(files);
      return [...files.keys()];
    });
  }

  /** Removes `name` from every role this user can sign; refuses when the tag is signed only by others. */
  async removeTarget(name: string): Promise<string[]> {
    return this.locked(async () => {
      const repo = await this.update();
      const changes = new Map<string, Uint8Array>();
      const roles: { role: string; doc: TargetsSigned; signers: () => Promise<Signer[]> }[] = [
        {
          role: "targets",
          doc: repo.targets.signed,
          signers: () => this.topSigners(repo.root.signed, "targets"),
        },
      ];
      for (const [role, { doc, decl }] of repo.delegations) {
        const parentName = role.slice(0, role.lastIndexOf("/"));
        const parent =
          parentName === "targets" ? repo.targets.signed : repo.delegations.get(parentName)?.doc.signed;
        if (parent)
          roles.push({ role, doc: doc.signed, signers: () => this.delegationSigners(decl, parent) });
      }
      const blocked: string[] = [];
      for (const r of roles) {
        if (!r.doc.targets[name]) continue;
        const signers = await r.signers();
        if (!signers.length) {
          blocked.push(r.role);
          continue;
        }
        const doc = structuredClone(r.doc);
        delete doc.targets[name];
        bump(doc);
        changes.set(r.role, signDocument(doc, signers));
      }
      if (!changes.size) {
        throw new DockyardError(
          blocked.length ? "DENIED" : "NOT_FOUND",
          blocked.length
            ? `${name} is signed in ${blocked.join(", ")}, and none of those keys is here`
            : `${name} is not signed in ${this.gun}`,
        );
      }
      await this.remote.publish(changes);
      return [...changes.keys()];
    });
  }

  // ------------------------------------------------------------------ signers (delegations)

  /** Adds a signer (like `docker trust signer add`): its key joins targets/releases and targets/<name>. */
  async addSigner(name: string, publicPem: string): Promise<string> {
    return this.locked(async () => {
      if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name) || name === "releases") {
        throw new DockyardError(
          "USAGE",
          `signer name ${JSON.stringify(name)} must be letters, digits, _ or - (and not "releases")`,
        );
      }
      const key = tufKeyFromPem(publicPem);
      const id = keyId(key);
      const repo = await this.update();
      const doc = structuredClone(repo.targets.signed);
      doc.delegations ??= { keys: {}, roles: [] };
      doc.delegations.keys[id] = key;
      for (const role of ["targets/releases", `targets/${name}`]) {
        let d = doc.delegations.roles.find((r) => r.name === role);
        if (!d) {
          d = { name: role, keyids: [], threshold: 1, paths: [""] };
          doc.delegations.roles.push(d);
        }
        if (!d.keyids.includes(id)) d.keyids.push(id);
      }
      bump(doc);
      const signers = await this.topSigners(repo.root.signed, "targets");
      if (!signers.length)
        throw new DockyardError(
          "DENIED",
          `adding a signer needs ${this.gun}'s targets key, which is not in ${this.keys.dirs.base}`,
        );
      await this.remote.publish(new Map([["targets", signDocument(doc, signers)]]));
      return id;
    });
  }

  /** Removes a signer: the targets/<name> delegation, and its keys from targets/releases. */
  async removeSigner(name: string): Promise<void> {
    return this.locked(async () => {
      const repo = await this.update();
      const doc = structuredClone(repo.targets.signed);
      const role = doc.delegations?.roles.find((r) => r.name === `targets/${name}`);
      if (!doc.delegations || !role)
        throw new DockyardError("NOT_FOUND", `${this.gun} has no signer ${name}`);
      const gone = new Set(role.keyids);
      doc.delegations.roles = doc.delegations.roles.filter((r) => r !== role);
      for (const r of doc.delegations.roles)
        if (r.name === "targets/releases") r.keyids = r.keyids.filter((k) => !gone.has(k));
      doc.delegations.roles = doc.delegations.roles.filter((r) => r.keyids.length > 0);
      for (const k of gone)
        if (!doc.delegations.roles.some((r) => r.keyids.includes(k))) delete doc.delegations.keys[k];
      bump(doc);
      const signers = await this.topSigners(repo.root.signed, "targets");
      if (!signers.length)
        throw new DockyardError("DENIED", `removing a signer needs ${this.gun}'s targets key`);
      await this.remote.publish(new Map([["targets", signDocument(doc, signers)]]));
    });
  }

  // ------------------------------------------------------------------ rotation

  /**
   * Rotates a role's key. root: a new root key and certificate; the new root is signed by the
   * old and the new root keys, so clients holding the old root can follow. targets: a new
   * targets key, targets re-signed with it. timestamp/snapshot: a new server-held key.
   */
  async rotate(role: "root" | "targets" | "timestamp" | "snapshot"): Promise<string> {
    return this.locked(async () => {
      const repo = await this.update();
      const root = structuredClone(repo.root.signed);
      const oldRootSigners = await this.topSigners(repo.root.signed, "root");
      if (!oldRootSigners.length) {
        throw new DockyardError(
          "DENIED",
          `rotating keys needs ${this.gun}'s root key (in ${this.keys.dirs.rootKeys}; mount your offline root key directory there or set DOCKYARD_TRUST_ROOT_DIR)`,
        );
      }
      const files = new Map<string, Uint8Array>();
      const rootSigners = [...oldRootSigners];
      let newId: string;
      const replace = (r: string, key: TufKey) => {
        const old = root.roles[r]!.keyids;
        newId = keyId(key);
        root.keys[newId] = key;
        root.roles[r] = { keyids: [newId], threshold: 1 };
        for (const k of old)
          if (!Object.values(root.roles).some((x) => x.keyids.includes(k))) delete root.keys[k];
      };
      if (role === "root") {
        const { privateKey } = generateKeyPair("ecdsa");
        await this.keys.add(privateKey, publicTufKey(privateKey), {
          role: "root",
          gun: this.gun,
          name: "root",
        });
        const { key } = await makeRootCertificate(privateKey, this.gun);
        replace("root", key);
        rootSigners.push(await this.keys.signerForPrivate(privateKey, key));
      } else if (role === "targets") {
        const { privateKey } = generateKeyPair("ecdsa");
        const key = publicTufKey(privateKey);
        await this.keys.add(privateKey, key, { role: "targets", gun: this.gun });
        replace("targets", key);
        const t = structuredClone(repo.targets.signed);
        bump(t);
        files.set("targets", signDocument(t, [await this.keys.signerForPrivate(privateKey, key)]));
      } else {
        replace(role, withNullPrivate(await this.remote.rotateKey(role)));
      }
      root.version += 1;
      root.expires = expiryIn(ROOT_EXPIRY);
      files.set("root", signDocument(root, rootSigners));
      await this.remote.publish(files);
      await this.update();
      return newId!;
    });
  }

  async deleteRemote(): Promise<void> {
    return this.locked(async () => {
      await this.remote.deleteAll();
      for (const r of ["root", "timestamp", "snapshot", "targets"]) await this.cache.remove(r);
    });
  }
}

function emptyTargets(version: number): TargetsSigned {
  return {
    _type: "Targets",
    delegations: { keys: {}, roles: [] },
    expires: expiryIn(TARGETS_EXPIRY),
    targets: {},
    version,
  };
}

function bump(doc: TargetsSigned): void {
  doc.version += 1;
  const min = Date.now() + TARGETS_EXPIRY / 3;
  if (Date.parse(doc.expires) < min) doc.expires = expiryIn(TARGETS_EXPIRY);
}

function withNullPrivate(k: TufKey): TufKey {
  return { keytype: k.keytype, keyval: { private: null, public: k.keyval.public } };
}

/** A delegation key from a PEM public key (plain ecdsa/rsa/ed25519) or a certificate (…-x509). */
export function tufKeyFromPem(pem: string): TufKey {
  if (pem.includes("BEGIN CERTIFICATE")) {
    const cert = new X509Certificate(pem);
    const t = cert.publicKey.asymmetricKeyType === "rsa" ? "rsa-x509" : "ecdsa-x509";
    return {
      keytype: t,
      keyval: { private: null, public: Buffer.from(pem.trim() + "\n").toString("base64") },
    };
  }
  const k = tufKeyFromPublic(createPublicKey(pem));
  return { keytype: k.keytype, keyval: { private: null, public: k.keyval.public } };
}

export { spkiOf };
export type { SignedDoc };
