import { readHidden } from "../prompt.js";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { FlagSpec, ParsedArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { DockyardError } from "../../image/errors.js";
import { parseReference } from "../../image/reference.js";
import { ExitCode } from "../exit-codes.js";
import { KEYGEN_FLAGS, SIGN_FLAGS, VERIFY_FLAGS } from "../../trust/signatures/cli-flags.js";

/**
 * `dockyard trust …`: Notary / Docker Content Trust. sign, verify and key generate take
 * `--kind notary|gpg|sigstore` (default notary); the other kinds are the signatures room's.
 */

const SERVER_FLAGS: FlagSpec[] = [
  {
    name: "server",
    type: "string",
    valueName: "URL",
    description: "trust server (default https://<registry host>:4443)",
    env: "DOCKYARD_TRUST_SERVER",
  },
  {
    name: "tls-ca",
    type: "string",
    valueName: "FILE",
    description: "PEM CA for the trust server's certificate",
    env: "DOCKYARD_TRUST_CA",
  },
  {
    name: "insecure",
    type: "boolean",
    description: "skip TLS verification of the trust server (testing only)",
  },
  {
    name: "trust-dir",
    type: "string",
    valueName: "DIR",
    description: "keys and trusted metadata (default ~/.dockyard/trust)",
    env: "DOCKYARD_TRUST_DIR",
  },
  {
    name: "root-dir",
    type: "string",
    valueName: "DIR",
    description: "root keys, e.g. on removable media (default <trust-dir>/root-keys)",
    env: "DOCKYARD_TRUST_ROOT_DIR",
  },
];
const KIND_FLAG: FlagSpec = {
  name: "kind",
  type: "string",
  valueName: "KIND",
  description: "signature kind: notary (TUF), gpg or sigstore",
  default: "notary",
};
const JSON_FLAG: FlagSpec = { name: "json", type: "boolean", description: "machine-readable output" };

/** Other signature kinds register here (the signatures room): kind → command name → handler. */
export const KIND_HANDLERS: Record<
  string,
  Partial<Record<"sign" | "verify" | "key generate", (a: ParsedArgs, io: CommandIO) => Promise<number>>>
> = {};

// gpg (containers simple signing) and sigstore (cosign-style): src/trust/signatures/cli.ts.
for (const kind of ["gpg", "sigstore"]) {
  KIND_HANDLERS[kind] = {
    sign: async (a, io) => (await import("../../trust/signatures/cli.js")).signCommand(a, io),
    verify: async (a, io) => (await import("../../trust/signatures/cli.js")).verifyCommand(a, io),
    "key generate": async (a, io) =>
      (await import("../../trust/signatures/cli.js")).keyGenerateCommand(a, io),
  };
}

async function dispatchKind(
  which: "sign" | "verify" | "key generate",
  a: ParsedArgs,
  io: CommandIO,
): Promise<number | undefined> {
  let kind = String(a.flags.kind ?? "notary");
  // `--key`/`--policy` (verify) and `--format` (key generate) select the signatures kinds.
  if (kind === "notary" && which === "verify" && (a.flags.key || a.flags.policy)) kind = "gpg";
  if (kind === "notary" && which === "key generate" && a.flags.format) kind = "sigstore";
  if (kind === "notary" && which === "sign" && a.flags.key) kind = "gpg";
  if (kind === "notary") return undefined;
  const h = KIND_HANDLERS[kind]?.[which];
  if (!h)
    throw new DockyardError(
      "USAGE",
      `--kind ${kind} is not available for trust ${which} in this build (notary is)`,
    );
  return h(a, io);
}

/** A hidden passphrase prompt on the terminal; never echoed, never logged. */
function ttyPrompt(io: CommandIO) {
  return async (what: { role: string; gun?: string; confirm: boolean }): Promise<string> => {
    const stdin = io.stdin as NodeJS.ReadStream;
    if (!stdin.isTTY) {
      throw new DockyardError(
        "USAGE",
        `a passphrase is needed for the ${what.role} key: set ${what.role === "root" ? "DOCKYARD_TRUST_ROOT_PASSPHRASE" : "DOCKYARD_TRUST_REPOSITORY_PASSPHRASE"}`,
      );
    }
    const ask = (q: string) => readHidden(io, q);
    const label = what.role === "root" ? "root key" : `${what.role} key${what.gun ? ` for ${what.gun}` : ""}`;
    const p = await ask(`Passphrase for the ${label}: `);
    if (what.confirm) {
      if (p.length < 8) throw new DockyardError("USAGE", "passphrases must be at least 8 characters");
      if ((await ask("Repeat it: ")) !== p) throw new DockyardError("USAGE", "the passphrases differ");
    }
    return p;
  };
}

async function trust(a: ParsedArgs, io: CommandIO) {
  const t = await import("../../trust/index.js");
  const settings = {
    server: a.flags.server as string | undefined,
    caFile: a.flags["tls-ca"] as string | undefined,
    insecure: a.flags.insecure === true ? true : undefined,
    dirs: {
      base: a.flags["trust-dir"] as string | undefined,
      rootKeys: a.flags["root-dir"] as string | undefined,
    },
    prompt: ttyPrompt(io),
  };
  if (!settings.dirs.base) delete settings.dirs.base;
  if (!settings.dirs.rootKeys) delete settings.dirs.rootKeys;
  return { t, settings };
}

function one(a: ParsedArgs, what: string, n = 1): string[] {
  if (a.positionals.length !== n) throw new DockyardError("USAGE", `expected ${what}`);
  return a.positionals;
}

const init: Command = {
  name: "trust init",
  summary: "Create a repository's trust data (root, targets; server-held snapshot and timestamp keys)",
  usage: "trust init [flags] REPO",
  help: `Generates (or reuses) your root key, a targets key for REPO and publishes root and targets.
The trust server holds the timestamp and snapshot keys. Keys are encrypted with passphrases from
DOCKYARD_TRUST_ROOT_PASSPHRASE / DOCKYARD_TRUST_REPOSITORY_PASSPHRASE or a prompt.

Examples:
  dockyard trust init --server https://127.0.0.1:4443 --tls-ca ca.pem 127.0.0.1:5000/team/app`,
  flags: [
    ...SERVER_FLAGS,
    { name: "root-key", type: "string", valueName: "ID", description: "use this root key (id prefix)" },
  ],
  async run(a, io) {
    const [repoName] = one(a, "REPO");
    const { t, settings } = await trust(a, io);
    const repo = t.openRepository(repoName!, settings);
    const r = await repo.init({ rootKeyId: a.flags["root-key"] as string | undefined });
    io.stdout.write(
      `Initialized trust data for ${repo.gun}\n  root key    ${r.rootKeyId}\n  targets key ${r.targetsKeyId}\n`,
    );
    return ExitCode.ok;
  },
};

const sign: Command = {
  name: "trust sign",
  summary: "Sign an image tag already pushed to the registry",
  usage: "trust sign [flags] REGISTRY/REPO:TAG",
  help: `Resolves TAG's manifest digest and size in the registry and signs them: into targets/releases
when you hold a signer key for it, else into targets with the repository key. Initializes the
repository's trust data first if it has none.

With --kind gpg (containers simple signing, as 'skopeo --sign-by') or --kind sigstore (cosign-style)
and --key FILE, signs the manifest digest with that key and stores the signature in the registry:
gpg through the registry's signatures API (X-Registry-Supports-Signatures), sigstore as the tag
sha256-<hex>.sig and as an OCI 1.1 referrer. Passphrase: $DOCKYARD_SIGNING_PASSPHRASE (sigstore
also $COSIGN_PASSWORD), else a hidden prompt.

Examples:
  dockyard trust sign 127.0.0.1:5000/team/app:1.0
  dockyard trust sign --kind gpg --key release.asc 127.0.0.1:5000/team/app:1.0
  dockyard trust sign --kind sigstore --key cosign.key 127.0.0.1:5000/team/app:1.0`,
  flags: [KIND_FLAG, ...SERVER_FLAGS, ...SIGN_FLAGS],
  async run(a, io) {
    const k = await dispatchKind("sign", a, io);
    if (k !== undefined) return k;
    const [ref] = one(a, "REGISTRY/REPO:TAG");
    const { t, settings } = await trust(a, io);
    const r = await t.signImage(ref!, settings);
    if (r.initialized) io.stderr.write(`Initialized trust data for ${t.gunOf(parseReference(ref!))}\n`);
    io.stdout.write(`Signed ${ref}: digest ${r.digest} size ${r.size} (${r.roles.join(", ")})\n`);
    return ExitCode.ok;
  },
};

const verify: Command = {
  name: "trust verify",
  summary: "Verify an image tag against its trust data and the registry's manifest",
  usage: "trust verify [flags] REGISTRY/REPO:TAG",
  help: `Runs the TUF client update (root rotations, timestamp, snapshot, targets, delegations; versions,
hashes, expiry, thresholds), looks up the signed digest for TAG and checks the registry's manifest
by that digest. Exit 0 when verified, 7 when a trust check fails (the message names the guarantee).

With --key PUBFILE (OpenPGP public key → gpg, PEM → sigstore) checks the image's signatures of
that kind: the signature, the payload's manifest digest and its signed identity (gpg: exact
reference when named by tag, repository when by digest; sigstore: not checked, as cosign's spec
says, unless a policy signedIdentity or --signed-identity asks). After a copy to another
registry, --signed-identity ORIGINAL-REF accepts the signatures made for the original name. Without --key,
--kind gpg|sigstore or --policy FILE evaluates the trust policy's rule for the repository
($DOCKYARD_POLICY, ~/.config/dockyard/policy.yaml by default).

Examples:
  dockyard trust verify 127.0.0.1:5000/team/app:1.0
  dockyard trust verify --key release.pub.asc 127.0.0.1:5000/team/app:1.0
  dockyard trust verify --key cosign.pub 127.0.0.1:5000/team/app:1.0
  dockyard trust verify --policy policy.yaml 127.0.0.1:5000/team/app:1.0`,
  flags: [KIND_FLAG, ...SERVER_FLAGS, JSON_FLAG, ...VERIFY_FLAGS],
  async run(a, io) {
    const k = await dispatchKind("verify", a, io);
    if (k !== undefined) return k;
    const [ref] = one(a, "REGISTRY/REPO:TAG");
    const { t, settings } = await trust(a, io);
    const v = await t.verifyImage(ref!, settings);
    if (a.flags.json) io.stdout.write(JSON.stringify(v, null, 2) + "\n");
    else {
      io.stdout.write(`Verified ${v.reference}: ${v.digest} (${v.size} bytes), signed in ${v.role}\n`);
      if (v.registryTagDigest && v.registryTagDigest !== v.digest) {
        io.stderr.write(
          `warning: the registry's tag ${v.tag} now points at ${v.registryTagDigest}, which is not signed; a verified pull uses ${v.digest}\n`,
        );
      }
    }
    return ExitCode.ok;
  },
};

const inspect: Command = {
  name: "trust inspect",
  summary: "Show a repository's signed tags, digests, signers and expiry",
  usage: "trust inspect [flags] REPO",
  flags: [...SERVER_FLAGS, JSON_FLAG],
  async run(a, io) {
    const [repoName] = one(a, "REPO");
    const { t, settings } = await trust(a, io);
    const repo = t.openRepository(repoName!, settings);
    const trusted = await repo.update();
    const signed = t.allTargets(trusted).map((x) => ({
      tag: x.name,
      digest: x.meta.hashes.sha256
        ? `sha256:${Buffer.from(x.meta.hashes.sha256, "base64").toString("hex")}`
        : "",
      size: x.meta.length,
      role: x.role,
      signers: x.role === "targets" ? ["repository owner"] : [x.role.slice(8)],
    }));
    const signers = (trusted.targets.signed.delegations?.roles ?? []).map((d) => ({
      name: d.name.replace(/^targets\//, ""),
      keys: d.keyids,
      threshold: d.threshold,
      paths: d.paths,
    }));
    const out = {
      repository: repo.gun,
      signedTags: signed,
      signers,
      rootKeys: trusted.root.signed.roles.root!.keyids,
      expires: {
        root: trusted.root.signed.expires,
        targets: trusted.targets.signed.expires,
        snapshot: trusted.snapshot.signed.expires,
        timestamp: trusted.timestamp.signed.expires,
      },
      ignored: trusted.ignored,
    };
    if (a.flags.json) {
      io.stdout.write(JSON.stringify(out, null, 2) + "\n");
      return ExitCode.ok;
    }
    io.stdout.write(`Signed tags in ${repo.gun}:\n`);
    if (!signed.length) io.stdout.write("  (none)\n");
    for (const s of signed)
      io.stdout.write(
        `  ${s.tag.padEnd(20)} ${s.digest}  ${String(s.size).padStart(6)}  ${s.signers.join(",")}\n`,
      );
    io.stdout.write(`Signers:\n`);
    if (!signers.length) io.stdout.write("  (none: the repository key signs)\n");
    for (const s of signers)
      io.stdout.write(
        `  ${s.name.padEnd(20)} keys ${s.keys.map((k) => k.slice(0, 12)).join(",")} threshold ${s.threshold}\n`,
      );
    io.stdout.write(`Root key(s): ${out.rootKeys.map((k) => k.slice(0, 12)).join(", ")}\n`);
    io.stdout.write(
      `Expires: root ${out.expires.root}, targets ${out.expires.targets}, snapshot ${out.expires.snapshot}, timestamp ${out.expires.timestamp}\n`,
    );
    for (const i of out.ignored)
      io.stdout.write(`warning: ${i.role} signed ${i.name} outside its delegated paths (ignored)\n`);
    return ExitCode.ok;
  },
};

const revoke: Command = {
  name: "trust revoke",
  summary: "Remove a tag's signature (from every role you can sign)",
  usage: "trust revoke [flags] REGISTRY/REPO:TAG",
  flags: [...SERVER_FLAGS],
  async run(a, io) {
    const [refStr] = one(a, "REGISTRY/REPO:TAG");
    const ref = parseReference(refStr!);
    if (!ref.tag) throw new DockyardError("USAGE", "give REPO:TAG");
    const { t, settings } = await trust(a, io);
    const roles = await t.openRepository(ref, settings).removeTarget(ref.tag);
    io.stdout.write(`Revoked ${refStr} (from ${roles.join(", ")})\n`);
    return ExitCode.ok;
  },
};

const keyGenerate: Command = {
  name: "trust key generate",
  summary: "Generate a signer key (encrypted in the key store) and write NAME.pub",
  usage: "trust key generate [flags] NAME",
  help: `Creates an ECDSA P-256 (or --algorithm ed25519) signer key, stores it encrypted with the repository
passphrase and writes the public key as PEM to DIR/NAME.pub for 'trust signer add'.

With --format sigstore writes a cosign key pair: DIR/NAME.key (ECDSA P-256, PKCS#8 encrypted with
scrypt + NaCl secretbox as cosign does; passphrase $DOCKYARD_SIGNING_PASSPHRASE or $COSIGN_PASSWORD)
and DIR/NAME.pub. With --format gpg an OpenPGP (ed25519) key: DIR/NAME.asc and DIR/NAME.pub.asc.`,
  flags: [
    KIND_FLAG,
    { name: "dir", type: "string", valueName: "DIR", description: "where to write NAME.pub", default: "." },
    {
      name: "algorithm",
      type: "string",
      valueName: "ALG",
      description: "ecdsa or ed25519",
      default: "ecdsa",
    },
    ...SERVER_FLAGS.slice(3),
    ...KEYGEN_FLAGS,
  ],
  async run(a, io) {
    const k = await dispatchKind("key generate", a, io);
    if (k !== undefined) return k;
    const [name] = one(a, "NAME");
    const { t, settings } = await trust(a, io);
    const { generateKeyPair, publicTufKey } = await import("../../trust/keys/generate.js");
    const alg = String(a.flags.algorithm);
    if (alg !== "ecdsa" && alg !== "ed25519")
      throw new DockyardError("USAGE", "--algorithm is ecdsa or ed25519");
    const kp = generateKeyPair(alg);
    const ks = new t.KeyStore(t.trustDirs(process.env, settings.dirs), t.envPassphrases(settings.prompt));
    const info = await ks.add(kp.privateKey, publicTufKey(kp.privateKey), {
      role: "delegation",
      name: name!,
    });
    const dir = String(a.flags.dir);
    await mkdir(dir, { recursive: true });
    const pub = join(dir, `${name}.pub`);
    await writeFile(pub, kp.publicKey.export({ type: "spki", format: "pem" }).toString());
    io.stdout.write(`Generated key ${info.id} for ${name}; public key in ${pub}\n`);
    return ExitCode.ok;
  },
};

const keyList: Command = {
  name: "trust key list",
  summary: "List the private keys in the key store (root keys from the root directory)",
  usage: "trust key list [flags]",
  flags: [...SERVER_FLAGS.slice(3), JSON_FLAG],
  async run(a, io) {
    const { t, settings } = await trust(a, io);
    const ks = new t.KeyStore(t.trustDirs(process.env, settings.dirs), t.envPassphrases(settings.prompt));
    const keys = await ks.list();
    if (a.flags.json)
      io.stdout.write(
        JSON.stringify(
          keys.map(({ public: p, ...k }) => ({ ...k, keytype: p.keytype })),
          null,
          2,
        ) + "\n",
      );
    else
      for (const k of keys)
        io.stdout.write(`${k.id}  ${k.role.padEnd(10)} ${(k.gun ?? k.name ?? "").padEnd(30)} ${k.path}\n`);
    return ExitCode.ok;
  },
};

const keyImport: Command = {
  name: "trust key import",
  summary: "Import a PEM private key (plain, encrypted PKCS#8, or notary's export) into the key store",
  usage: "trust key import [flags] FILE",
  help: `The key is re-encrypted with the role's passphrase (root: DOCKYARD_TRUST_ROOT_PASSPHRASE, others:
DOCKYARD_TRUST_REPOSITORY_PASSPHRASE); an encrypted input is opened with the same passphrase.
Root keys go to the root key directory (--root-dir).

Examples:
  dockyard trust key import --role targets --gun 127.0.0.1:5000/team/app targets.pem
  dockyard trust key import --name alice alice.key`,
  flags: [
    {
      name: "role",
      type: "string",
      valueName: "ROLE",
      description: "root, targets, delegation (default: the file's role: header, else delegation)",
    },
    { name: "gun", type: "string", valueName: "GUN", description: "repository the key belongs to" },
    { name: "name", type: "string", valueName: "NAME", description: "a label (signer name)" },
    ...SERVER_FLAGS.slice(3),
  ],
  async run(a, io) {
    const [file] = one(a, "FILE");
    const { t, settings } = await trust(a, io);
    const ks = new t.KeyStore(t.trustDirs(process.env, settings.dirs), t.envPassphrases(settings.prompt));
    const info = await ks.importPem(await readFile(file!, "utf8"), {
      role: a.flags.role as string | undefined,
      gun: a.flags.gun as string | undefined,
      name: a.flags.name as string | undefined,
    });
    io.stdout.write(`Imported ${info.role} key ${info.id}\n`);
    return ExitCode.ok;
  },
};

const keyExport: Command = {
  name: "trust key export",
  summary: "Export a private key as encrypted PKCS#8 PEM (notary's layout, with role/gun headers)",
  usage: "trust key export [flags] KEY-ID",
  help: `--plain writes the key unencrypted (PKCS#8), the form 'notary key import' (0.7) accepts; keep such a file
offline and delete it after use.`,
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "FILE",
      description: "write here (default stdout)",
    },
    { name: "plain", type: "boolean", description: "unencrypted PKCS#8 (for notary key import)" },
    ...SERVER_FLAGS.slice(3),
  ],
  async run(a, io) {
    const [id] = one(a, "KEY-ID");
    const { t, settings } = await trust(a, io);
    const ks = new t.KeyStore(t.trustDirs(process.env, settings.dirs), t.envPassphrases(settings.prompt));
    const pem = await ks.exportPem(id!, { plain: a.flags.plain === true });
    if (a.flags.output) {
      await writeFile(String(a.flags.output), pem, { mode: 0o600 });
      io.stderr.write(`Exported key ${id} to ${a.flags.output}\n`);
    } else io.stdout.write(pem);
    return ExitCode.ok;
  },
};

