/**
 * The registry: a Docker Registry HTTP API v2 / OCI Distribution v1.1 server.
 *
 *   const reg = await createRegistry({ config: { data: "./data" }, extensions: [myExt] });
 *   await reg.listen({ listen: "127.0.0.1:5000" });
 *
 * Extensions (trust server, signatures, policy) implement `RegistryExtension` (see
 * `extension.ts`): `handle(req, res, ctx)` serves extra endpoints before the distribution API,
 * `beforeManifestGet` / `beforeTagWrite` can refuse with DockyardError("DENIED", …), and the
 * `ExtensionContext` gives them the storage driver (keep files under `extensions/<name>/` or
 * `trust/<gun>/`), `authorize(req, res, repo, actions)` (writes 401/403 itself), tag → descriptor
 * resolution, manifest bytes and the config. For the CLI, register an `ExtensionProvider` in
 * `extensions-registry.ts`: it adds flags to `dockyard registry serve` and extra listeners
 * (`ListenSpec`, e.g. an HTTPS listener serving the same app).
 */
export { createRegistry, type Registry, type RegistryOptions, type ListenSpec } from "./app.js";
export type { RegistryExtension, ExtensionContext, ManifestDescriptor } from "./extension.js";
export {
  EXTENSION_PROVIDERS,
  registerExtensionProvider,
  extensionProviders,
  type ExtensionProvider,
} from "./extensions-registry.js";
export { loadConfig, defaultConfig, CONFIG_KEYS, type RegistryConfig } from "./config.js";
export { RegistryStore, blobPath, type ManifestMeta } from "./store.js";
export type { StorageDriver, FileInfo, FileWriter } from "./storage/driver.js";
export { PathNotFoundError, isPathNotFound } from "./storage/driver.js";
export { FilesystemDriver } from "./storage/filesystem.js";
export type { Authenticator, Authorizer, Identity, Action } from "./auth/index.js";
export { HtpasswdAuthenticator, AllowAll, AuthenticatedAllowed } from "./auth/index.js";
export { WIRE_ERRORS, sendError } from "./http.js";
