import { webcrypto, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import { atomicWriteFile } from "../util/fs.js";
import { DockyardError } from "../image/errors.js";

export interface CertOptions {
  /** DNS names and IP addresses for the server certificate's subjectAltName. */
  hosts: string[];
  /** Output directory: ca.pem, cert.pem, key.pem (and ca-key.pem to sign more later). */
  outDir: string;
  /** Validity of the server certificate in days (CA: 10 years). */
  days?: number;
  commonName?: string;
}

const ALG: EcKeyGenParams & EcdsaParams = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

function pemKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PRIVATE KEY-----\n${b64.trim()}\n-----END PRIVATE KEY-----\n`;
}

/** Makes a CA and a server certificate signed by it (ECDSA P-256, SHA-256) with @peculiar/x509. */
export async function createCertificates(
  opts: CertOptions,
): Promise<{ ca: string; cert: string; key: string }> {
  if (!opts.hosts.length)
    throw new DockyardError("USAGE", "give at least one host name or IP address (--host)");
  // @peculiar/x509 needs the reflect-metadata polyfill loaded first.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const now = new Date(Date.now() - 60_000);
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const caName = `CN=dockyard registry CA ${randomBytes(4).toString("hex")}`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: caName,
    notBefore: now,
    notAfter: new Date(now.getTime() + 3650 * 86400_000),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const names = opts.hosts.map((h) => ({ type: isIP(h) ? ("ip" as const) : ("dns" as const), value: h }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    subject: `CN=${opts.commonName ?? opts.hosts[0]}`,
    issuer: ca.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + (opts.days ?? 825) * 86400_000),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const out = {
    ca: join(opts.outDir, "ca.pem"),
    cert: join(opts.outDir, "cert.pem"),
    key: join(opts.outDir, "key.pem"),
  };
  await atomicWriteFile(out.ca, ca.toString("pem") + "\n");
  // cert.pem carries the chain (server certificate, then the CA) as servers expect.
  await atomicWriteFile(out.cert, cert.toString("pem") + "\n" + ca.toString("pem") + "\n");
  await atomicWriteFile(out.key, pemKey(await crypto.subtle.exportKey("pkcs8", keys.privateKey)), {
    mode: 0o600,
  });
  await atomicWriteFile(
    join(opts.outDir, "ca-key.pem"),
    pemKey(await crypto.subtle.exportKey("pkcs8", caKeys.privateKey)),
    { mode: 0o600 },
  );
  return out;
}
