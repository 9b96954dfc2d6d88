import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import type { Command, CommandIO } from "../command.js";
import type { FlagSpec, ParsedArgs } from "../args.js";
import { ExitCode } from "../exit-codes.js";
import { DockyardError } from "../../image/errors.js";
import { copy, withTarget, type CopyOptions, type CopyResult } from "../../image/copy.js";
import type { ImageTarget } from "../../image/transports/types.js";
import { parsePlatform, formatPlatform } from "../../image/platform.js";
import { familiarReference, formatReference, parseReference } from "../../image/reference.js";
import { isIndex, parseManifest, type ImageConfig } from "../../image/manifest.js";
import {
  closeRegistryClients,
  formatTransport,
  LocalStore,
  openSource,
  openTarget,
  parseTransport,
  registryClient,
  removeCredentials,
  storeCredentials,
  type OpenOptions,
  type TransportSpec,
} from "../../image/transports/index.js";
import type { ArchiveSource } from "../../image/transports/archive.js";

import { createProgress, formatBytes, type Progress } from "../../util/progress.js";
import { tempPathFor } from "../../util/fs.js";
import { SIGN_FLAG, VERIFY_FLAG, verifiedTransfer } from "../../trust/cli-hooks.js";

// rootfs (flattening, tarballs) and archives load with the commands that use them: push, pull,
// copy and tag start without tar-stream, zlib or child_process
const rootfs = () => import("../../image/rootfs.js");
const archives = () => import("../../image/transports/archive.js");

const progressFlag: FlagSpec = {
  name: "progress",
  type: "string",
  valueName: "MODE",
  description: "auto (bars on a TTY, plain lines otherwise), tty, plain, json or quiet",
  default: "auto",
  env: "DOCKYARD_PROGRESS",
};
const insecureFlag: FlagSpec = {
  name: "insecure",
  type: "boolean",
  description: "allow plain HTTP / unverified TLS to registries (loopback registries always are)",
};
const removeSignaturesFlag: FlagSpec = {
  name: "remove-signatures",
  type: "boolean",
  description: "do not carry the source's GPG/cosign signatures to a registry destination",
};

const platformFlag: FlagSpec = {
  name: "platform",
  type: "string",
  valueName: "OS/ARCH[/VARIANT]",
  description: "pick this platform from multi-platform images (default: this machine's)",
};
const allPlatformsFlag: FlagSpec = {
  name: "all-platforms",
  type: "boolean",
  description: "copy every platform of a multi-platform image (the index digest is kept)",
};
const concurrencyFlag: FlagSpec = {
  name: "concurrency",
  type: "string",
  valueName: "N",
  description: "blobs transferred in parallel",
  default: "6",
};

function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" ? v : undefined;
}

function progressFor(args: ParsedArgs, io: CommandIO): Progress {
  try {
    return createProgress(str(args, "progress"), io.stderr);
  } catch (err) {
    throw new DockyardError("USAGE", (err as Error).message);
  }
}

function openOpts(args: ParsedArgs): OpenOptions {
  return { insecure: args.flags.insecure === true };
}

function copyOpts(args: ParsedArgs, progress: Progress): CopyOptions {
  const o: CopyOptions = { progress };
  const p = str(args, "platform");
  if (p) o.platform = parsePlatform(p);
  if (args.flags["all-platforms"] === true) o.allPlatforms = true;
  const c = str(args, "concurrency");
  if (c !== undefined) {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1)
      throw new DockyardError("USAGE", `--concurrency must be a positive integer`);
    o.concurrency = n;
  }
  return o;
}

function need(args: ParsedArgs, n: number, usage: string): string[] {
  if (args.positionals.length < n) throw new DockyardError("USAGE", `expected ${usage}`);
  return args.positionals;
}

function summary(r: CopyResult): string {
  const parts = [`${r.blobsCopied} blob(s) copied (${formatBytes(r.bytesCopied)})`];
  if (r.blobsSkipped) parts.push(`${r.blobsSkipped} already there`);
  if (r.blobsMounted) parts.push(`${r.blobsMounted} mounted`);
  return parts.join(", ");
}

