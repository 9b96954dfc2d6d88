import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import {
  parseDigest,
  digestOf,
  VerifyingStream,
  parseReference,
  familiarReference,
  parseManifest,
  isDockyardError,
  MediaType,
  platformMatches,
} from "../../src/image/index.js";

test("digests: sha256 and sha512 parse, others are refused with the right code", () => {
  const d = digestOf("hello");
  assert.equal(d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  assert.equal(parseDigest(d).algorithm, "sha256");
  assert.equal(parseDigest(digestOf("x", "sha512")).algorithm, "sha512");
  assert.throws(
    () => parseDigest("md5:abc"),
    (e) => isDockyardError(e, "UNSUPPORTED"),
  );
  assert.throws(
    () => parseDigest("sha256:XYZ"),
    (e) => isDockyardError(e, "DIGEST_INVALID"),
  );
  assert.throws(
    () => parseDigest("sha256:" + "a".repeat(63)),
    (e) => isDockyardError(e, "DIGEST_INVALID"),
  );
  assert.throws(
    () => parseDigest("nocolon"),
    (e) => isDockyardError(e, "DIGEST_INVALID"),
  );
});

async function drain(src: Readable, v: VerifyingStream): Promise<void> {
  await pipeline(src, v, new Writable({ write: (_c, _e, cb) => cb() }));
}

test("VerifyingStream passes matching content and fails on digest or size mismatch", async () => {
  const body = Buffer.from("layer bytes");
  await drain(Readable.from([body]), new VerifyingStream(digestOf(body), body.length));
  await assert.rejects(drain(Readable.from([body]), new VerifyingStream(digestOf("other"))), (e) =>
    isDockyardError(e, "DIGEST_INVALID"),
  );
  await assert.rejects(drain(Readable.from([body]), new VerifyingStream(digestOf(body), 3)), (e) =>
    isDockyardError(e, "SIZE_INVALID"),
  );
  await assert.rejects(drain(Readable.from([body]), new VerifyingStream(digestOf(body), 99)), (e) =>
    isDockyardError(e, "SIZE_INVALID"),
  );
});

test("references get Docker Hub defaults and keep registries with ports", () => {
  assert.deepEqual(parseReference("alpine"), {
    registry: "docker.io",
    repository: "library/alpine",
    tag: "latest",
  });
  assert.deepEqual(parseReference("localhost:5000/a/b/c:1.0"), {
    registry: "localhost:5000",
    repository: "a/b/c",
    tag: "1.0",
  });
  const d = digestOf("m");
  assert.deepEqual(parseReference(`127.0.0.1:5000/app@${d}`), {
    registry: "127.0.0.1:5000",
    repository: "app",
    digest: d,
  });
  assert.equal(familiarReference(parseReference("docker.io/library/busybox:1")), "busybox:1");
  for (const bad of ["app/UPPER", "a//b", "app:", "app:-x", "a/../b", "app@sha256:zz", ""]) {
    assert.throws(
      () => parseReference(bad),
      (e) => isDockyardError(e, "REFERENCE_INVALID"),
      bad,
    );
  }
});

test("manifests: structure and media type are validated", () => {
  const layer = { mediaType: MediaType.ociLayerGzip, digest: digestOf("l"), size: 1 };
  const ok = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...layer, mediaType: MediaType.ociConfig },
    layers: [layer],
  };
  const bytes = Buffer.from(JSON.stringify(ok));
  assert.equal(parseManifest(bytes, MediaType.ociManifest).mediaType, MediaType.ociManifest);
  assert.throws(
    () => parseManifest(bytes, MediaType.dockerManifest),
    (e) => isDockyardError(e, "MANIFEST_INVALID"),
  );
  assert.throws(() => parseManifest(Buffer.from("{nope"), MediaType.ociManifest), /not valid JSON/);
  const noLayers = { ...ok, layers: undefined };
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify(noLayers))), /layers must be an array/);
  const badDigest = { ...ok, layers: [{ ...layer, digest: "sha256:1" }] };
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify(badDigest))), /layers\[0\]/);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ ...layer, mediaType: MediaType.ociManifest }],
  };
  assert.equal(parseManifest(Buffer.from(JSON.stringify(index))).mediaType, MediaType.ociIndex);
});

test("platform matching treats arm64 without variant as v8", () => {
  assert.ok(platformMatches({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "amd64" }));
  assert.ok(
    platformMatches(
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "linux", architecture: "arm64" },
    ),
  );
  assert.ok(!platformMatches({ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "amd64" }));
});
