import type { IncomingMessage, ServerResponse } from "node:http";
import type { Digest } from "../image/digest.js";
import type { RegistryConfig } from "./config.js";
import type { StorageDriver } from "./storage/driver.js";
import type { RegistryStore, ManifestMeta } from "./store.js";
import type { Action, Identity } from "./auth/index.js";

/**
 * The mount point for features that live beside the distribution API: the Notary/TUF trust
 * server (`/v2/<gun>/_trust/tuf/…`), image signatures (`/extensions/v2/<name>/signatures/…`),
 * policy checks.
 *
 * How to add one:
 *   1. implement `RegistryExtension` (only `name` is required);
 *   2. pass it to `createRegistry({ …, extensions: [ext] })` from code, or, for the CLI,
 *      push an `ExtensionProvider` onto `EXTENSION_PROVIDERS` in `extensions-registry.ts`
 *      (it can add flags to `dockyard registry serve` and extra listeners).
 *
 * Order of a request: `/healthz` → each extension's `handle` (in order; the first that returns
 * true has served it) → the distribution API (authentication/authorization, then the routes).
 * `handle` runs before the API's own auth, so an extension must call `ctx.authorize` itself.
 */
export interface RegistryExtension {
  readonly name: string;
  /** Called once before the first request. */
  init?(ctx: ExtensionContext): Promise<void>;
  /** Serve the request and return true, or return false to pass it on. Keep the "not mine" path cheap. */
  handle?(req: IncomingMessage, res: ServerResponse, ctx: ExtensionContext): Promise<boolean>;
  /** Before a manifest GET/HEAD is answered: throw DockyardError("DENIED", …) to refuse (403). */
  beforeManifestGet?(repo: string, reference: string, desc: ManifestDescriptor): Promise<void>;
  /** Before a tag moves to `newDigest` (old digest undefined for a new tag): throw to refuse. */
  beforeTagWrite?(repo: string, tag: string, newDigest: Digest, oldDigest: Digest | undefined): Promise<void>;
  /** Called on shutdown. */
  close?(): Promise<void>;
}

export interface ManifestDescriptor {
  digest: Digest;
  mediaType: string;
  size: number;
}

/** What the registry gives an extension. */
export interface ExtensionContext {
  readonly config: RegistryConfig;
  /**
   * The storage driver. Keep your files under `extensions/<name>/…` (or `trust/<gun>/…` for the
   * trust server); `putContent` is atomic, so a crash never leaves a half-written file.
   */
  readonly storage: StorageDriver;
  /** The repository-metadata layer (read access to tags/manifests; writes go through the API). */
  readonly store: RegistryStore;
  /**
   * Authenticates and authorizes `actions` on `repo`. On refusal it has already written the
   * 401 (with WWW-Authenticate) or 403 response and returns undefined.
   */
  authorize(
    req: IncomingMessage,
    res: ServerResponse,
    repo: string | undefined,
    actions: Action[],
  ): Promise<Identity | undefined>;
  /** Tag or digest → manifest descriptor, undefined when unknown. */
  resolve(repo: string, reference: string): ManifestDescriptor | undefined;
  /** The exact bytes of a manifest. */
  manifestBytes(digest: Digest): Promise<Buffer>;
  /** Writes a spec-shaped JSON error for a DockyardError (or 500 for anything else). */
  sendError(res: ServerResponse, err: unknown): void;
  /** Operational log line on stderr (respects log.level). */
  log(level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>): void;
}

export type { ManifestMeta };