/** Runs a copy between two transport strings; bare refs mean the local store. */
async function transfer(
  src: TransportSpec,
  dst: TransportSpec,
  args: ParsedArgs,
  progress: Progress,
  extra: OpenOptions = {},
  verify?: CopyOptions["verify"],
): Promise<CopyResult> {
  const opts = { ...openOpts(args), ...extra };
  const { source, ref } = await openSource(src, opts);
  try {
    const { target, ref: tref } = await openTarget(dst, opts);
    const co = { ...copyOpts(args, progress), ...(verify ? { verify } : {}) };
    return await guardedTarget(target, () => copy(source, ref, target, tref, co));
  } finally {
    await source.close?.();
  }
}

/**
 * Interrupts: SIGINT/SIGTERM run every pending cleanup (abort targets, remove temp files) and
 * then exit, so an interrupted command leaves no half-written output. Installed when this module
 * loads, so a signal that arrives while a target is being opened is covered too.
 */
const pendingCleanups = new Set<() => Promise<unknown>>();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    void Promise.allSettled([...pendingCleanups].map((f) => f())).finally(() =>
      process.exit(sig === "SIGINT" ? 130 : 143),
    );
  });
}

async function interruptible<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  pendingCleanups.add(cleanup);
  try {
    return await fn();
  } finally {
    pendingCleanups.delete(cleanup);
  }
}

/** withTarget, with the target aborted on SIGINT/SIGTERM. */
function guardedTarget<T>(target: ImageTarget, fn: (t: ImageTarget) => Promise<T>): Promise<T> {
  return interruptible(
    () => target.abort?.() ?? Promise.resolve(),
    () => withTarget(target, fn),
  );
}

async function finish<T>(progress: Progress, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    progress.close();
    closeRegistryClients();
  }
}

const copyCmd: Command = {
  name: "copy",
  summary: "Copy an image between any two transports (digests preserved)",
  usage: "copy [flags] SOURCE DESTINATION",
  help: `
Transports:
  docker://HOST/NAME[:TAG|@DIGEST]   a registry (token/basic auth from ~/.docker/config.json)
  oci:DIR[:REF]                      an OCI image layout directory
  oci-archive:FILE[:REF]             a tar of an OCI layout
  docker-archive:FILE[:REF]          'docker save' format (FILE - is stdin/stdout)
  docker-daemon:NAME[:TAG]           the Docker Engine at DOCKER_HOST
  store:NAME[:TAG] or a bare NAME    the local store ($DOCKYARD_HOME)

Manifests are copied byte for byte, so digests stay the same; blobs the destination has are
skipped, and registry-to-registry copies within one registry mount instead of re-uploading.

Examples:
  dockyard copy docker://localhost:5000/app:1 oci:./app-layout:1
  dockyard copy --all-platforms docker://reg-a:5000/base docker://reg-b:5000/base
  dockyard copy docker-daemon:app:dev docker-archive:app.tar:app:dev`,
  flags: [
    allPlatformsFlag,
    platformFlag,
    concurrencyFlag,
    insecureFlag,
    progressFlag,
    VERIFY_FLAG,
    removeSignaturesFlag,
  ],
  async run(args, io) {
    const [a, b] = need(args, 2, "SOURCE and DESTINATION");
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const src = parseTransport(a!);
      const dst = parseTransport(b!);
      const run = (s: TransportSpec, verify?: CopyOptions["verify"]) =>
        transfer(s, dst, args, progress, {}, verify);
      const r =
        args.flags.verify === true && src.kind === "docker"
          ? await verifiedTransfer(src, run, (l) => progress.info(l))
          : await run(src);
      progress.info(
        `copied ${formatTransport(src)} → ${formatTransport(dst)}: ${r.descriptor.digest} (${summary(r)})`,
      );
      if (src.kind === "docker" && dst.kind === "docker" && args.flags["remove-signatures"] !== true) {
        const { carryAfterCopy } = await import("../../trust/signatures/hooks.js");
        await carryAfterCopy(
          src.reference!,
          dst.reference!,
          [r.descriptor.digest, ...r.manifests.map((m) => m.digest)],
          { insecure: args.flags.insecure === true, info: (l) => progress.info(l) },
        );
      }
      return ExitCode.ok;
    });
  },
};

