import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { DockyardError } from "./errors.js";

/** A content digest `algorithm:hex`, e.g. `sha256:…`. Only sha256 and sha512 are accepted. */
export type Digest = `${string}:${string}`;
export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
// OCI image-spec grammar: algorithm-component ([a-z0-9]+) joined by [+._-], ':' then encoded.
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Parses and validates a digest; throws DIGEST_INVALID (malformed) or UNSUPPORTED (algorithm). */
export function parseDigest(value: string): ParsedDigest {
  if (typeof value !== "string" || !DIGEST_GRAMMAR.test(value)) {
    throw new DockyardError(
      "DIGEST_INVALID",
      `invalid digest ${JSON.stringify(value)}: expected algorithm:hex`,
    );
  }
  const i = value.indexOf(":");
  const algorithm = value.slice(0, i);
  const hex = value.slice(i + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new DockyardError(
      "UNSUPPORTED",
      `unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256 and sha512 are)`,
    );
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new DockyardError(
      "DIGEST_INVALID",
      `invalid ${algorithm} digest ${JSON.stringify(value)}: expected ${HEX_LENGTH[algorithm]} lowercase hex characters`,
    );
  }
  return { algorithm, hex };
}

export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

/** Incremental digester: feed chunks, read the digest at the end. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  size = 0;
  constructor(algorithm: DigestAlgorithm = "sha256") {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): Digest {
    return `${this.algorithm}:${this.hash.digest("hex")}`;
  }
}

/**
 * A pass-through stream that hashes what flows through it and, at the end, fails with
 * DIGEST_INVALID / SIZE_INVALID when the content does not match what was expected.
 * Put it in a pipeline before the final rename so bad content never becomes visible.
 */
export class VerifyingStream extends Transform {
  private readonly digester: Digester;
  private readonly expected: Digest;
  private readonly expectedSize: number | undefined;
  constructor(expected: Digest, expectedSize?: number) {
    super();
    this.expected = expected;
    this.expectedSize = expectedSize;
    this.digester = new Digester(parseDigest(expected).algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.digester.update(chunk);
    if (this.expectedSize !== undefined && this.digester.size > this.expectedSize) {
      cb(
        new DockyardError(
          "SIZE_INVALID",
          `content of ${this.expected} is longer than its declared size ${this.expectedSize}`,
        ),
      );
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.expectedSize !== undefined && this.digester.size !== this.expectedSize) {
      cb(
        new DockyardError(
          "SIZE_INVALID",
          `content of ${this.expected} has ${this.digester.size} bytes, declared ${this.expectedSize}`,
        ),
      );
      return;
    }
    const actual = this.digester.digest();
    if (actual !== this.expected) {
      cb(new DockyardError("DIGEST_INVALID", `content digest ${actual} does not match ${this.expected}`));
      return;
    }
    cb();
  }
  get bytes(): number {
    return this.digester.size;
  }
}
