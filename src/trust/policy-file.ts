import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { DockyardError } from "../image/errors.js";

/**
 * The trust policy FILE for every kind of signature (src/trust/policy.ts holds the registry's
 * `trust.require` globs and the Notary enforcement; this module is the keyed, per-kind form) (Notary/TUF, GPG simple signing, cosign-style).
 * The registry reads it from `trust.policy` in its config; the client from `--policy FILE`,
 * `DOCKYARD_POLICY` or `~/.config/dockyard/policy.yaml`. Same document either way:
 *
 * ```yaml
 * default: none              # what repositories no rule matches get: none | reject
 * rules:                     # first matching rule wins
 *   - repositories: ["prod/**", "127.0.0.1:5000/prod/**"]
 *     require: any           # any | all | none | reject
 *     signedBy:
 *       - kind: notary       # Docker Content Trust / Notary v1 (TUF) — see src/trust/tuf
 *       - kind: gpg          # containers simple signing (skopeo --sign-by)
 *         keys: [keys/release.asc]          # paths relative to this file, armored or binary
 *         signedIdentity: { type: matchRepoDigestOrExact }   # containers-policy.json rules
 *       - kind: sigstore     # cosign-style (tag sha256-….sig, OCI 1.1 referrers)
 *         keys: [keys/cosign.pub]
 * ```
 */
export type SignatureKind = "notary" | "gpg" | "sigstore";
export const SIGNATURE_KINDS: readonly SignatureKind[] = ["notary", "gpg", "sigstore"];

export interface SignerRequirement {
  kind: SignatureKind;
  /** Key files (absolute paths after loading) — gpg: OpenPGP public keys; sigstore: PEM public keys. */
  keys: string[];
  /** Inline key material (PEM or armored), alternatively to files. */
  keyData: string[];
  /** containers-policy.json `signedIdentity` (gpg, sigstore); undefined = the kind's default. */
  signedIdentity?: Record<string, unknown>;
  /** Kind-specific options the owning module interprets (e.g. notary: server URL, roles). */
  options: Record<string, unknown>;
}

export type Requirement = "none" | "any" | "all" | "reject";

export interface PolicyFileRule {
  repositories: string[];
  require: Requirement;
  signedBy: SignerRequirement[];
}

export interface PolicyDocument {
  default: "none" | "reject";
  rules: PolicyFileRule[];
  /** Where the policy came from (for messages). */
  source?: string;
}

export const EMPTY_POLICY: PolicyDocument = { default: "none", rules: [] };

const invalid = (source: string | undefined, why: string) =>
  new DockyardError("CONFIG_INVALID", `trust policy${source ? ` ${source}` : ""}: ${why}`);

/** Glob over repository names: `*` within one path component, `**` across components, `?` one char. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * The rule for a repository. `repository` is the path inside the registry (`prod/app`); `host`, when
 * known, lets rules also name `host/prod/app`. Returns undefined when the policy's default applies.
 */
export function ruleFor(
  policy: PolicyDocument,
  repository: string,
  host?: string,
): PolicyFileRule | undefined {
  const names = host ? [repository, `${host}/${repository}`] : [repository];
  for (const rule of policy.rules) {
    if (rule.repositories.some((g) => names.some((n) => globToRegExp(g).test(n)))) return rule;
  }
  return undefined;
}

/** The effective requirement for a repository (a missing rule yields the default). */
export function requirementFor(policy: PolicyDocument, repository: string, host?: string): PolicyFileRule {
  return (
    ruleFor(policy, repository, host) ?? {
      repositories: ["**"],
      require: policy.default === "reject" ? "reject" : "none",
      signedBy: [],
    }
  );
}

function asStringList(v: unknown, what: string, source?: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw invalid(source, `${what} must be a string or a list of strings`);
}