const pushCmd: Command = {
  name: "push",
  summary: "Push an image from the local store to a registry",
  usage: "push [flags] NAME[:TAG] [DESTINATION]",
  help: `
Pushes NAME from the local store to the registry NAME names (like 'docker push'), or to
DESTINATION (a docker:// reference or any transport).

Like docker, the store remembers where each blob came from ($DOCKYARD_HOME/blob-origins: the
repositories it was pulled from or pushed to): a blob another repository of the destination's
registry holds is mounted from there (one request, no bytes; progress says "mounted from …"),
and one no record places in the destination repository is uploaded without an existence check.

Examples:
  dockyard push localhost:5000/app:1
  dockyard push app:1 docker://localhost:5000/team/app:1`,
  flags: [allPlatformsFlag, platformFlag, concurrencyFlag, insecureFlag, progressFlag, SIGN_FLAG],
  async run(args, io) {
    const [name, dest] = need(args, 1, "an image NAME");
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const src = parseTransport(name!, "store");
      const dst = dest ? parseTransport(dest, "docker") : parseTransport(name!, "docker");
      if (args.flags["all-platforms"] === undefined) args.flags["all-platforms"] = true;
      const r = await transfer(src, dst, args, progress);
      progress.info(
        `pushed ${formatTransport(dst)}: digest ${r.descriptor.digest} size ${r.descriptor.size} (${summary(r)})`,
      );
      if (args.flags.sign === true) {
        const { signPushed } = await import("../../trust/cli-hooks.js");
        const roles = await signPushed(dst, r.descriptor);
        progress.info(`signed ${formatTransport(dst)}: digest ${r.descriptor.digest} (${roles.join(", ")})`);
      }
      return ExitCode.ok;
    });
  },
};

const pullCmd: Command = {
  name: "pull",
  summary: "Pull an image from a registry into the local store",
  usage: "pull [flags] NAME[:TAG|@DIGEST]",
  help: `
Examples:
  dockyard pull localhost:5000/app:1
  dockyard pull --platform linux/arm64 localhost:5000/base:3`,
  flags: [allPlatformsFlag, platformFlag, concurrencyFlag, insecureFlag, progressFlag, VERIFY_FLAG],
  async run(args, io) {
    const [name] = need(args, 1, "an image NAME");
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const src = parseTransport(name!, "docker");
      const r0 = src.reference!;
      const storeName =
        r0.tag || !r0.digest ? formatReference({ ...r0, digest: undefined }) : formatReference(r0);
      const dst = parseTransport(`store:${storeName}`);
      const run = (s: TransportSpec, verify?: CopyOptions["verify"]) =>
        transfer(s, dst, args, progress, {}, verify);
      const r =
        args.flags.verify === true
          ? await verifiedTransfer(src, run, (l) => progress.info(l))
          : await run(src);
      progress.info(`pulled ${familiarReference(r0)}: digest ${r.descriptor.digest} (${summary(r)})`);
      return ExitCode.ok;
    });
  },
};

const tagCmd: Command = {
  name: "tag",
  summary: "Give an image in the local store another name",
  usage: "tag SOURCE[:TAG] TARGET[:TAG]",
  flags: [],
  async run(args, io) {
    const [a, b] = need(args, 2, "SOURCE and TARGET");
    const store = new LocalStore();
    const d = await store.tag(a!, b!);
    io.stdout.write(`${familiarReference(parseReference(b!))} → ${d.digest}\n`);
    return ExitCode.ok;
  },
};