const keyRotate: Command = {
  name: "trust key rotate",
  summary: "Rotate a repository's root, targets, snapshot or timestamp key",
  usage: "trust key rotate [flags] REPO ROLE",
  help: `root: a new root key and certificate; the new root is signed by the old and the new root keys so
clients that trust the old one follow. Needs the root key (bring your offline root directory:
--root-dir). targets: a new repository key. snapshot, timestamp: a new key held by the server.`,
  flags: [...SERVER_FLAGS],
  async run(a, io) {
    const [repoName, role] = one(a, "REPO ROLE", 2);
    if (!["root", "targets", "snapshot", "timestamp"].includes(role!))
      throw new DockyardError("USAGE", "ROLE is root, targets, snapshot or timestamp");
    const { t, settings } = await trust(a, io);
    const id = await t.openRepository(repoName!, settings).rotate(role as "root");
    io.stdout.write(`Rotated the ${role} key of ${repoName}: new key ${id}\n`);
    return ExitCode.ok;
  },
};

const signerAdd: Command = {
  name: "trust signer add",
  summary: "Add a signer (delegation targets/releases + targets/NAME) to a repository",
  usage: "trust signer add [flags] --key NAME.pub NAME REPO",
  flags: [
    {
      name: "key",
      type: "string",
      valueName: "FILE",
      description: "signer's public key (PEM) or certificate",
    },
    ...SERVER_FLAGS,
  ],
  async run(a, io) {
    const [name, repoName] = one(a, "NAME REPO", 2);
    if (!a.flags.key) throw new DockyardError("USAGE", "--key FILE is required");
    const pem = await readFile(String(a.flags.key), "utf8");
    const { t, settings } = await trust(a, io);
    const repo = t.openRepository(repoName!, settings);
    await repo.initIfNeeded();
    const id = await repo.addSigner(name!, pem);
    io.stdout.write(`Added signer ${name} (key ${id}) to ${repo.gun}\n`);
    return ExitCode.ok;
  },
};

