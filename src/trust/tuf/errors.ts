import { DockyardError } from "../../image/errors.js";

/**
 * Which TUF guarantee a failed check protects. Every refusal names one, so a user reading the
 * error knows what kind of attack (or mistake) was stopped.
 */
export type Guarantee =
  | "integrity" // bytes do not hash to what signed metadata records (tampering)
  | "signature" // a signature does not verify, or is by a key the role does not trust
  | "threshold" // fewer valid signatures than the role's threshold
  | "rollback" // a version lower than one already seen (replay of old metadata)
  | "freeze" // metadata past its expiry date (an attacker freezing clients on old data)
  | "mix-and-match" // snapshot does not record the targets version being used
  | "delegation" // a delegated role signing outside its paths, or not delegated at all
  | "root-rotation" // a new root not signed by the old root (and the new one), or skipping a version
  | "format"; // malformed metadata

export class TrustError extends DockyardError {
  readonly guarantee: Guarantee;
  constructor(guarantee: Guarantee, message: string, detail?: unknown) {
    super("TRUST", `${message} [${guarantee} check failed]`, detail);
    this.guarantee = guarantee;
  }
}
