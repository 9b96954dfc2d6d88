// The docker driver: the context (after .dockerignore) sent as a tar through dockerode to a Docker
// Engine's BuildKit (API version=2), its progress decoded and printed like ours; tags, --push, and
// --output/--iidfile/--metadata-file by copy() from the engine.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { DockyardError } from "../../image/errors.js";
import { copy, withSource, withTarget } from "../../image/copy.js";
import {
  LocalStore,
  lookupCredentials,
  openSource,
  openTarget,
  parseTransport,
} from "../../image/transports/index.js";
import { parseReference } from "../../image/reference.js";
import { formatPlatform } from "../../image/platform.js";
import { BuildContext } from "../context.js";
import { BuildError } from "../execute.js";
import type { BuildOptions, BuildResult, CacheSpec } from "../options.js";

// ------------------------------------------------------------------ minimal protobuf reading
type Fields = Map<number, (bigint | Buffer)[]>;

function varint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos.i++];
    if (b === undefined) throw new Error("truncated varint");
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return result;
    shift += 7n;
  }
}

function decode(buf: Buffer): Fields {
  const out: Fields = new Map();
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(varint(buf, pos));
    const field = key >> 3;
    const wire = key & 7;
    let v: bigint | Buffer;
    if (wire === 0) v = varint(buf, pos);
    else if (wire === 2) {
      const len = Number(varint(buf, pos));
      v = buf.subarray(pos.i, pos.i + len);
      pos.i += len;
    } else if (wire === 1) {
      v = buf.subarray(pos.i, pos.i + 8);
      pos.i += 8;
    } else if (wire === 5) {
      v = buf.subarray(pos.i, pos.i + 4);
      pos.i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(v);
    out.set(field, list);
  }
  return out;
}

const str = (f: Fields, n: number) => {
  const v = f.get(n)?.at(-1);
  return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
};
const time = (f: Fields, n: number): number | undefined => {
  const v = f.get(n)?.at(-1);
  if (!Buffer.isBuffer(v)) return undefined;
  const t = decode(v);
  const s = t.get(1)?.[0];
  const ns = t.get(2)?.[0];
  return Number(typeof s === "bigint" ? s : 0n) * 1000 + Number(typeof ns === "bigint" ? ns : 0n) / 1e6;
};

/** Prints BuildKit's status stream (moby.buildkit.trace) in our plain format: #N name, logs, DONE/CACHED. */
class TracePrinter {
  private ids = new Map<string, number>();
  private state = new Map<string, { started?: number; done: boolean; name: string }>();
  private logs = new Map<string, string[]>();
  lastError?: { name: string; error: string; logs: string[] };
  constructor(private readonly say: (line: string) => void) {}

  private id(d: string): number {
    let n = this.ids.get(d);
    if (n === undefined) this.ids.set(d, (n = this.ids.size + 1));
    return n;
  }

  feed(aux: string): void {
    let f: Fields;
    try {
      f = decode(Buffer.from(aux, "base64"));
    } catch {
      return;
    }
    for (const v of f.get(1) ?? []) {
      if (!Buffer.isBuffer(v)) continue;
      const vx = decode(v);
      const digest = str(vx, 1) ?? "";
      const name = str(vx, 3) ?? "";
      const cached = vx.get(4)?.[0] === 1n;
      const started = time(vx, 5);
      const completed = time(vx, 6);
      const error = str(vx, 7);
      const st = this.state.get(digest) ?? { done: false, name };
      const n = this.id(digest);
      if (st.started === undefined && (started !== undefined || cached)) {
        st.started = started ?? Date.now();
        this.say(`#${n} ${name}`);
      }
      if (!st.done && (completed !== undefined || cached || error)) {
        st.done = true;
        if (error && name.startsWith("importing cache manifest from "))
          this.say(`#${n} WARNING: cache not imported (building without it): ${error}`);
        else if (error) {
          this.say(`#${n} ERROR: ${error}`);
          this.lastError = { name, error, logs: this.logs.get(digest) ?? [] };
        } else if (cached) this.say(`#${n} CACHED`);
        else
          this.say(
            `#${n} DONE ${(((completed ?? Date.now()) - (st.started ?? Date.now())) / 1000).toFixed(1)}s`,
          );
        this.say("");
      }
      this.state.set(digest, st);
    }
    for (const v of f.get(3) ?? []) {
      if (!Buffer.isBuffer(v)) continue;
      const lg = decode(v);
      const digest = str(lg, 1) ?? "";
      const msg = str(lg, 4) ?? "";
      const st = this.state.get(digest);
      const ts = st?.started ? ((Date.now() - st.started) / 1000).toFixed(3) : "0.000";
      const keep = this.logs.get(digest) ?? [];
      for (const line of msg.replace(/\n$/, "").split("\n")) {
        this.say(`#${this.id(digest)} ${ts} ${line}`);
        keep.push(line);
      }
      while (keep.length > 15) keep.shift();
      this.logs.set(digest, keep);
    }
  }
}

