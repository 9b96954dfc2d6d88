import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  randomBytes,
  scryptSync,
  type KeyObject,
} from "node:crypto";
import { readFile, readdir, mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DockyardError } from "../../image/errors.js";
import { atomicWriteFile } from "../../util/fs.js";
import { withTrustLock } from "../lock.js";
import { keyId, signerFor, spkiOf, type Signer, type TufKey } from "../tuf/keys.js";

/** Where trust state lives: keys, the TUF cache. Root keys sit apart so they can live offline. */
export interface TrustDirs {
  /** ~/.dockyard/trust (DOCKYARD_TRUST_DIR): repository keys in private/, cache in tuf/. */
  base: string;
  /** Root keys (DOCKYARD_TRUST_ROOT_DIR, default <base>/root-keys): point it at removable media. */
  rootKeys: string;
}

export function trustDirs(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<TrustDirs> = {},
): TrustDirs {
  const base = overrides.base ?? env.DOCKYARD_TRUST_DIR ?? join(homedir(), ".dockyard", "trust");
  return { base, rootKeys: overrides.rootKeys ?? env.DOCKYARD_TRUST_ROOT_DIR ?? join(base, "root-keys") };
}

/** Supplies a passphrase for a role's key; `confirm` when a new key is being encrypted. */
export type PassphraseSource = (what: { role: string; gun?: string; confirm: boolean }) => Promise<string>;

/** Environment first (DOCKYARD_TRUST_ROOT_PASSPHRASE / DOCKYARD_TRUST_REPOSITORY_PASSPHRASE), then `prompt`. */
export function envPassphrases(
  prompt?: PassphraseSource,
  env: NodeJS.ProcessEnv = process.env,
): PassphraseSource {
  return async (what) => {
    const v =
      what.role === "root" ? env.DOCKYARD_TRUST_ROOT_PASSPHRASE : env.DOCKYARD_TRUST_REPOSITORY_PASSPHRASE;
    if (v !== undefined && v !== "") return v;
    if (prompt) return prompt(what);
    throw new DockyardError(
      "USAGE",
      `a passphrase is needed for the ${what.role} key: set ${what.role === "root" ? "DOCKYARD_TRUST_ROOT_PASSPHRASE" : "DOCKYARD_TRUST_REPOSITORY_PASSPHRASE"} or run in a terminal`,
    );
  };
}

/** An encrypted private key file: scrypt (N=2^15, r=8, p=1) → AES-256-GCM over the PKCS#8 DER. */
interface KeyFile {
  format: "dockyard-trust-key-v1";
  role: string;
  gun?: string;
  name?: string;
  public: TufKey;
  kdf: { name: "scrypt"; salt: string; N: number; r: number; p: number };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
}

export interface StoredKeyInfo {
  id: string;
  role: string;
  gun?: string;
  name?: string;
  public: TufKey;
  path: string;
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

function derive(passphrase: string, salt: Buffer, p = SCRYPT): Buffer {
  return scryptSync(passphrase, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 128 * p.N * p.r * 2 });
}

export class KeyStore {
  constructor(
    readonly dirs: TrustDirs,
    private readonly passphrase: PassphraseSource,
  ) {}

  private dirFor(role: string): string {
    return role === "root" ? this.dirs.rootKeys : join(this.dirs.base, "private");
  }

