import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { keyId, signerFor, tufKeyFromPublic, type Signer, type TufKey } from "../tuf/keys.js";
import { joinPath, type TrustStorage } from "./storage.js";

interface StoredKey {
  keytype: string;
  public: string;
  privatePkcs8: string; // PEM
  created: string;
}

/**
 * The keys notary-server holds per GUN: timestamp always, snapshot when the repository owner
 * hands it over (`notary key rotate GUN snapshot -r`). Created on the first GET of
 * `<role>.key`, rotated by a POST to it; ECDSA P-256 like notary-server's default.
 */
export class ServerKeys {
  constructor(
    private readonly storage: TrustStorage,
    private readonly dirFor: (gun: string) => string,
  ) {}

  private dir(gun: string, role: string): string {
    return joinPath(this.dirFor(gun), "keys", role);
  }

  private async all(gun: string, role: string): Promise<StoredKey[]> {
    const names = (await this.storage.list(this.dir(gun, role))).filter((n) => n.endsWith(".json"));
    const keys: StoredKey[] = [];
    for (const n of names) {
      const b = await this.storage.get(joinPath(this.dir(gun, role), n));
      if (b) keys.push(JSON.parse(Buffer.from(b).toString("utf8")) as StoredKey);
    }
    return keys.sort((a, b) => a.created.localeCompare(b.created));
  }

  private static tuf(k: StoredKey): TufKey {
    return { keytype: k.keytype, keyval: { private: null, public: k.public } };
  }

  async create(gun: string, role: string): Promise<TufKey> {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const tuf = tufKeyFromPublic(publicKey);
    const stored: StoredKey = {
      keytype: tuf.keytype,
      public: tuf.keyval.public,
      privatePkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      // a sortable creation stamp; the random suffix keeps two keys made in one ms ordered stably
      created: `${new Date().toISOString()}-${randomBytes(4).toString("hex")}`,
    };
    await this.storage.put(
      joinPath(this.dir(gun, role), `${keyId(tuf)}.json`),
      Buffer.from(JSON.stringify(stored)),
      { secret: true }, // it holds the private key
    );
    return { keytype: tuf.keytype, keyval: { private: null, public: tuf.keyval.public } };
  }

  /** The newest key for the role, created if there is none (notary-server's GetOrCreate). */
  async getOrCreate(gun: string, role: string): Promise<TufKey> {
    const keys = await this.all(gun, role);
    const last = keys[keys.length - 1];
    return last ? ServerKeys.tuf(last) : this.create(gun, role);
  }

  /** A signer for whichever held key root lists for the role (newest first), if any. */
  async signerAmong(gun: string, role: string, keyids: string[]): Promise<Signer | undefined> {
    const keys = await this.all(gun, role);
    for (const k of keys.reverse()) {
      const tuf = ServerKeys.tuf(k);
      if (keyids.includes(keyId(tuf))) return signerFor(createPrivateKey(k.privatePkcs8), tuf);
    }
    return undefined;
  }
}