// ------------------------------------------------------------------ the context tar
/**
 * `dockerfileRel`: the Dockerfile's path when the context has it (not excluded). Otherwise it must
 * travel in the tar anyway: with `classic` (the Engine's classic builder, which drops a Dockerfile
 * and .dockerignore that .dockerignore lists) under its own name plus the .dockerignore; with
 * BuildKit under a hidden name (BuildKit does not read .dockerignore of a tar context).
 */
async function contextTar(
  ctx: BuildContext,
  dockerfileText: string,
  dockerfileRel: string | undefined,
  classic: { name: string; ignoreText?: string } | undefined,
) {
  const pack = tar.pack();
  const ignoreText = classic?.ignoreText;
  const name = dockerfileRel ?? classic?.name ?? `.dockyard.Dockerfile.${randomBytes(4).toString("hex")}`;
  const done = (async () => {
    const entries = [...ctx.entries.values()]
      .filter((e) => e.rel !== "")
      .sort((a, b) => (a.rel < b.rel ? -1 : 1));
    for (const e of entries) {
      const h = { name: e.rel, mode: e.mode & 0o7777, mtime: new Date(e.mtimeMs), uid: 0, gid: 0 };
      if (e.type === "dir") await entry(pack, { ...h, type: "directory" });
      else if (e.type === "symlink") await entry(pack, { ...h, type: "symlink", linkname: e.linkname });
      else if (e.type === "file") {
        if (e.rel === name || (classic && e.rel === ".dockerignore")) continue;
        await new Promise<void>((res, rej) => {
          const w = pack.entry({ ...h, type: "file", size: e.size } as tar.Header, (err) =>
            err ? rej(err) : res(),
          );
          createReadStream(join(ctx.root, e.rel)).on("error", rej).pipe(w);
        });
      }
    }
    await entry(
      pack,
      { name, type: "file", mode: 0o644, mtime: new Date(), uid: 0, gid: 0 },
      Buffer.from(dockerfileText),
    );
    if (classic && ignoreText !== undefined)
      await entry(
        pack,
        { name: ".dockerignore", type: "file", mode: 0o644, mtime: new Date(), uid: 0, gid: 0 },
        Buffer.from(ignoreText),
      );
    pack.finalize();
  })();
  done.catch((err) => pack.destroy(err));
  return { stream: pack as unknown as Readable, dockerfile: name };
}

function entry(
  pack: tar.Pack,
  h: Partial<tar.Header> & { name: string },
  body = Buffer.alloc(0),
): Promise<void> {
  return new Promise((res, rej) => pack.entry(h as tar.Header, body, (err) => (err ? rej(err) : res())));
}

function engine(opts: BuildOptions): Docker {
  const host = opts.dockerHost ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice(7) });
  const u = new URL(host.replace(/^tcp:/, "http:"));
  return new Docker({ host: u.hostname, port: Number(u.port || 2375) });
}

/** Follows a dockerode JSON-lines stream; returns the final image ID. */
async function follow(
  stream: NodeJS.ReadableStream,
  onMsg: (m: Record<string, unknown>) => void,
): Promise<void> {
  let buf = "";
  for await (const c of stream as AsyncIterable<Buffer>) {
    buf += c.toString("utf8");
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      try {
        onMsg(JSON.parse(line) as Record<string, unknown>);
      } catch (err) {
        if (err instanceof DockyardError) throw err;
      }
    }
  }
  if (buf.trim()) onMsg(JSON.parse(buf) as Record<string, unknown>);
}

/** Dockerfile features the Engine's classic builder lacks. */
function needsBuildKit(text: string): boolean {
  return /--(mount|chmod|link|checksum|parents|exclude|network)\b|<<|^#\s*syntax\s*=/im.test(text);
}