const signerRemove: Command = {
  name: "trust signer remove",
  summary: "Remove a signer from a repository",
  usage: "trust signer remove [flags] NAME REPO",
  flags: [...SERVER_FLAGS],
  async run(a, io) {
    const [name, repoName] = one(a, "NAME REPO", 2);
    const { t, settings } = await trust(a, io);
    await t.openRepository(repoName!, settings).removeSigner(name!);
    io.stdout.write(`Removed signer ${name} from ${repoName}\n`);
    return ExitCode.ok;
  },
};

const server: Command = {
  name: "trust server",
  summary: "Run a stand-alone Notary-compatible trust server",
  usage: "trust server [flags]",
  help: `Serves the Notary server API (/v2/<gun>/_trust/tuf/…) on its own listener. The registry mounts the
same server (dockyard registry serve --trust-listen); this is for a trust server apart from it.

Examples:
  dockyard trust server --listen 127.0.0.1:4443 --tls-cert cert.pem --tls-key key.pem --storage /var/lib/dockyard/trust`,
  flags: [
    {
      name: "listen",
      type: "string",
      valueName: "HOST:PORT",
      description: "address",
      default: "127.0.0.1:4443",
    },
    {
      name: "tls-cert",
      type: "string",
      valueName: "FILE",
      description: "TLS certificate (PEM); without it plain HTTP",
    },
    { name: "tls-key", type: "string", valueName: "FILE", description: "TLS key (PEM)" },
    {
      name: "storage",
      type: "string",
      valueName: "DIR",
      description: "where trust data and server keys live",
      default: "./trust-data",
    },
  ],
  async run(a, io) {
    const { serveTrust, FsTrustStorage } = await import("../../trust/server/index.js");
    const listen = String(a.flags.listen);
    const i = listen.lastIndexOf(":");
    const host = listen.slice(0, i) || "127.0.0.1";
    const port = Number(listen.slice(i + 1));
    if (!Number.isInteger(port)) throw new DockyardError("USAGE", "--listen HOST:PORT");
    if (!!a.flags["tls-cert"] !== !!a.flags["tls-key"])
      throw new DockyardError("USAGE", "--tls-cert and --tls-key go together");
    const s = await serveTrust({
      storage: new FsTrustStorage(String(a.flags.storage)),
      host,
      port,
      tlsCert: a.flags["tls-cert"] as string | undefined,
      tlsKey: a.flags["tls-key"] as string | undefined,
      log: (l) => io.stderr.write(l + "\n"),
    });
    io.stderr.write(
      `trust server listening on ${a.flags["tls-cert"] ? "https" : "http"}://${host}:${s.port}\n`,
    );
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    s.server.close();
    return ExitCode.ok;
  },
};

export const commands: Command[] = [
  init,
  sign,
  verify,
  inspect,
  revoke,
  keyGenerate,
  keyList,
  keyImport,
  keyExport,
  keyRotate,
  signerAdd,
  signerRemove,
  server,
];
