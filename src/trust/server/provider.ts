import type { IncomingMessage, ServerResponse } from "node:http";
import type { ParsedArgs } from "../../cli/args.js";
import { DockyardError } from "../../image/errors.js";
import type { RegistryConfig } from "../../registry/config.js";
import type { ExtensionContext, RegistryExtension } from "../../registry/extension.js";
import type { ExtensionProvider } from "../../registry/extensions-registry.js";
import type { ListenSpec } from "../../registry/app.js";
import { isPathNotFound, type StorageDriver } from "../../registry/storage/driver.js";
import { createNotaryHandler, type TrustAction } from "./http.js";
import { NotaryService, repositoryOfGun } from "./service.js";
import type { TrustStorage } from "./storage.js";
import { TrustPolicy } from "../policy.js";

/** The registry's storage driver as trust storage, under `trust/` (atomic puts, crash-safe). */
export class DriverTrustStorage implements TrustStorage {
  constructor(
    private readonly driver: StorageDriver,
    private readonly prefix = "trust",
  ) {}
  private p(path: string): string {
    return `${this.prefix}/${path}`.replace(/\/+/g, "/").replace(/\/$/, "");
  }
  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return await this.driver.getContent(this.p(path));
    } catch (e) {
      if (isPathNotFound(e)) return undefined;
      throw e;
    }
  }
  async put(path: string, data: Uint8Array, opts: { secret?: boolean } = {}): Promise<void> {
    await this.driver.putContent(this.p(path), data, { sync: true, secret: opts.secret === true });
  }
  async list(prefix: string): Promise<string[]> {
    return this.driver.list(this.p(prefix));
  }
  async delete(prefix: string): Promise<void> {
    await this.driver.delete(this.p(prefix));
  }
}

export { repositoryOfGun };

/** The Notary server mounted on the registry under /v2/<gun>/_trust/tuf/… */
export class TrustExtension implements RegistryExtension {
  readonly name = "trust";
  private handler?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  private ctx?: ExtensionContext;
  service?: NotaryService;

  async init(ctx: ExtensionContext): Promise<void> {
    this.ctx = ctx;
    this.service = new NotaryService(new DriverTrustStorage(ctx.storage));
    this.handler = createNotaryHandler({
      service: this.service,
      authorize: async (req, res, gun, actions: TrustAction[]) => {
        const acts =
          actions.includes("*") || actions.includes("push")
            ? (["pull", "push"] as const)
            : (["pull"] as const);
        return (await ctx.authorize(req, res, repositoryOfGun(gun), [...acts])) !== undefined;
      },
      log: (line) => ctx.log("info", line),
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = req.url ?? "";
    if (!url.includes("/_trust/tuf/") || !this.handler) return false;
    return this.handler(req, res);
  }
}

export const trustProvider: ExtensionProvider = {
  name: "trust",
  flags: [
    {
      name: "trust-listen",
      type: "string",
      valueName: "HOST:PORT",
      description:
        "also serve the registry and its Notary trust server over HTTPS here (Notary's usual port is 4443)",
      env: "DOCKYARD_TRUST_LISTEN",
    },
    {
      name: "trust-tls-cert",
      type: "string",
      valueName: "FILE",
      description: "PEM certificate for --trust-listen",
      env: "DOCKYARD_TRUST_TLS_CERT",
    },
    {
      name: "trust-tls-key",
      type: "string",
      valueName: "FILE",
      description: "PEM private key for --trust-listen",
      env: "DOCKYARD_TRUST_TLS_KEY",
    },
    {
      name: "trust-require",
      type: "string[]",
      valueName: "GLOB",
      description: "repositories whose tags must be signed (trust.require)",
    },
  ],
  async create(args: ParsedArgs, config: RegistryConfig) {
    const listeners: ListenSpec[] = [];
    const listen = args.flags["trust-listen"] as string | undefined;
    const cert = args.flags["trust-tls-cert"] as string | undefined;
    const key = args.flags["trust-tls-key"] as string | undefined;
    if (listen) {
      if (!cert || !key)
        throw new DockyardError(
          "USAGE",
          "--trust-listen needs --trust-tls-cert and --trust-tls-key (docker only talks to trust servers over HTTPS)",
        );
      listeners.push({ listen, tls: { cert, key }, name: "trust" });
    } else if (cert || key) {
      throw new DockyardError("USAGE", "--trust-tls-cert/--trust-tls-key go with --trust-listen");
    }
    const trust = new TrustExtension();
    const fromConfig = (config as unknown as { trust?: { require?: string[] } }).trust?.require ?? [];
    const globs = [...fromConfig, ...((args.flags["trust-require"] as string[] | undefined) ?? [])];
    const extensions: RegistryExtension[] = [trust];
    if (globs.length) extensions.push(new TrustPolicy(globs, () => trust.service!));
    return { extensions, listeners };
  },
};