// ------------------------------------------------------------------ --cache-from / --cache-to
/**
 * What the Engine's build API (Docker 20.10) can do with an external cache:
 * - `cachefrom`: image references the Engine uses as cache sources. With BuildKit each is read from
 *   the Engine's image store if it is there, else from its registry (the Engine's own resolver, no
 *   credentials of ours): an image carrying inline cache metadata (built with
 *   BUILDKIT_INLINE_CACHE=1) gives CACHED steps. The classic builder uses only images in the
 *   Engine's store, so for it (and for a registry we hold credentials for) the ref is pulled first.
 * - the only cache exporter the Engine's BuildKit has is `inline` (the cache metadata written into
 *   the image config, the final image's steps only: mode=min), switched on by the build-arg
 *   BUILDKIT_INLINE_CACHE=1. `--cache-to type=registry,ref=R` is that plus pushing the image as R,
 *   so `--cache-from R` (this driver, `docker build --cache-from`, buildx) reuses it.
 * - the Engine's `local` cache importer/exporter needs a BuildKit session, which the plain API has
 *   not: `--cache-to type=local,dest=DIR` is the inline-cache image copied to the OCI layout DIR,
 *   `--cache-from type=local,src=DIR` loads that image into the Engine under a temporary name
 *   (dockyard-cache-import/…, untagged after the build) and names it in `cachefrom`.
 */
interface EnginePlan {
  cachefrom: string[];
  inline: boolean;
  pushRefs: CacheSpec[];
  /** --cache-to type=local: the image (with its inline cache) copied to these OCI layouts. */
  layouts: CacheSpec[];
  /** --cache-from type=local: images loaded into the Engine for the build, untagged after it. */
  loaded: string[];
}

async function planEngineCache(opts: BuildOptions, docker: Docker, classic: boolean): Promise<EnginePlan> {
  const plan: EnginePlan = { cachefrom: [], inline: false, pushRefs: [], layouts: [], loaded: [] };
  const say = (l: string) => opts.reporter.info(l);
  for (const s of opts.cacheTo ?? []) {
    if (classic) {
      say(
        `WARNING: --cache-to ${describe(s)}: the Engine's classic builder (used because .dockerignore excludes the Dockerfile) writes no inline cache; ` +
          (s.type === "registry"
            ? "the image is still pushed there and works as a classic --cache-from"
            : "ignored"),
      );
    } else plan.inline = true;
    if (s.mode === "max")
      say(
        `WARNING: --cache-to ${describe(s)} mode=max: the Docker Engine's BuildKit exports only inline cache (the final image's steps, mode=min); the steps of other stages are not exported`,
      );
    for (const k of Object.keys(s.attrs))
      if (!["type", "ref", "mode", "ignore-error"].includes(k))
        say(`WARNING: --cache-to ${describe(s)}: attribute ${k} is ignored with --driver docker`);
    if (s.type === "registry") plan.pushRefs.push(s);
    if (s.type === "local") plan.layouts.push(s);
  }
  if (opts.noCache) {
    if (opts.cacheFrom?.length) say("WARNING: --cache-from is ignored with --no-cache");
    return plan;
  }
  for (const s of opts.cacheFrom ?? []) {
    if (s.type === "local") {
      // an image with inline cache in an OCI layout: loaded into the Engine under a temporary name,
      // which BuildKit then finds in the Engine's image store
      const tag = (s.tag ?? "latest").replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 128);
      const name = `dockyard-cache-import/${createHash("sha256").update(resolve(s.dir!)).digest("hex").slice(0, 16)}:${tag}`;
      say(`importing cache image ${s.dir}:${s.tag ?? "latest"} into the Engine as ${name}`);
      try {
        const { source, ref } = await openSource(parseTransport(`oci:${s.dir}:${s.tag ?? "latest"}`));
        await withSource(source, async (src) => {
          const { target, ref: tref } = await openTarget(parseTransport(`docker-daemon:${name}`), { docker });
          await withTarget(target, (t) => copy(src, ref, t, tref, {}));
        });
      } catch (err) {
        say(`WARNING: cache import from ${s.dir} failed (building without it): ${(err as Error).message}`);
        continue;
      }
      plan.loaded.push(name);
      plan.cachefrom.push(name);
      continue;
    }
    const ref = s.ref!;
    const registry = safeRegistry(ref);
    const creds = registry ? await lookupCredentials(registry).catch(() => undefined) : undefined;
    if (classic || creds) {
      // the Engine's BuildKit gets no credentials over the plain API, the classic builder reads only
      // its own store: pull the ref into the Engine first (a missing cache is a warning, as in BuildKit)
      say(`pulling cache image ${ref} into the Engine`);
      try {
        const authconfig = creds
          ? { username: creds.username, password: creds.password, serveraddress: registry }
          : undefined;
        const st = (await docker.pull(ref, authconfig ? { authconfig } : {})) as NodeJS.ReadableStream;
        let err: string | undefined;
        await follow(st, (m) => {
          if (m.error) err = String(m.error);
        });
        if (err) throw new Error(err);
      } catch (err) {
        say(`WARNING: cache import from ${ref} failed (building without it): ${(err as Error).message}`);
        continue;
      }
    }
    plan.cachefrom.push(ref);
  }
  return plan;
}