  /** Encrypts and stores `privateKey` for `role`; the key id is that of `pub` (its TUF form). */
  async add(
    privateKey: KeyObject,
    pub: TufKey,
    meta: { role: string; gun?: string; name?: string },
  ): Promise<StoredKeyInfo> {
    const pass = await this.passphrase({ role: meta.role, gun: meta.gun, confirm: true });
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", derive(pass, salt), iv);
    const ct = Buffer.concat([c.update(privateKey.export({ type: "pkcs8", format: "der" })), c.final()]);
    const file: KeyFile = {
      format: "dockyard-trust-key-v1",
      role: meta.role,
      gun: meta.gun,
      name: meta.name,
      public: pub,
      kdf: { name: "scrypt", salt: salt.toString("base64"), ...SCRYPT },
      cipher: { name: "aes-256-gcm", iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64") },
      ciphertext: ct.toString("base64"),
    };
    const id = keyId(pub);
    const path = join(this.dirFor(meta.role), `${id}.key`);
    await withTrustLock(this.dirs.base, async () => {
      await mkdir(this.dirFor(meta.role), { recursive: true, mode: 0o700 });
      await atomicWriteFile(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    });
    return { id, role: meta.role, gun: meta.gun, name: meta.name, public: pub, path };
  }

  async list(): Promise<StoredKeyInfo[]> {
    const out: StoredKeyInfo[] = [];
    for (const dir of [this.dirs.rootKeys, join(this.dirs.base, "private")]) {
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names.filter((x) => x.endsWith(".key"))) {
        try {
          const f = JSON.parse(await readFile(join(dir, n), "utf8")) as KeyFile;
          if (f.format !== "dockyard-trust-key-v1") continue;
          out.push({
            id: n.slice(0, -4),
            role: f.role,
            gun: f.gun,
            name: f.name,
            public: f.public,
            path: join(dir, n),
          });
        } catch {
          /* not ours */
        }
      }
    }
    return out;
  }

  /** Decrypts the key with id `id`; a wrong passphrase is a clear error, never a crash. */
  async privateKey(id: string): Promise<KeyObject> {
    const info = (await this.list()).find((k) => k.id === id);
    if (!info)
      throw new DockyardError(
        "NOT_FOUND",
        `no private key ${id} in ${this.dirs.base} or ${this.dirs.rootKeys}`,
      );
    const f = JSON.parse(await readFile(info.path, "utf8")) as KeyFile;
    const pass = await this.passphrase({ role: f.role, gun: f.gun, confirm: false });
    let der: Buffer;
    try {
      const d = createDecipheriv(
        "aes-256-gcm",
        derive(pass, Buffer.from(f.kdf.salt, "base64"), f.kdf),
        Buffer.from(f.cipher.iv, "base64"),
      );
      d.setAuthTag(Buffer.from(f.cipher.tag, "base64"));
      der = Buffer.concat([d.update(Buffer.from(f.ciphertext, "base64")), d.final()]);
    } catch {
      throw new DockyardError("DENIED", `wrong passphrase for the ${f.role} key ${id.slice(0, 12)}`);
    }
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  }

  async signer(id: string, asKey?: TufKey): Promise<Signer> {
    const info = (await this.list()).find((k) => k.id === id);
    if (!info)
      throw new DockyardError(
        "NOT_FOUND",
        `no private key ${id} in ${this.dirs.base} or ${this.dirs.rootKeys}`,
      );
    return signerFor(await this.privateKey(id), asKey ?? info.public);
  }

  signerForPrivate(privateKey: KeyObject, asKey: TufKey): Signer {
    return signerFor(privateKey, asKey);
  }

  /**
   * Signers for every candidate key (id → TUF key, as a role lists them) whose private half is
   * stored here. Matching is by public key material, so a certificate (x509 key) matches the
   * plain key it wraps; the signature carries the candidate's id.
   */
  async findSigners(_role: string, candidates: Record<string, TufKey>): Promise<Signer[]> {
    const mine = await this.list();
    const bySpki = new Map<string, StoredKeyInfo>();
    for (const k of mine) {
      try {
        bySpki.set(spkiOf(k.public).toString("base64"), k);
      } catch {
        /* unusable entry */
      }
    }
    const out: Signer[] = [];
    const cache = new Map<string, KeyObject>();
    for (const [cid, ck] of Object.entries(candidates)) {
      let spki: string;
      try {
        spki = spkiOf(ck).toString("base64");
      } catch {
        continue;
      }
      const hit = bySpki.get(spki);
      if (!hit) continue;
      let priv = cache.get(hit.id);
      if (!priv) {
        priv = await this.privateKey(hit.id);
        cache.set(hit.id, priv);
      }
      const s = signerFor(priv, ck);
      out.push({ ...s, id: cid, sign: (m) => ({ ...s.sign(m), keyid: cid }) });
    }
    return out;
  }

  /**
   * Imports a PEM private key: PKCS#8 (plain or encrypted), SEC1 EC or PKCS#1 RSA, optionally with
   * notary's `role:`/`gun:` header lines inside the block. An encrypted key is opened with the
   * role's passphrase. The key is stored re-encrypted under this store's scheme.
   */
  async importPem(
    pem: string,
    meta: { role?: string; gun?: string; name?: string } = {},
  ): Promise<StoredKeyInfo> {
    const headerRole = /^role: *(.+)$/m.exec(pem)?.[1]?.trim();
    const headerGun = /^gun: *(.+)$/m.exec(pem)?.[1]?.trim();
    const role = meta.role ?? headerRole ?? "delegation";
    const clean = pem.replace(/^(role|gun|path): .*\r?\n/gm, "").replace(/-----\r?\n\r?\n/, "-----\n");
    let key: KeyObject;
    try {
      key = clean.includes("ENCRYPTED")
        ? createPrivateKey({
            key: clean,
            format: "pem",
            passphrase: await this.passphrase({ role, gun: meta.gun ?? headerGun, confirm: false }),
          })
        : createPrivateKey(clean);
    } catch (e) {
      throw new DockyardError(
        "USAGE",
        `cannot read the private key (${(e as Error).message}); give a PEM private key (and the right passphrase if it is encrypted)`,
      );
    }
    const { publicTufKey } = await import("./generate.js");
    return this.add(key, publicTufKey(key), { role, gun: meta.gun ?? headerGun, name: meta.name });
  }

  /** Exports a key as notary does: encrypted PKCS#8 PEM (AES-256-CBC, PBES2) with `role:`/`gun:` headers. */
  async exportPem(id: string, opts: { plain?: boolean } = {}): Promise<string> {
    const info = (await this.list()).find((k) => k.id === id || k.id.startsWith(id));
    if (!info) throw new DockyardError("NOT_FOUND", `no private key ${id}`);
    const key = await this.privateKey(info.id);
    if (opts.plain) return key.export({ type: "pkcs8", format: "pem" }).toString();
    const pass = await this.passphrase({ role: info.role, gun: info.gun, confirm: false });
    const pem = key
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: pass })
      .toString();
    const headers = [`role: ${info.role}`, ...(info.gun ? [`gun: ${info.gun}`] : [])].join("\n");
    return pem.replace(/^(-----BEGIN [A-Z ]+-----)\n/, `$1\n${headers}\n\n`);
  }

  async remove(id: string): Promise<void> {
    await withTrustLock(this.dirs.base, async () => {
      const info = (await this.list()).find((k) => k.id === id);
      if (info) await rm(info.path, { force: true });
    });
  }
}
