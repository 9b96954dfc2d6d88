import type { IncomingMessage } from "node:http";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import bcrypt from "bcryptjs";
import { DockyardError } from "../../image/errors.js";
import type { Action, Authenticator, Identity } from "./index.js";

const CACHE_TTL_MS = 5 * 60 * 1000;
const CACHE_MAX = 1000;

/**
 * htpasswd basic auth with bcrypt entries (`user:$2y$…`, as `htpasswd -B` writes). Verified
 * credentials are cached for a few minutes by a SHA-256 of the header (bcrypt costs ~50 ms per
 * check, far too slow for every request of a pull).
 */
export class HtpasswdAuthenticator implements Authenticator {
  private readonly users = new Map<string, string>();
  private readonly cache = new Map<string, { identity: Identity; until: number }>();
  readonly realm: string;

  constructor(opts: { path?: string; text?: string; realm?: string }) {
    this.realm = opts.realm ?? "dockyard";
    let text = opts.text;
    if (text === undefined) {
      try {
        text = readFileSync(opts.path!, "utf8");
      } catch (err) {
        throw new DockyardError(
          "CONFIG_INVALID",
          `cannot read htpasswd file ${opts.path}: ${(err as Error).message}`,
        );
      }
    }
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const c = line.indexOf(":");
      const user = line.slice(0, c);
      const hash = line.slice(c + 1);
      if (c <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash))
        throw new DockyardError(
          "CONFIG_INVALID",
          `htpasswd line ${i + 1}: only bcrypt entries are supported (create them with 'htpasswd -B')`,
        );
      this.users.set(user, hash.replace(/^\$2y\$/, "$2a$"));
    }
  }

  async authenticate(req: IncomingMessage): Promise<Identity | undefined> {
    const h = req.headers.authorization;
    if (!h || !/^basic /i.test(h)) return undefined;
    const key = createHash("sha256").update(h).digest("base64");
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.identity;
    let decoded: string;
    try {
      decoded = Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
    } catch {
      return undefined;
    }
    const c = decoded.indexOf(":");
    if (c < 0) return undefined;
    const user = decoded.slice(0, c);
    const password = decoded.slice(c + 1);
    const hash = this.users.get(user);
    if (!hash) {
      // Same work as a real check, so user names cannot be probed by timing.
      await bcrypt.compare(password, "$2a$10$CwTycUXWue0Thq9StjUM0uJ8.kCt7Nq/2Y6oZ.ia5C5cGk0lb7Xz6");
      return undefined;
    }
    const ok = await bcrypt.compare(password, hash);
    if (!ok) return undefined;
    const identity: Identity = { subject: user, anonymous: false };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(key, { identity, until: now + CACHE_TTL_MS });
    return identity;
  }

  challenge(_repo: string | undefined, _actions: Action[]): string {
    return `Basic realm="${this.realm.replace(/"/g, "")}"`;
  }
}
