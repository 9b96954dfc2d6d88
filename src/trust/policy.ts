import type { Digest } from "../image/digest.js";
import { DockyardError } from "../image/errors.js";
import type { ManifestDescriptor, RegistryExtension } from "../registry/extension.js";
import type { NotaryService } from "./server/service.js";
import { TufClient, lookupTarget, type TrustedRepository } from "./tuf/client.js";
import { MemoryTufCache } from "./remote.js";

/**
 * Signature policy: which repositories require signed content, and of which kind. One module for
 * every kind (`notary` here; `gpg` and `sigstore` are the signatures room's), so a registry's
 * `trust.require` list means one thing.
 */
export type SignatureKind = "notary" | "gpg" | "sigstore";

export interface PolicyRule {
  /** Repository glob: `*` matches within a path component, `**` across them. */
  pattern: string;
  kinds: SignatureKind[];
}

/** `team/*` or `team/*@notary,gpg` (default kind notary). */
export function parseRule(s: string): PolicyRule {
  const [pattern, kinds] = s.split("@");
  const ks = (kinds ? kinds.split(",") : ["notary"]).map((k) => k.trim()) as SignatureKind[];
  for (const k of ks)
    if (!["notary", "gpg", "sigstore"].includes(k))
      throw new DockyardError("CONFIG_INVALID", `unknown signature kind ${k} in trust.require ${s}`);
  if (!pattern) throw new DockyardError("CONFIG_INVALID", `empty repository pattern in trust.require ${s}`);
  return { pattern: pattern.trim(), kinds: ks };
}

export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function matchingRules(rules: PolicyRule[], repo: string): PolicyRule[] {
  return rules.filter((r) => globToRegExp(r.pattern).test(repo));
}

/**
 * The registry side of `trust.require` for Notary: a manifest GET by tag of a required
 * repository is refused unless the tag's digest is the one signed in the repository's trust
 * data (verified with the TUF client against the registry's own trust server); a tag write that
 * would move a signed tag to another digest is refused. GETs by digest are allowed (that is how
 * verified clients pull).
 */
export class TrustPolicy implements RegistryExtension {
  readonly name = "trust-policy";
  readonly rules: PolicyRule[];
  constructor(
    globs: string[],
    private readonly service: () => NotaryService,
  ) {
    this.rules = globs
      .flatMap((g) => g.split(","))
      .filter((g) => g.trim())
      .map(parseRule);
  }

  private requires(repo: string): boolean {
    return matchingRules(this.rules, repo).some((r) => r.kinds.includes("notary"));
  }

  /** Verified trust data per GUN, reused while the GUN's timestamp is unchanged. */
  private readonly verified = new Map<
    string,
    { ts: string; until: number; repo: TrustedRepository | undefined }
  >();

  /** The signed digest of `tag` in any GUN of this registry for `repo` (host part ignored). */
  private async signedDigest(repo: string, tag: string): Promise<string | undefined> {
    const svc = this.service();
    for (const gun of await svc.gunsFor(repo)) {
      const ts = await svc.currentHash(gun, "timestamp");
      if (!ts) continue;
      let hit = this.verified.get(gun);
      if (!hit || hit.ts !== ts || Date.now() >= hit.until) {
        const remote = { get: async (f: string) => svc.getMetadata(gun, f) };
        let trusted: TrustedRepository | undefined;
        try {
          trusted = await new TufClient(gun, remote, new MemoryTufCache()).update();
        } catch {
          trusted = undefined; // invalid trust data counts as unsigned
        }
        hit = {
          ts,
          until: trusted ? Date.parse(trusted.timestamp.signed.expires) : Date.now() + 5000,
          repo: trusted,
        };
        this.verified.set(gun, hit);
      }
      const t = hit.repo ? lookupTarget(hit.repo, tag) : undefined;
      if (t?.meta.hashes.sha256)
        return `sha256:${Buffer.from(t.meta.hashes.sha256, "base64").toString("hex")}`;
    }
    return undefined;
  }

  async beforeManifestGet(repo: string, reference: string, desc: ManifestDescriptor): Promise<void> {
    if (reference.includes(":") || !this.requires(repo)) return; // by digest: content-addressed
    const signed = await this.signedDigest(repo, reference);
    if (!signed)
      throw new DockyardError(
        "DENIED",
        `${repo}:${reference} is not signed, and this registry requires signed tags for ${repo} (trust.require)`,
      );
    if (signed !== desc.digest)
      throw new DockyardError(
        "DENIED",
        `${repo}:${reference} points at ${desc.digest}, but the signed digest is ${signed} (trust.require)`,
      );
  }

  async beforeTagWrite(
    repo: string,
    tag: string,
    newDigest: Digest,
    oldDigest: Digest | undefined,
  ): Promise<void> {
    if (!oldDigest || oldDigest === newDigest || !this.requires(repo)) return;
    const signed = await this.signedDigest(repo, tag);
    if (signed && signed === oldDigest) {
      throw new DockyardError(
        "DENIED",
        `${repo}:${tag} is signed (${signed}); moving it to ${newDigest} is refused (trust.require): sign the new digest after pushing it under another tag, or revoke first`,
      );
    }
  }
}
