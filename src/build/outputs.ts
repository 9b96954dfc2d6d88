// Where a build's image goes: the local store (default), registries (--push), OCI layouts and
// archives (--output type=oci|docker), a Docker Engine (--load), or its files (type=local).
// Every image output is one copy() from the BuiltImage source.
import { link, mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { copy, withTarget } from "../image/copy.js";
import { DockyardError } from "../image/errors.js";
// the store only at start-up: the other transports (registry, archives, engine) load on demand
import { BUILT_ANNOTATION, LocalStore, dockyardHome } from "../image/transports/store.js";
import type { TransportSpec } from "../image/transports/index.js";
import { REF_NAME } from "../image/transports/oci-layout.js";
import type { Descriptor } from "../image/manifest.js";
import type { BuiltImage } from "./image.js";
import type { BuildOptions, OutputSpec } from "./options.js";
import { BuildStore } from "./cache.js";
import { mountOverlay } from "./snapshot.js";
import { copyEntry } from "./copy.js";
import { readdir } from "node:fs/promises";
import { Readable } from "node:stream";

async function copyTo(
  image: BuiltImage,
  spec: TransportSpec,
  opts: BuildOptions,
  tags?: string[],
): Promise<{ digest: string; size: number }> {
  const { openTarget } = await import("../image/transports/index.js");
  const { target, ref } = await openTarget(spec, {
    tags,
    insecure: spec.reference ? (opts.insecureRegistries ?? []).includes(spec.reference.registry) : false,
  });
  const r = await withTarget(target, (t) => copy(image, undefined, t, ref, { concurrency: 6 }));
  return r.descriptor;
}

/** Writes every requested output; returns human descriptions of what was written. */
export async function writeOutputs(
  image: BuiltImage,
  store: LocalStore,
  opts: BuildOptions,
): Promise<string[]> {
  const done: string[] = [];
  const tags = opts.tags ?? [];
  const outputs: OutputSpec[] = [...(opts.outputs ?? [])];
  const toStore =
    outputs.length === 0 || tags.length > 0 || outputs.some((o) => o.type === "image" && !o.push);
  if (toStore) {
    await adoptBlobs(image, store, opts);
    const current = await taggedInStore(image, store);
    const writing = tags.length === 0 || tags.some((t) => !current.has(LocalStore.normalize(t)));
    // the config and manifest blobs are written (and fsynced) side by side, not one after the
    // other as copy() would: both only have to be on disk before the index names the manifest,
    // which copy() then does (finding both blobs there)
    if (writing)
      await Promise.all([
        store
          .hasBlob(image.configDesc)
          .then((have) =>
            have
              ? undefined
              : store.writeBlob(image.configDesc, Readable.from([Buffer.from(image.configBytes)])),
          ),
        store.putManifestBlob(image.manifestBytes, image.manifestDesc.mediaType),
      ]);
    // marked as built here: its tag names where it was meant to go, not where its blobs are
    const built = { annotations: { [BUILT_ANNOTATION]: "true" } };
    if (tags.length === 0) {
      await copy(image, undefined, store, undefined, built);
      done.push(`store: ${image.id}`);
    }
    // a tag that already names this image (a no-change rebuild) is not written again: no index
    // rewrite, no fsync (which would also wait for whatever else the filesystem has to flush)
    for (const t of tags) {
      const name = LocalStore.normalize(t);
      if (!current.has(name)) await copy(image, undefined, store, t, built);
      done.push(`store: ${name}`);
    }
  }
  const pushTags = new Set<string>();
  if (opts.push) for (const t of tags) pushTags.add(t);
  for (const o of outputs)
    if ((o.type === "image" || o.type === "registry") && o.push)
      for (const n of (o.name ?? "")
        .split(",")
        .filter(Boolean)
        .concat(o.name ? [] : tags))
        pushTags.add(n);
  if (pushTags.size && ![...pushTags].length) throw new DockyardError("USAGE", "--push needs a -t NAME");
  if (opts.push && tags.length === 0)
    throw new DockyardError("USAGE", "--push needs at least one -t REGISTRY/NAME:TAG");
  await Promise.all(
    [...pushTags].map(async (t) => {
      const { parseTransport } = await import("../image/transports/index.js");
      const spec = parseTransport(`docker://${t}`);
      const desc = await copyTo(image, spec, opts);
      done.push(`pushed: ${t}`);
      if (opts.sign) {
        const { signPushed } = await import("../trust/cli-hooks.js");
        done.push(`signed: ${t} (${(await signPushed(spec, desc)).join(", ")})`);
      }
    }),
  );
  for (const o of outputs) {
    if (o.type === "image" || o.type === "registry") continue;
    if (!o.dest) throw new DockyardError("USAGE", `--output type=${o.type} needs dest=PATH`);
    if (o.type === "oci") {
      const spec: TransportSpec = o.tar
        ? { kind: "oci-archive", path: o.dest, ref: tags[0] }
        : { kind: "oci", path: o.dest, ref: tags[0] ?? "latest" };
      await copyTo(image, spec, opts, tags);
      done.push(`${spec.kind}: ${o.dest}`);
    } else if (o.type === "docker") {
      const { parseTransport } = await import("../image/transports/index.js");
      const spec = parseTransport(`docker-archive:${o.dest}${tags[0] ? ":" + tags[0] : ""}`);
      await copyTo(image, spec, opts, tags);
      done.push(`docker-archive: ${o.dest}`);
    } else if (o.type === "local") {
      await exportFiles(image, o.dest, opts);
      done.push(`local: ${o.dest}`);
    } else if (o.type === "tar") {
      throw new DockyardError(
        "UNSUPPORTED",
        "--output type=tar is not supported yet: use type=local or type=oci",
      );
    }
  }
  if (opts.load) {
    const name = tags[0] ?? `dockyard-build:${image.id.slice(7, 19)}`;
    const { parseTransport } = await import("../image/transports/index.js");
    await copyTo(image, parseTransport(`docker-daemon:${name}`), opts, tags.length ? tags : [name]);
    done.push(`loaded into the Docker Engine: ${tags.length ? tags.join(", ") : name}`);
  }
  if (opts.iidfile) await writeFile(opts.iidfile, image.id);
  if (opts.metadataFile) {
    const meta = {
      "containerimage.config.digest": image.id,
      "containerimage.digest": image.manifestDesc.digest,
      "containerimage.descriptor": image.manifestDesc,
      ...(tags.length ? { "image.name": tags.map((t) => LocalStore.normalize(t)).join(",") } : {}),
    };
    await writeFile(opts.metadataFile, JSON.stringify(meta, null, 2) + "\n");
  }
  return done;
}

/**
 * The store's tags that already name exactly this image (manifest digest, size and media type)
 * with the manifest, config and every layer blob present: copying the image to them would write
 * the same index entry again. Any doubt (no entry, another digest, a missing blob) means not.
 */
export async function taggedInStore(image: BuiltImage, store: LocalStore): Promise<Set<string>> {
  const out = new Set<string>();
  const index = await store.readIndex().catch(() => undefined);
  const md = image.manifestDesc;
  const names = (index?.manifests ?? [])
    .filter((d) => d.digest === md.digest && d.size === md.size && d.mediaType === md.mediaType)
    .map((d) => d.annotations?.[REF_NAME])
    .filter((n): n is string => !!n);
  if (!names.length) return out;
  const blobs: Descriptor[] = [md, image.configDesc, ...image.manifest.layers];
  const have = await Promise.all(blobs.map((b) => store.hasBlob(b)));
  if (have.every(Boolean)) for (const n of names) out.add(n);
  return out;
}

/**
 * The layer blobs the build made are already verified files in the build store: hard-link them
 * into the local store (same filesystem) so copy() finds them there instead of copying the bytes.
 */
async function adoptBlobs(image: BuiltImage, store: LocalStore, opts: BuildOptions): Promise<void> {
  const bs = new BuildStore(join(opts.home ?? dockyardHome(), "build"));
  await store.init();
  for (const l of image.layers) {
    const target = store.blobPath(l.digest);
    if (existsSync(target) || !existsSync(bs.blobPath(l.digest))) continue;
    await mkdir(dirname(target), { recursive: true });
    await link(bs.blobPath(l.digest), target).catch(() => {}); // EXDEV/EEXIST: copy() copies or skips
  }
}

/** --output type=local: the final filesystem, owners and modes kept. */
async function exportFiles(image: BuiltImage, dest: string, opts: BuildOptions): Promise<void> {
  const bs = new BuildStore(join(opts.home ?? dockyardHome(), "build"));
  const dirs = await Promise.all(
    image.layers.map((l) =>
      bs.ensureLayerDir(l, () => image.openBlob({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ),
  );
  const m = await mountOverlay(dirs.reverse(), bs.tmp);
  try {
    await mkdir(dest, { recursive: true });
    for (const name of (await readdir(m.merged)).sort())
      await copyEntry(join(m.merged, name), join(dest, name), { root: dest }, undefined, "", true);
  } finally {
    await m.release();
  }
}