/** Validates a parsed policy document; key paths are resolved against `baseDir`. */
export function parsePolicy(doc: unknown, opts: { baseDir?: string; source?: string } = {}): PolicyDocument {
  const { source } = opts;
  if (doc === undefined || doc === null) return { ...EMPTY_POLICY, source };
  if (typeof doc !== "object" || Array.isArray(doc)) throw invalid(source, "must be a mapping");
  const d = doc as Record<string, unknown>;
  const def = d.default ?? "none";
  if (def !== "none" && def !== "reject")
    throw invalid(source, `default must be none or reject, not ${JSON.stringify(def)}`);
  const rulesIn = d.rules ?? [];
  if (!Array.isArray(rulesIn)) throw invalid(source, "rules must be a list");
  const rules = rulesIn.map((r: unknown, i): PolicyFileRule => {
    if (typeof r !== "object" || r === null) throw invalid(source, `rules[${i}] must be a mapping`);
    const rr = r as Record<string, unknown>;
    const repositories = asStringList(rr.repositories ?? rr.match, `rules[${i}].repositories`, source);
    if (!repositories.length) throw invalid(source, `rules[${i}] names no repositories`);
    const require = (rr.require ?? (rr.signedBy ? "any" : "none")) as Requirement;
    if (!["none", "any", "all", "reject"].includes(require)) {
      throw invalid(source, `rules[${i}].require must be any, all, none or reject`);
    }
    const sb = rr.signedBy ?? [];
    if (!Array.isArray(sb)) throw invalid(source, `rules[${i}].signedBy must be a list`);
    const signedBy = sb.map((s: unknown, j): SignerRequirement => {
      const where = `rules[${i}].signedBy[${j}]`;
      if (typeof s !== "object" || s === null) throw invalid(source, `${where} must be a mapping`);
      const ss = s as Record<string, unknown>;
      const kind = ss.kind;
      if (!SIGNATURE_KINDS.includes(kind as SignatureKind)) {
        throw invalid(source, `${where}.kind must be one of ${SIGNATURE_KINDS.join(", ")}`);
      }
      const keys = asStringList(ss.keys ?? ss.keyPath, `${where}.keys`, source).map((k) =>
        opts.baseDir && !isAbsolute(k) ? resolvePath(opts.baseDir, k) : k,
      );
      const keyData = asStringList(ss.keyData, `${where}.keyData`, source);
      if (kind !== "notary" && keys.length + keyData.length === 0) {
        throw invalid(source, `${where} (${String(kind)}) needs keys or keyData`);
      }
      const { kind: _k, keys: _ks, keyPath: _kp, keyData: _kd, signedIdentity, ...options } = ss;
      const out: SignerRequirement = { kind: kind as SignatureKind, keys, keyData, options };
      if (signedIdentity !== undefined) {
        if (typeof signedIdentity !== "object" || signedIdentity === null) {
          throw invalid(source, `${where}.signedIdentity must be a mapping`);
        }
        out.signedIdentity = signedIdentity as Record<string, unknown>;
      }
      return out;
    });
    if ((require === "any" || require === "all") && signedBy.length === 0) {
      throw invalid(source, `rules[${i}] requires signatures but lists no signedBy`);
    }
    return { repositories, require, signedBy };
  });
  return { default: def, rules, source };
}

/** Reads a policy file (YAML or JSON). */
export async function loadPolicyFile(path: string): Promise<PolicyDocument> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new DockyardError("CONFIG_INVALID", `cannot read trust policy ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    const { parse: parseYaml } = await import("yaml");
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(path, `not YAML/JSON: ${(err as Error).message}`);
  }
  return parsePolicy(doc, { baseDir: dirname(resolvePath(path)), source: path });
}

/** The result of checking one image against one rule. */
export interface PolicyCheck {
  ok: boolean;
  /** One line per signer requirement: what satisfied it or why it failed. */
  details: string[];
}

/** Verifies one signer requirement for an image; each kind's module provides one. */
export type KindVerifier = (req: SignerRequirement) => Promise<{ ok: boolean; detail: string }>;

/**
 * Evaluates a rule with the verifiers of each kind. A kind without a verifier in this build fails
 * with a message saying so (never a silent pass).
 */
export async function evaluateRule(
  rule: PolicyFileRule,
  verifiers: Partial<Record<SignatureKind, KindVerifier>>,
): Promise<PolicyCheck> {
  if (rule.require === "none") return { ok: true, details: ["no signatures required"] };
  if (rule.require === "reject") return { ok: false, details: ["the policy rejects this repository"] };
  const details: string[] = [];
  let passed = 0;
  for (const req of rule.signedBy) {
    const v = verifiers[req.kind];
    const r = v ? await v(req) : { ok: false, detail: `${req.kind} verification is not available here` };
    details.push(`${req.kind}: ${r.detail}`);
    if (r.ok) {
      passed++;
      if (rule.require === "any") break;
    }
  }
  const ok = rule.require === "any" ? passed > 0 : passed === rule.signedBy.length;
  return { ok, details };
}