const imagesCmd: Command = {
  name: "images",
  summary: "List images in the local store",
  usage: "images [flags] [REPOSITORY[:TAG]]",
  flags: [
    { name: "format", type: "string", valueName: "FORMAT", description: "table or json", default: "table" },
    { name: "digests", type: "boolean", description: "show manifest digests" },
    { name: "quiet", short: "q", type: "boolean", description: "only image IDs" },
  ],
  async run(args, io) {
    const store = new LocalStore();
    let rows = await store.list();
    const filter = args.positionals[0];
    if (filter) {
      const f = parseReference(filter, { defaultTag: false });
      rows = rows.filter((r) => {
        if (!r.reference) return false;
        const p = parseReference(r.reference);
        return p.registry === f.registry && p.repository === f.repository && (!f.tag || p.tag === f.tag);
      });
    }
    if (str(args, "format") === "json") {
      io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      return ExitCode.ok;
    }
    if (args.flags.quiet === true) {
      io.stdout.write([...new Set(rows.map((r) => r.id.slice(7, 19)))].map((x) => `${x}\n`).join(""));
      return ExitCode.ok;
    }
    const table: string[][] = [
      ["REPOSITORY", "TAG", ...(args.flags.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"],
    ];
    for (const r of rows) {
      const p = r.reference ? parseReference(r.reference) : undefined;
      const repo = p ? familiarReference({ registry: p.registry, repository: p.repository }) : "<none>";
      table.push([
        repo,
        p?.tag ?? "<none>",
        ...(args.flags.digests ? [r.descriptor.digest] : []),
        r.id.slice(7, 19),
        r.created ? ago(r.created) : "N/A",
        r.size ? formatBytes(r.size) : r.platforms.length > 1 ? `${r.platforms.length} platforms` : "N/A",
      ]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    io.stdout.write(
      table
        .map(
          (row) =>
            row
              .map((c, i) => c.padEnd(widths[i]! + 3))
              .join("")
              .trimEnd() + "\n",
        )
        .join(""),
    );
    return ExitCode.ok;
  },
};

function ago(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return "N/A";
  if (s < 60) return "less than a minute ago";
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} hours ago`;
  if (s < 86400 * 60) return `${Math.round(s / 86400)} days ago`;
  return `${Math.round(s / (86400 * 30))} months ago`;
}

const rmiCmd: Command = {
  name: "rmi",
  summary: "Remove images from the local store",
  usage: "rmi NAME[:TAG]|ID…",
  flags: [],
  async run(args, io) {
    need(args, 1, "at least one image");
    const store = new LocalStore();
    for (const ref of args.positionals) {
      const removed = await store.remove(ref);
      for (const r of removed)
        io.stdout.write(`Untagged: ${r.includes("/") ? familiarReference(parseReference(r)) : r}\n`);
    }
    return ExitCode.ok;
  },
};

const inspectCmd: Command = {
  name: "inspect",
  summary: "Show an image's manifest and configuration",
  usage: "inspect [flags] IMAGE",
  help: `
IMAGE is any transport (a bare name is the local store; docker://… asks a registry).

Examples:
  dockyard inspect busybox:local
  dockyard inspect --raw docker://localhost:5000/app:1
  dockyard inspect --format table oci:./layout:1`,
  flags: [
    { name: "format", type: "string", valueName: "FORMAT", description: "json or table", default: "json" },
    { name: "raw", type: "boolean", description: "print the manifest (or index) bytes as stored" },
    { name: "config", type: "boolean", description: "print the image configuration as stored" },
    platformFlag,
    insecureFlag,
  ],
  async run(args, io) {
    const [name] = need(args, 1, "an IMAGE");
    return finish(createProgress("quiet", io.stderr), async () => {
      const spec = parseTransport(name!);
      const { source, ref } = await openSource(spec, openOpts(args));
      try {
        if (args.flags.raw === true) {
          const d = await source.resolve(ref);
          io.stdout.write(Buffer.from(await source.fetchManifest(d)));
          return ExitCode.ok;
        }
        const top = await source.resolve(ref);
        const topBytes = await source.fetchManifest(top);
        const topParsed = parseManifest(topBytes, top.mediaType);
        const p = str(args, "platform");
        const img = await (await rootfs()).resolveImage(source, ref, p ? parsePlatform(p) : undefined);
        if (args.flags.config === true) {
          io.stdout.write(img.configBytes);
          return ExitCode.ok;
        }
        const cfg: ImageConfig = img.config;
        const info = {
          Name: formatTransport(spec),
          Digest: top.digest,
          MediaType: topParsed.mediaType,
          ...(isIndex(topParsed.manifest)
            ? {
                Platforms: topParsed.manifest.manifests.map((m) => ({
                  Platform: m.platform ? formatPlatform(m.platform) : undefined,
                  Digest: m.digest,
                })),
              }
            : {}),
          ManifestDigest: img.descriptor.digest,
          Id: img.manifest.config.digest,
          Created: cfg.created,
          Author: cfg.author,
          Architecture: cfg.architecture,
          Os: cfg.os,
          Variant: cfg.variant,
          Size: img.manifest.layers.reduce((a, l) => a + l.size, 0),
          Layers: img.manifest.layers.map((l) => l.digest),
          LayersData: img.manifest.layers.map((l) => ({
            MIMEType: l.mediaType,
            Digest: l.digest,
            Size: l.size,
          })),
          DiffIds: cfg.rootfs?.diff_ids ?? [],
          Env: cfg.config?.Env ?? [],
          Entrypoint: cfg.config?.Entrypoint ?? null,
          Cmd: cfg.config?.Cmd ?? null,
          WorkingDir: cfg.config?.WorkingDir ?? "",
          User: cfg.config?.User ?? "",
          Labels: cfg.config?.Labels ?? null,
          ExposedPorts: Object.keys(cfg.config?.ExposedPorts ?? {}),
        };
        if (str(args, "format") === "table") {
          const rows: [string, string][] = [
            ["Name", info.Name],
            ["Digest", info.Digest],
            ["Media type", info.MediaType],
            ["Image ID", info.Id],
            [
              "Platform",
              formatPlatform({ os: cfg.os, architecture: cfg.architecture, variant: cfg.variant }),
            ],
            ["Created", cfg.created ?? ""],
            ["Size", formatBytes(info.Size)],
            ["Layers", String(info.Layers.length)],
            ["Entrypoint", JSON.stringify(info.Entrypoint)],
            ["Cmd", JSON.stringify(info.Cmd)],
            ["Env", info.Env.join(" ")],
            ["WorkingDir", info.WorkingDir],
            ["User", info.User],
          ];
          for (const [k, v] of rows) io.stdout.write(`${k.padEnd(12)} ${v}\n`);
          for (const l of info.LayersData)
            io.stdout.write(`  ${l.Digest}  ${formatBytes(l.Size).padStart(10)}  ${l.MIMEType}\n`);
        } else {
          io.stdout.write(JSON.stringify(info, null, 2) + "\n");
        }
        return ExitCode.ok;
      } finally {
        await source.close?.();
      }
    });
  },
};

const tagsCmd: Command = {
  name: "tags",
  summary: "List the tags of a registry repository",
  usage: "tags [flags] REPOSITORY",
  help: `
Examples:
  dockyard tags localhost:5000/app`,
  flags: [
    { name: "format", type: "string", valueName: "FORMAT", description: "lines or json", default: "lines" },
    insecureFlag,
  ],
  async run(args, io) {
    const [name] = need(args, 1, "a REPOSITORY");
    return finish(createProgress("quiet", io.stderr), async () => {
      const r = parseReference(name!.replace(/^docker:\/\//, ""), { defaultTag: false });
      const repo = registryClient(r.registry, openOpts(args)).repository(r.repository);
      const tags = await repo.listTags();
      if (str(args, "format") === "json")
        io.stdout.write(JSON.stringify({ Repository: `${r.registry}/${r.repository}`, Tags: tags }) + "\n");
      else io.stdout.write(tags.map((t) => `${t}\n`).join(""));
      return ExitCode.ok;
    });
  },
};

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let s = "";
  for await (const c of stdin) s += String(c);
  return s.replace(/\r?\n$/, "");
}

const loginCmd: Command = {
  name: "login",
  summary: "Log in to a registry (saved in ~/.docker/config.json, as docker does)",
  usage: "login [flags] REGISTRY",
  help: `
Checks the credentials against the registry (basic or token auth), then saves them.

Examples:
  echo "$TOKEN" | dockyard login -u ci --password-stdin localhost:5000`,
  flags: [
    {
      name: "username",
      short: "u",
      type: "string",
      valueName: "USER",
      description: "user name",
      env: "DOCKYARD_USERNAME",
    },
    {
      name: "password",
      short: "p",
      type: "string",
      valueName: "PASS",
      description: "password (prefer --password-stdin)",
      env: "DOCKYARD_PASSWORD",
    },
    { name: "password-stdin", type: "boolean", description: "read the password from standard input" },
    insecureFlag,
  ],
  async run(args, io) {
    const [registry] = need(args, 1, "a REGISTRY");
    const username = str(args, "username");
    let password = str(args, "password");
    if (args.flags["password-stdin"] === true) password = await readStdin(io.stdin);
    if (!username || password === undefined)
      throw new DockyardError("USAGE", "give --username and --password or --password-stdin");
    const host = registry!.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    return finish(createProgress("quiet", io.stderr), async () => {
      const client = registryClient(host, {
        ...openOpts(args),
        credentials: { username, password: password! },
      });
      await client.ping();
      await storeCredentials(host, { username, password: password! });
      io.stdout.write("Login Succeeded\n");
      return ExitCode.ok;
    });
  },
};

const logoutCmd: Command = {
  name: "logout",
  summary: "Forget the saved login for a registry",
  usage: "logout REGISTRY",
  flags: [],
  async run(args, io) {
    const [registry] = need(args, 1, "a REGISTRY");
    const host = registry!.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    const found = await removeCredentials(host);
    io.stdout.write(found ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
    return ExitCode.ok;
  },
};

const saveCmd: Command = {
  name: "save",
  summary: "Save images to a tar archive (docker save format, or OCI)",
  usage: "save [flags] IMAGE… [-o FILE]",
  help: `
Writes IMAGEs (from the local store, or any transport) into one archive. The docker format is
what 'docker load' reads (Docker 20.10 and later); --format oci writes an OCI layout tar that
skopeo, podman and containerd read. Without -o the archive goes to standard output.

Examples:
  dockyard save app:1 -o app.tar
  dockyard save --format oci --gzip app:1 base:3 -o images.tar.gz
  dockyard save app:1 | ssh host docker load`,
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "FILE",
      description: "write to FILE (atomically) instead of stdout",
    },
    { name: "format", type: "string", valueName: "FORMAT", description: "docker or oci", default: "docker" },
    { name: "gzip", type: "boolean", description: "gzip the archive" },
    platformFlag,
    insecureFlag,
    progressFlag,
  ],
  async run(args, io) {
    need(args, 1, "at least one IMAGE");
    const format = str(args, "format");
    if (format !== "docker" && format !== "oci")
      throw new DockyardError("USAGE", "--format must be docker or oci");
    const out = str(args, "output");
    if (!out && io.stdout.isTTY)
      throw new DockyardError("USAGE", "refusing to write an archive to a terminal; use -o FILE");
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const kind = format === "oci" ? "oci-archive" : "docker-archive";
      const { target } = await openTarget(
        { kind, path: out ?? "-" },
        { gzip: args.flags.gzip === true, ...(out ? {} : { stream: io.stdout }) },
      );
      await guardedTarget(target, async () => {
        for (const name of args.positionals) {
          const spec = parseTransport(name);
          const { source, ref } = await openSource(spec, openOpts(args));
          try {
            const tag =
              spec.reference && spec.reference.tag
                ? formatReference({ ...spec.reference, digest: undefined })
                : undefined;
            await copy(source, ref, target, tag, copyOpts(args, progress));
          } finally {
            await source.close?.();
          }
        }
      });
      progress.info(`saved ${args.positionals.length} image(s)${out ? ` to ${out}` : ""}`);
      return ExitCode.ok;
    });
  },
};

const loadCmd: Command = {
  name: "load",
  summary: "Load images from a tar archive (docker save or OCI; gzip ok) into the store",
  usage: "load [flags] [-i FILE]",
  help: `
Reads 'docker save' archives (classic and Docker 25+) and OCI archives, plain or gzipped, from
FILE or standard input. Every image is verified (digests and sizes) before it is stored under
its tags. --push-to sends them on to a registry instead of (well, as well as) the store.

Examples:
  dockyard load -i app.tar
  docker save app:1 | dockyard load --push-to localhost:5000/team/app`,
  flags: [
    {
      name: "input",
      short: "i",
      type: "string",
      valueName: "FILE",
      description: "read FILE instead of stdin",
    },
    {
      name: "push-to",
      type: "string",
      valueName: "REGISTRY/NAME",
      description: "also push every image to this repository (keeping tags)",
    },
    { name: "quiet", short: "q", type: "boolean", description: "no progress output" },
    platformFlag,
    insecureFlag,
    progressFlag,
  ],
  async run(args, io) {
    const file = str(args, "input");
    if (args.flags.quiet === true) args.flags.progress = "quiet";
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const input = file && file !== "-" ? undefined : (io.stdin as unknown as Readable);
      const { ArchiveSource } = await archives();
      let source: ArchiveSource;
      try {
        source = await ArchiveSource.open("docker-archive", file, input);
      } catch (err) {
        if (!(err instanceof DockyardError) || !/looks like an OCI archive/.test(err.message)) throw err;
        if (input)
          throw new DockyardError(
            "USAGE",
            "OCI archives on stdin: use -i FILE (or 'dockyard copy oci-archive:- …')",
          );
        source = await ArchiveSource.open("oci-archive", file);
      }
      const store = new LocalStore();
      const pushTo = str(args, "push-to");
      try {
        for (const img of source.images()) {
          const tags = img.tags.length ? img.tags : [undefined];
          const r = await copy(source, img.ref, store, tags[0], copyOpts(args, progress));
          for (const t of tags.slice(1)) await store.addToIndex(r.descriptor, LocalStore.normalize(t!));
          for (const t of tags)
            io.stdout.write(
              t
                ? `Loaded image: ${familiarReference(parseReference(t))}\n`
                : `Loaded image ID: ${r.descriptor.digest}\n`,
            );
          if (pushTo) {
            const dest = parseReference(pushTo, { defaultTag: false });
            const pushTags = dest.tag
              ? [dest.tag]
              : tags.map((t) => (t ? (parseReference(t).tag ?? "latest") : "latest"));
            const repo = registryClient(dest.registry, openOpts(args)).repository(dest.repository, {
              push: true,
            });
            for (const t of pushTags) {
              const pr = await copy(store, r.descriptor.digest, repo, t, copyOpts(args, progress));
              progress.info(
                `pushed ${dest.registry}/${dest.repository}:${t} ${pr.descriptor.digest} (${summary(pr)})`,
              );
            }
          }
        }
      } finally {
        await source.close();
      }
      return ExitCode.ok;
    });
  },
};

async function atomicOutput(
  path: string | undefined,
  io: CommandIO,
  fn: (out: NodeJS.WritableStream) => Promise<unknown>,
) {
  if (!path || path === "-") {
    if (io.stdout.isTTY)
      throw new DockyardError("USAGE", "refusing to write a tar to a terminal; use -o FILE");
    await fn(io.stdout);
    return;
  }
  const st = await stat(dirname(path)).catch(() => undefined);
  if (!st?.isDirectory())
    throw new DockyardError("NOT_FOUND", `cannot write ${path}: no directory ${dirname(path)}`);
  const tmp = tempPathFor(path);
  try {
    const out = createWriteStream(tmp, { mode: 0o644 });
    const closed = new Promise<void>((resolve, reject) => {
      out.on("close", resolve);
      out.on("error", reject);
    });
    await interruptible(
      () => rm(tmp, { force: true }),
      async () => {
        await fn(out);
        await closed;
        await rename(tmp, path);
      },
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

const exportCmd: Command = {
  name: "export",
  summary: "Write an image's flattened root filesystem as a tar (whiteouts applied)",
  usage: "export [flags] IMAGE -o FILE",
  help: `
The result is what 'docker export' gives for a fresh container of IMAGE, less the files the
engine adds to every container (/.dockerenv, /etc/hosts, /etc/hostname, /etc/resolv.conf and
the /dev, /proc, /sys mount points).

Examples:
  dockyard export app:1 -o rootfs.tar
  dockyard export docker://localhost:5000/app:1 | tar -t`,
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "FILE",
      description: "write to FILE instead of stdout",
    },
    platformFlag,
    insecureFlag,
    progressFlag,
  ],
  async run(args, io) {
    const [name] = need(args, 1, "an IMAGE");
    const progress = progressFor(args, io);
    return finish(progress, async () => {
      const { source, ref } = await openSource(parseTransport(name!), openOpts(args));
      try {
        const p = str(args, "platform");
        const task = progress.task("export", `export ${name}`);
        let r: { entries: number; layers: number } | undefined;
        const { exportImage } = await rootfs();
        await atomicOutput(str(args, "output"), io, async (out) => {
          r = await exportImage(source, ref, out, p ? { platform: parsePlatform(p) } : {});
        });
        task.finish(`${r?.entries ?? 0} entries from ${r?.layers ?? 0} layer(s)`);
      } finally {
        await source.close?.();
      }
      return ExitCode.ok;
    });
  },
};

const importCmd: Command = {
  name: "import",
  summary: "Create an image from a root filesystem tarball",
  usage: "import [flags] FILE|- REFERENCE",
  help: `
Like 'docker import': the tarball (plain, gzip or zstd) becomes the single layer of a new image in
the local store (or any transport given as REFERENCE). Entries are checked: names climbing
out (..), absolute names, hard links outside, writes through symlinks and device files are
refused (devices allowed with --allow-devices).

Examples:
  dockyard import rootfs.tar app:base --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin'
  tar -C rootfs -c . | dockyard import - app:base`,
  flags: [
    {
      name: "change",
      short: "c",
      type: "string[]",
      valueName: "INSTRUCTION",
      description:
        "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR…)",
    },
    { name: "message", short: "m", type: "string", valueName: "TEXT", description: "history comment" },
    { name: "allow-devices", type: "boolean", description: "accept device files in the tarball" },
    platformFlag,
    progressFlag,
  ],
  async run(args, io) {
    const [file, name] = need(args, 2, "FILE and REFERENCE");
    const input = file === "-" ? (io.stdin as unknown as Readable) : createReadStream(file!);
    if (file !== "-") {
      const st = await stat(file!).catch(() => undefined);
      if (!st) throw new DockyardError("NOT_FOUND", `no file ${file}`);
    }
    const spec = parseTransport(name!);
    const { target, ref } = await openTarget(spec, {});
    const p = str(args, "platform");
    const changes = (args.flags.change as string[] | undefined) ?? [];
    const { importTarball } = await rootfs();
    const r = await guardedTarget(target, () =>
      importTarball(input, target, ref, {
        changes,
        message: str(args, "message"),
        allowDevices: args.flags["allow-devices"] === true,
        ...(p ? { platform: parsePlatform(p) } : {}),
      }),
    );
    const progress = progressFor(args, io);
    progress.info(`imported ${file} as ${formatTransport(spec)}: ${r.descriptor.digest}`);
    progress.close();
    io.stdout.write(`${r.config}\n`);
    return ExitCode.ok;
  },
};

/** The `image` commands. */
export const commands: Command[] = [
  copyCmd,
  pushCmd,
  pullCmd,
  tagCmd,
  imagesCmd,
  rmiCmd,
  inspectCmd,
  tagsCmd,
  loginCmd,
  logoutCmd,
  saveCmd,
  loadCmd,
  exportCmd,
  importCmd,
];
