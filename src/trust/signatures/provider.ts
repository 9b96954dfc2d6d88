import type { ParsedArgs } from "../../cli/args.js";
import { DockyardError } from "../../image/errors.js";
import type { RegistryConfig } from "../../registry/config.js";
import type { ExtensionProvider } from "../../registry/extensions-registry.js";
import { loadPolicyFile, type PolicyDocument } from "../policy-file.js";
import { parseRule } from "../policy.js";
import { SignaturesRegistryExtension } from "./registry-extension.js";

/**
 * `dockyard registry serve` always serves the signatures API (X-Registry-Supports-Signatures), and
 * enforces the gpg/sigstore rules of the trust policy file (`trust.policy` / `--trust-policy`).
 */
export const signaturesProvider: ExtensionProvider = {
  name: "signatures",
  flags: [
    {
      name: "trust-policy",
      type: "string",
      valueName: "FILE",
      description: "trust policy file whose gpg/sigstore rules the registry enforces (trust.policy)",
      env: "DOCKYARD_TRUST_POLICY",
    },
  ],
  async create(args: ParsedArgs, config: RegistryConfig) {
    const trust = (config as unknown as { trust?: { policy?: string; require?: string[] } }).trust ?? {};
    const path = (args.flags["trust-policy"] as string | undefined) || trust.policy || "";
    const policy: PolicyDocument | undefined = path ? await loadPolicyFile(path) : undefined;
    for (const glob of trust.require ?? []) {
      for (const g of glob.split(",").filter((x) => x.trim())) {
        const rule = parseRule(g);
        const keyed = rule.kinds.filter((k) => k !== "notary");
        if (keyed.length && !policy) {
          throw new DockyardError(
            "CONFIG_INVALID",
            `trust.require ${g} asks for ${keyed.join("/")} signatures, which need keys: write the rule in a trust policy file (trust.policy) with signedBy keys`,
          );
        }
      }
    }
    return { extensions: [new SignaturesRegistryExtension(policy ? { policy } : {})] };
  },
};