function describe(s: CacheSpec): string {
  return s.type === "registry"
    ? `type=registry,ref=${s.ref}`
    : s.type === "local"
      ? `type=local,dest=${s.dir}`
      : `type=${s.type}`;
}

function safeRegistry(ref: string): string | undefined {
  try {
    return parseReference(ref).registry;
  } catch {
    return undefined;
  }
}

/** Pushes an Engine image reference (credentials from the docker config when there are any). */
async function pushFromEngine(docker: Docker, t: string): Promise<void> {
  const img = docker.getImage(t);
  const registry = parseReference(t).registry;
  const c = await lookupCredentials(registry).catch(() => undefined);
  const authconfig = c ? { username: c.username, password: c.password, serveraddress: registry } : {};
  const s = (await img.push({ authconfig } as Parameters<typeof img.push>[0])) as NodeJS.ReadableStream;
  let err: string | undefined;
  await follow(s, (m) => {
    if (m.error) err = String(m.error);
  });
  if (err) throw new DockyardError("NETWORK", `push of ${t} failed: ${err}`);
}

export async function buildWithDocker(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const docker = engine(opts);
  try {
    await docker.ping();
  } catch (err) {
    throw new DockyardError(
      "NETWORK",
      `no Docker Engine at ${opts.dockerHost ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}: ${(err as Error).message}`,
    );
  }
  const contextDir = resolve(opts.context);
  const dockerfilePath = resolve(opts.dockerfile ?? join(contextDir, "Dockerfile"));
  let text: string;
  try {
    text = opts.dockerfileText ?? (await readFile(dockerfilePath, "utf8"));
  } catch {
    throw new DockyardError("NOT_FOUND", `cannot read the Dockerfile ${dockerfilePath}: use -f to name it`);
  }
  const ctx = await BuildContext.load(contextDir, { dockerfile: dockerfilePath });
  const rel = relative(contextDir, dockerfilePath);
  const inside = !rel.startsWith("..") && ctx.entries.has(rel);
  // A Dockerfile that .dockerignore excludes still has to be sent; BuildKit over the API would
  // then see it in COPY . — the classic builder drops it, so use that when nothing needs BuildKit.
  const classic =
    !inside && !needsBuildKit(text)
      ? {
          name: rel.startsWith("..") ? "Dockerfile" : rel,
          ignoreText: await readFile(join(contextDir, ".dockerignore"), "utf8").catch(() => undefined),
        }
      : undefined;
  const { stream, dockerfile } = await contextTar(ctx, text, inside ? rel : undefined, classic);
  const tags = opts.tags ?? [];
  const cache = await planEngineCache(opts, docker, classic !== undefined);
  const buildargs = { ...(opts.buildArgs ?? {}) };
  if (cache.inline) buildargs.BUILDKIT_INLINE_CACHE = "1";
  const query: Record<string, unknown> = {
    version: classic ? "1" : "2",
    dockerfile,
    t: tags.length ? tags : undefined,
    buildargs: Object.keys(buildargs).length ? buildargs : undefined,
    cachefrom: cache.cachefrom.length ? JSON.stringify(cache.cachefrom) : undefined,
    labels: opts.labels,
    target: opts.target,
    networkmode: opts.network ?? "host",
    nocache: opts.noCache ?? false,
    pull: opts.pull ?? false,
    platform: opts.platform ? formatPlatform(opts.platform) : undefined,
  };
  for (const k of Object.keys(query)) if (query[k] === undefined) delete query[k];
  const printer = new TracePrinter((l) => opts.reporter.info(l));
  let id: string | undefined;
  let failure: string | undefined;
  const body = new PassThrough();
  stream.on("error", (e) => body.destroy(e));
  stream.pipe(body);
  try {
    const res = await docker.buildImage(body, query as Docker.ImageBuildOptions);
    await follow(res, (m) => {
      if (m.id === "moby.buildkit.trace" && typeof m.aux === "string") printer.feed(m.aux);
      else if ((m.id === "moby.image.id" || m.id === undefined) && m.aux && typeof m.aux === "object")
        id = (m.aux as { ID?: string }).ID ?? id; // BuildKit: moby.image.id; the classic builder: aux only
      else if (typeof m.stream === "string") {
        if (m.stream.trim()) opts.reporter.info(m.stream.trim());
      } else if (m.error || m.errorDetail)
        failure = String(m.error ?? (m.errorDetail as { message?: string }).message);
    });
  } finally {
    // the images --cache-from type=local loaded: untagged (their layers stay while the result uses them)
    for (const n of cache.loaded)
      await docker
        .getImage(n)
        .remove({ noprune: false })
        .catch(() => {});
  }
  if (failure || !id) {
    const e = printer.lastError;
    throw new BuildError(
      `${e ? `${e.name}: ` : ""}${failure ?? "the engine reported no image"}` +
        (e?.logs.length ? `\n--- last lines of its output ---\n${e.logs.join("\n")}` : ""),
    );
  }
  const outputs: string[] = [`engine: ${tags.length ? tags.join(", ") : id}`];
  if (opts.push) {
    if (!tags.length) throw new DockyardError("USAGE", "--push needs at least one -t REGISTRY/NAME:TAG");
    await Promise.all(
      tags.map(async (t) => {
        await pushFromEngine(docker, t);
        outputs.push(`pushed: ${t}`);
      }),
    );
  }
  // --cache-to type=registry: the image (with its inline cache) pushed as the cache ref
  for (const s of cache.pushRefs) {
    const ref = s.ref!;
    try {
      const r = parseReference(ref);
      if (r.digest) throw new DockyardError("USAGE", `--cache-to ref=${ref}: name a tag, not a digest`);
      opts.reporter.info(`exporting inline cache: pushing the image as ${ref}`);
      const repo = `${r.registry}/${r.repository}`;
      await docker.getImage(id).tag({ repo, tag: r.tag ?? "latest" });
      await pushFromEngine(docker, `${repo}:${r.tag ?? "latest"}`);
      outputs.push(`cache: ${ref} (${cache.inline ? "inline" : "image, for the classic builder"})`);
    } catch (err) {
      if (!s.ignoreError) throw err;
      opts.reporter.info(`WARNING: cache export to ${ref} failed: ${(err as Error).message}`);
    }
  }
  // --cache-to type=local: the image (with its inline cache) copied to an OCI layout
  for (const s of cache.layouts) {
    try {
      opts.reporter.info(`exporting inline cache: copying the image to ${s.dir}:${s.tag ?? "latest"}`);
      const { source, ref: sref } = await openSource(parseTransport(`docker-daemon:${tags[0] ?? id}`), {
        docker,
      });
      await withSource(source, async (src) => {
        const { target, ref: tref } = await openTarget(parseTransport(`oci:${s.dir}:${s.tag ?? "latest"}`));
        await withTarget(target, (t) => copy(src, sref, t, tref, {}));
      });
      outputs.push(`cache: ${s.dir}:${s.tag ?? "latest"} (inline)`);
    } catch (err) {
      if (!s.ignoreError) throw err;
      opts.reporter.info(`WARNING: cache export to ${s.dir} failed: ${(err as Error).message}`);
    }
  }
  // other outputs: copy() from the engine
  const ref = tags[0] ?? id;
  const fromEngine = async () => openSource(parseTransport(`docker-daemon:${ref}`));
  for (const o of opts.outputs ?? []) {
    if (o.type === "image" || o.type === "registry") continue;
    if (!o.dest) throw new DockyardError("USAGE", `--output type=${o.type} needs dest=PATH`);
    const spec =
      o.type === "oci"
        ? parseTransport(`${o.tar ? "oci-archive" : "oci"}:${o.dest}${tags[0] ? ":" + tags[0] : ""}`)
        : o.type === "docker"
          ? parseTransport(`docker-archive:${o.dest}${tags[0] ? ":" + tags[0] : ""}`)
          : undefined;
    if (!spec)
      throw new DockyardError("UNSUPPORTED", `--output type=${o.type} is not supported with --driver docker`);
    const { source, ref: sref } = await fromEngine();
    await withSource(source, async (src) => {
      const { target, ref: tref } = await openTarget(spec, { tags });
      await withTarget(target, (t) => copy(src, sref, t, tref, {}));
    });
    outputs.push(`${spec.kind}: ${o.dest}`);
  }
  if (opts.outputs?.some((o) => o.type === "image" && !o.push)) {
    const { source, ref: sref } = await fromEngine();
    const store = new LocalStore(opts.home);
    await withSource(source, async (src) => {
      for (const t of tags) await copy(src, sref, store, t, {});
    });
  }
  if (opts.iidfile) await writeFile(opts.iidfile, id);
  if (opts.metadataFile)
    await writeFile(
      opts.metadataFile,
      JSON.stringify(
        { "containerimage.config.digest": id, ...(tags.length ? { "image.name": tags.join(",") } : {}) },
        null,
        2,
      ) + "\n",
    );
  return { id, digest: id, tags, seconds: (Date.now() - t0) / 1000, outputs };
}
