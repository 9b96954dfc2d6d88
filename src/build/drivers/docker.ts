// The docker driver: the context (after .dockerignore) sent as a tar through dockerode to a Docker
// Engine's BuildKit (API version=2), its progress decoded and printed like ours; tags, --push, and
// --output/--iidfile/--metadata-file by copy() from the engine.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { DockyardError } from "../../image/errors.js";
import { copy, withTarget } from "../../image/copy.js";
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
import type { BuildOptions, BuildResult } from "../options.js";

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
        if (error) {
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
  const query: Record<string, unknown> = {
    version: classic ? "1" : "2",
    dockerfile,
    t: tags.length ? tags : undefined,
    buildargs: opts.buildArgs,
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
        outputs.push(`pushed: ${t}`);
      }),
    );
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
    const { target, ref: tref } = await openTarget(spec, { tags });
    await withTarget(target, (t) => copy(source, sref, t, tref, {}));
    outputs.push(`${spec.kind}: ${o.dest}`);
  }
  if (opts.outputs?.some((o) => o.type === "image" && !o.push)) {
    const { source, ref: sref } = await fromEngine();
    const store = new LocalStore(opts.home);
    for (const t of tags) await copy(source, sref, store, t, {});
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
