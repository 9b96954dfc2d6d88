import type { FlagSpec, ParsedArgs } from "../cli/args.js";
import type { RegistryConfig } from "./config.js";
import type { RegistryExtension } from "./extension.js";
import type { ListenSpec } from "./app.js";

/**
 * Extensions the CLI's `dockyard registry serve` loads. Another room adds its own by pushing a
 * provider here (from its module, imported by `src/registry/extensions-registry.ts`'s callers or
 * by adding a lazy import below). A provider can add flags to `serve` (shown in --help) and
 * extra listeners (e.g. the trust helper's `--trust-listen HOST:PORT --trust-tls-cert --trust-tls-key`,
 * an HTTPS listener serving the same app).
 */
export interface ExtensionProvider {
  name: string;
  /** Extra flags for `dockyard registry serve`. */
  flags?: FlagSpec[];
  /** Builds the extension(s) and extra listeners from the parsed flags and the final config. */
  create(
    args: ParsedArgs,
    config: RegistryConfig,
  ): Promise<{ extensions?: RegistryExtension[]; listeners?: ListenSpec[] }>;
}

/** Built-in providers, loaded lazily so `serve` does not pay for rooms it does not use. */
const LAZY: (() => Promise<ExtensionProvider[]>)[] = [
  async () => [(await import("../trust/server/provider.js")).trustProvider],
  async () => [(await import("../trust/signatures/provider.js")).signaturesProvider],
];

export const EXTENSION_PROVIDERS: ExtensionProvider[] = [];

export function registerExtensionProvider(p: ExtensionProvider): void {
  if (!EXTENSION_PROVIDERS.some((x) => x.name === p.name)) EXTENSION_PROVIDERS.push(p);
}

/** Every provider: registered ones plus the lazily imported built-ins. */
export async function extensionProviders(): Promise<ExtensionProvider[]> {
  for (const l of LAZY) for (const p of await l()) registerExtensionProvider(p);
  return EXTENSION_PROVIDERS;
}
