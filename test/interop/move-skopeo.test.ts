import { rm } from "node:fs/promises";
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  closeRegistryClients,
  copy,
  digestOf,
  OciLayout,
  openSource,
  openTarget,
  parseTransport,
  withTarget,
  LocalStore,
} from "../../src/image/index.js";
import { needPeers } from "../helpers/peers.js";
import {
  makeImage,
  putImage,
  startDockyardRegistry,
  startReferenceRegistry,
  tempDir,
  type RunningRegistry,
  type TestImage,
} from "../image/helpers.js";

const run = promisify(execFile);
const skip = needPeers("skopeo", "docker-registry");
let reference: RunningRegistry;
let ours: RunningRegistry;
let work: string;
let img: TestImage;
let docker: TestImage;
let origin: OciLayout;

before(async () => {
  if (skip) return;
  work = await tempDir();
  reference = await startReferenceRegistry();
  ours = await startDockyardRegistry();
  // OCI media types: skopeo 1.9 ignores Docker-typed entries in an OCI layout's index.json.
  img = await makeImage(3, { oci: true });
  origin = new OciLayout(join(work, "origin"));
  await putImage(origin, img, "v1");
  docker = await makeImage(2);
  await putImage(origin, docker, "docker-v1");
});
after(async () => {
  closeRegistryClients();
  await reference?.stop();
  await ours?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function transfer(src: string, dst: string): Promise<string> {
  const home = join(work, "home");
  const store = new LocalStore(home);
  const { source, ref } = await openSource(parseTransport(src), { store });
  try {
    const { target, ref: tref } = await openTarget(parseTransport(dst), { store });
    const r = await withTarget(target, () => copy(source, ref, target, tref));
    return r.descriptor.digest;
  } finally {
    await source.close?.();
  }
}

async function digestAt(where: string): Promise<string> {
  const store = new LocalStore(join(work, "home"));
  const { source, ref } = await openSource(parseTransport(where), { store });
  try {
    return (await source.resolve(ref)).digest;
  } finally {
    await source.close?.();
  }
}

test(
  "copy between every pair of transports keeps the manifest digest (Docker schema2 image)",
  { skip },
  async () => {
    const places = (id: string): Record<string, string> => ({
      store: `store:move/rt-${id}:1`,
      oci: `oci:${join(work, `rt-${id}-layout`)}:1`,
      "oci-archive": `oci-archive:${join(work, `rt-${id}.oci.tar`)}:1`,
      "docker-archive": `docker-archive:${join(work, `rt-${id}.docker.tar`)}:move/rt-${id}:1`,
      "reference-registry": `docker://${reference.host}/move/rt-${id}:1`,
      "dockyard-registry": `docker://${ours.host}/move/rt-${id}:1`,
    });
    const kinds = Object.keys(places("x"));
    const want = docker.manifestDesc.digest;
    for (const a of kinds) {
      const A = places(`${a}`)[a]!;
      assert.equal(await transfer(`oci:${join(work, "origin")}:docker-v1`, A), want, `origin → ${a}`);
      for (const b of kinds) {
        if (a === b) continue;
        const B = places(`${a}-to-${b}`)[b]!;
        assert.equal(await transfer(A, B), want, `${a} → ${b}`);
        assert.equal(await digestAt(B), want, `${b} holds the same digest`);
      }
    }
  },
);

test("skopeo reads dockyard's oci: and oci-archive: output byte for byte", { skip }, async () => {
  const dir = join(work, "for-skopeo");
  const tar = join(work, "for-skopeo.tar");
  await transfer(`oci:${join(work, "origin")}:v1`, `oci:${dir}:v1`);
  await transfer(`oci:${join(work, "origin")}:v1`, `oci-archive:${tar}:v1`);
  const raw1 = await run("skopeo", ["inspect", "--raw", `oci:${dir}:v1`]);
  assert.equal(digestOf(raw1.stdout), img.manifestDesc.digest);
  const raw2 = await run("skopeo", ["inspect", "--raw", `oci-archive:${tar}:v1`]);
  assert.equal(digestOf(raw2.stdout), img.manifestDesc.digest);
  // skopeo pushes dockyard's layout to a registry unchanged.
  await run("skopeo", [
    "copy",
    "--dest-tls-verify=false",
    `oci-archive:${tar}:v1`,
    `docker://${reference.host}/move/sk-in:v1`,
  ]);
  assert.equal(await digestAt(`docker://${reference.host}/move/sk-in:v1`), img.manifestDesc.digest);
  const cfg = await run("skopeo", ["inspect", "--config", "--raw", `oci:${dir}:v1`]);
  assert.equal(digestOf(cfg.stdout), digestOf(img.config));
});

test("dockyard reads skopeo's oci:, oci-archive: and docker-archive: output", { skip }, async () => {
  await transfer(`oci:${join(work, "origin")}:v1`, `docker://${reference.host}/move/sk-src:v1`);
  const src = `docker://${reference.host}/move/sk-src:v1`;
  const dir = join(work, "from-skopeo");
  const tar = join(work, "from-skopeo.tar");
  const dtar = join(work, "from-skopeo-docker.tar");
  await run("skopeo", ["copy", "--src-tls-verify=false", src, `oci:${dir}:v1`]);
  await run("skopeo", ["copy", "--src-tls-verify=false", src, `oci-archive:${tar}:v1`]);
  await run("skopeo", ["copy", "--src-tls-verify=false", src, `docker-archive:${dtar}:move/sk:v1`]);
  const skDigest = digestOf((await run("skopeo", ["inspect", "--raw", `oci:${dir}:v1`])).stdout);
  assert.equal(skDigest, img.manifestDesc.digest, "an OCI image stays as it is");
  assert.equal(await digestAt(`oci:${dir}:v1`), skDigest);
  assert.equal(await transfer(`oci:${dir}:v1`, `docker://${ours.host}/move/from-sk:v1`), skDigest);
  const skTar = digestOf((await run("skopeo", ["inspect", "--raw", `oci-archive:${tar}:v1`])).stdout);
  assert.equal(await transfer(`oci-archive:${tar}:v1`, `store:move/from-sk-tar:v1`), skTar);
  // docker-archive: the config (the image ID) survives; layers arrive uncompressed as docker saves them.
  const r = await transfer(`docker-archive:${dtar}:move/sk:v1`, `oci:${join(work, "from-sk-docker")}:v1`);
  const layout = new OciLayout(join(work, "from-sk-docker"));
  const m = JSON.parse(Buffer.from(await layout.fetchManifest(await layout.resolve("v1"))).toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  assert.equal(m.config.digest, digestOf(img.config));
  assert.equal(m.layers.length, 3);
  assert.ok(r.startsWith("sha256:"));
});
