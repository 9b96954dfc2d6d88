import { readHidden } from "../../cli/prompt.js";
import { mkdir, writeFile, access } from "node:fs/promises";
import { join } from "node:path";
import type { ParsedArgs } from "../../cli/args.js";
import type { CommandIO } from "../../cli/command.js";
import { ExitCode } from "../../cli/exit-codes.js";
import { DockyardError } from "../../image/errors.js";
import { parseReference } from "../../image/reference.js";
import { generateCosignKeyPair } from "./cosign-keys.js";
import {
  clientPolicy,
  envPassphrase,
  signImage,
  verifyImageSignatures,
  type KeyedKind,
} from "./operations.js";

/** `trust sign|verify|key generate --kind gpg|sigstore` (registered in src/cli/commands/trust.ts). */

/** A hidden passphrase prompt on the terminal; never echoed, never logged. */
export function hiddenPrompt(io: CommandIO) {
  return async (what: string, confirm = false): Promise<string | undefined> => {
    const stdin = io.stdin as NodeJS.ReadStream;
    if (!stdin.isTTY) return undefined;
    const ask = (q: string) => readHidden(io, q);
    const p = await ask(`Passphrase for the ${what}: `);
    if (confirm && (await ask("Repeat it: ")) !== p)
      throw new DockyardError("USAGE", "the passphrases differ");
    return p;
  };
}

function kindOf(a: ParsedArgs): KeyedKind | undefined {
  const k = a.flags.kind;
  return k === "gpg" || k === "sigstore" ? k : undefined;
}

function oneRef(a: ParsedArgs): string {
  if (a.positionals.length !== 1)
    throw new DockyardError("USAGE", "expected one REGISTRY/REPO[:TAG|@DIGEST]");
  return a.positionals[0]!;
}

function annotations(a: ParsedArgs): Record<string, string> | undefined {
  const list = (a.flags.annotation as string[] | undefined) ?? [];
  if (!list.length) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new DockyardError("USAGE", `--annotation ${kv}: expected KEY=VALUE`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export async function signCommand(a: ParsedArgs, io: CommandIO): Promise<number> {
  const ref = oneRef(a);
  const keyFile = a.flags.key as string | undefined;
  if (!keyFile)
    throw new DockyardError(
      "USAGE",
      `--kind ${String(a.flags.kind)} needs --key FILE (or $DOCKYARD_SIGNING_KEY)`,
    );
  const prompt = hiddenPrompt(io);
  const started = performance.now();
  const r = await signImage(ref, {
    ...(kindOf(a) ? { kind: kindOf(a)! } : {}),
    keyFile,
    passphrase: (what) => prompt(what),
    referrer: a.flags.referrer !== false,
    ...(annotations(a) ? { annotations: annotations(a)! } : {}),
    insecure: a.flags.insecure === true,
  });
  const ms = Math.round(performance.now() - started);
  io.stdout.write(`Signed ${r.reference} (${r.digest}) with ${r.kind} key ${r.signer} in ${ms} ms\n`);
  for (const s of r.stored) io.stdout.write(`  stored: ${s}\n`);
  return ExitCode.ok;
}

export async function verifyCommand(a: ParsedArgs, io: CommandIO): Promise<number> {
  const ref = oneRef(a);
  const keyFiles = (a.flags.key as string[] | undefined) ?? [];
  const signedIdentity = a.flags["signed-identity"] as string | undefined;
  const policy = keyFiles.length ? undefined : await clientPolicy(a.flags.policy as string | undefined);
  if (!keyFiles.length && !policy) {
    throw new DockyardError(
      "USAGE",
      "give --key FILE (repeatable) or a trust policy (--policy FILE, $DOCKYARD_POLICY, ~/.config/dockyard/policy.yaml)",
    );
  }
  let notary: Parameters<typeof verifyImageSignatures>[1]["notary"];
  if (policy?.rules.some((r) => r.signedBy.some((s) => s.kind === "notary"))) {
    const t = await import("../index.js");
    notary = (image, digest) => async () => {
      try {
        const v = await t.verifyTag(image);
        return v.digest === digest
          ? { ok: true, detail: `signed in ${v.role}` }
          : { ok: false, detail: `the Notary-signed digest is ${v.digest}, the registry serves ${digest}` };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    };
  }
  const started = performance.now();
  const v = await verifyImageSignatures(ref, {
    ...(kindOf(a) ? { kind: kindOf(a)! } : {}),
    keyFiles,
    ...(policy ? { policy } : {}),
    ...(signedIdentity ? { signedIdentity } : {}),
    ...(notary ? { notary } : {}),
    insecure: a.flags.insecure === true,
  });
  const ms = Math.round(performance.now() - started);
  if (a.flags.json) {
    io.stdout.write(JSON.stringify({ ...v, ms }, null, 2) + "\n");
    return ExitCode.ok;
  }
  io.stdout.write(`Verified ${v.reference}: ${v.digest} (${ms} ms)\n`);
  for (const c of v.verified) io.stdout.write(`  ${c.kind}: signed by ${c.signer} as ${c.dockerReference}\n`);
  for (const d of v.details) io.stdout.write(`  ${d}\n`);
  return ExitCode.ok;
}

async function refuseOverwrite(path: string): Promise<void> {
  try {
    await access(path);
  } catch {
    return;
  }
  throw new DockyardError("USAGE", `${path} exists; remove it or choose another NAME/--dir`);
}

export async function keyGenerateCommand(a: ParsedArgs, io: CommandIO): Promise<number> {
  if (a.positionals.length !== 1) throw new DockyardError("USAGE", "expected NAME");
  const name = a.positionals[0]!;
  const kind = (a.flags.format as string | undefined) ?? (a.flags.kind as string);
  const dir = String(a.flags.dir ?? ".");
  await mkdir(dir, { recursive: true });
  const prompt = hiddenPrompt(io);
  if (kind === "sigstore" || kind === "cosign") {
    const pass = envPassphrase("sigstore") ?? (await prompt(`new cosign key ${name}`, true));
    if (pass === undefined)
      throw new DockyardError(
        "USAGE",
        "set DOCKYARD_SIGNING_PASSPHRASE (or COSIGN_PASSWORD) for the new key",
      );
    const keyPath = join(dir, `${name}.key`);
    const pubPath = join(dir, `${name}.pub`);
    await refuseOverwrite(keyPath);
    const pair = await generateCosignKeyPair(pass);
    await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
    await writeFile(pubPath, pair.publicKeyPem);
    io.stdout.write(
      `Generated a cosign (ECDSA P-256) key pair: private key ${keyPath}, public key ${pubPath}\n`,
    );
    return ExitCode.ok;
  }
  if (kind === "gpg") {
    const pass = envPassphrase("gpg") ?? (await prompt(`new OpenPGP key ${name}`, true));
    const keyPath = join(dir, `${name}.asc`);
    const pubPath = join(dir, `${name}.pub.asc`);
    await refuseOverwrite(keyPath);
    const { generateGpgKey } = await import("./gpg.js");
    const k = await generateGpgKey({ name, ...(pass ? { passphrase: pass } : {}) });
    await writeFile(keyPath, k.privateKey, { mode: 0o600 });
    await writeFile(pubPath, k.publicKey);
    io.stdout.write(`Generated OpenPGP key ${k.fingerprint}: secret key ${keyPath}, public key ${pubPath}\n`);
    return ExitCode.ok;
  }
  throw new DockyardError("USAGE", `--format ${kind}: expected sigstore or gpg`);
}

export { parseReference };
