/**
 * Typed errors shared by every room. `code` is stable: the registry maps it to an OCI error code
 * on the wire, the CLI maps it to an exit code (see src/cli/exit-codes.ts).
 */
export type ErrorCode =
  | "DIGEST_INVALID"
  | "SIZE_INVALID"
  | "NAME_INVALID"
  | "TAG_INVALID"
  | "REFERENCE_INVALID"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "MANIFEST_BLOB_UNKNOWN"
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "RANGE_INVALID"
  | "TOOMANYREQUESTS"
  | "UNAVAILABLE"
  | "STORAGE_FULL"
  | "NAME_UNKNOWN"
  | "UNSUPPORTED"
  | "UNAUTHORIZED"
  | "DENIED"
  | "ARCHIVE_INVALID"
  | "PATH_ESCAPE"
  | "NOT_FOUND"
  | "USAGE"
  | "CONFIG_INVALID"
  | "NETWORK"
  | "TRUST"
  | "INTERNAL";

export class DockyardError extends Error {
  readonly code: ErrorCode;
  readonly detail?: unknown;
  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = "DockyardError";
    this.code = code;
    this.detail = detail;
  }
}

export function isDockyardError(err: unknown, code?: ErrorCode): err is DockyardError {
  return err instanceof DockyardError && (code === undefined || err.code === code);
}
