import { DockyardError } from "./errors.js";
import { parseDigest, type Digest } from "./digest.js";

/** Path component grammar of the distribution spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`. */
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
export const REPOSITORY_NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
export const MAX_NAME_LENGTH = 255;

export const DOCKER_HUB = "docker.io";

export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && REPOSITORY_NAME_RE.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** A parsed image reference `[registry[:port]/]name[:tag][@digest]`. */
export interface ImageReference {
  /** Registry host (with port), `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry (`library/alpine` for Hub official images). */
  repository: string;
  tag?: string;
  digest?: Digest;
}

/**
 * Parses a reference with Docker's defaults: no registry → docker.io, a single Hub component →
 * library/NAME. Neither tag nor digest → tag `latest` unless `defaultTag` is false.
 */
export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  const bad = (why: string): never => {
    throw new DockyardError("REFERENCE_INVALID", `invalid image reference ${JSON.stringify(input)}: ${why}`);
  };
  if (!input) bad("empty");
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    try {
      parseDigest(d);
    } catch (err) {
      bad((err as Error).message);
    }
    digest = d as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) bad(`tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase()
    ) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) bad(`registry host ${JSON.stringify(registry)} is not valid`);
    }
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!isValidRepositoryName(repository)) {
    bad(
      `repository ${JSON.stringify(repository)} must be lowercase path components [a-z0-9] joined by . _ __ - and /`,
    );
  }
  if (!tag && !digest && opts.defaultTag !== false) tag = "latest";
  const ref: ImageReference = { registry, repository };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`, with docker.io spelled out. */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints (`alpine:3`, `localhost:5000/app:1`). */
export function familiarReference(ref: ImageReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB)
    name = ref.repository.startsWith("library/") ? ref.repository.slice(8) : ref.repository;
  if (ref.tag) name += `:${ref.tag}`;
  if (ref.digest) name += `@${ref.digest}`;
  return name;
}
