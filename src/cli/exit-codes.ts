import type { ErrorCode } from "../image/errors.js";

/** Documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The command ran and found problems (lint findings over the threshold, verification failed). */
  findings: 1,
  usage: 2,
  /** Input was malformed: manifest, archive, digest, Dockerfile. */
  invalidInput: 3,
  notFound: 4,
  /** Authentication or authorization refused. */
  denied: 5,
  /** Network or remote registry failure. */
  network: 6,
  /** A signature or trust check failed. */
  trust: 7,
  internal: 70,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "USAGE":
    case "CONFIG_INVALID":
      return ExitCode.usage;
    case "DIGEST_INVALID":
    case "SIZE_INVALID":
    case "NAME_INVALID":
    case "TAG_INVALID":
    case "REFERENCE_INVALID":
    case "MANIFEST_INVALID":
    case "ARCHIVE_INVALID":
    case "PATH_ESCAPE":
    case "UNSUPPORTED":
    case "BLOB_UPLOAD_INVALID":
    case "RANGE_INVALID":
      return ExitCode.invalidInput;
    case "MANIFEST_UNKNOWN":
    case "MANIFEST_BLOB_UNKNOWN":
    case "BLOB_UNKNOWN":
    case "BLOB_UPLOAD_UNKNOWN":
    case "NAME_UNKNOWN":
    case "NOT_FOUND":
      return ExitCode.notFound;
    case "UNAUTHORIZED":
    case "DENIED":
      return ExitCode.denied;
    case "NETWORK":
      return ExitCode.network;
    case "TRUST":
      return ExitCode.trust;
    default:
      return ExitCode.internal;
  }
}
