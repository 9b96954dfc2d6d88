import type { FlagSpec } from "../../cli/args.js";

/** Flags the signatures kinds add to `trust sign`, `trust verify` and `trust key generate` (import-light). */
export const SIGN_FLAGS: FlagSpec[] = [
  {
    name: "key",
    type: "string",
    valueName: "FILE",
    description: "gpg/sigstore: private key (armored OpenPGP secret key, or cosign .key PEM)",
    env: "DOCKYARD_SIGNING_KEY",
  },
  {
    name: "referrer",
    type: "boolean",
    default: true,
    description:
      "sigstore: also store the signature as an OCI 1.1 referrer (--no-referrer: only the sha256-….sig tag)",
  },
  {
    name: "annotation",
    short: "a",
    type: "string[]",
    valueName: "KEY=VALUE",
    description: "sigstore: extra claim in the payload's optional section",
  },
];

export const VERIFY_FLAGS: FlagSpec[] = [
  {
    name: "key",
    type: "string[]",
    valueName: "FILE",
    description: "gpg/sigstore: trusted public key (OpenPGP or PEM; the kind follows the file)",
  },
  {
    name: "policy",
    type: "string",
    valueName: "FILE",
    description: "trust policy file (default $DOCKYARD_POLICY, ~/.config/dockyard/policy.yaml)",
  },
  {
    name: "signed-identity",
    type: "string",
    valueName: "REF",
    description:
      "accept signatures made for REF (the image's name before a copy): gpg exactly, sigstore by repository",
  },
];

export const KEYGEN_FLAGS: FlagSpec[] = [
  {
    name: "format",
    type: "string",
    valueName: "FORMAT",
    description:
      "sigstore: write NAME.key (encrypted cosign key) and NAME.pub; gpg: NAME.asc and NAME.pub.asc",
  },
];
