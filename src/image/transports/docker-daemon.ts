// docker-daemon:REF — images in a Docker Engine, through dockerode: reading is `docker save`
// (the engine's save stream, spooled and indexed), writing is `docker load` of a docker archive
// streamed straight into the engine.
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { DockyardError } from "../errors.js";
import { familiarReference, formatReference, parseReference } from "../reference.js";
import { ArchiveSource, ArchiveTarget } from "./archive.js";
import type { Descriptor } from "../manifest.js";
import type { ImageTarget, WriteManifestOptions } from "./types.js";
import type { Readable } from "node:stream";
import type { OpenedSource, OpenedTarget, OpenOptions, TransportSpec } from "./index.js";

function dockerFrom(opts: OpenOptions): Docker {
  if (opts.docker instanceof Docker) return opts.docker;
  if (opts.docker && typeof opts.docker === "object") return new Docker(opts.docker as Docker.DockerOptions);
  return new Docker();
}

function daemonError(err: unknown, what: string): DockyardError {
  const e = err as { statusCode?: number; message?: string; code?: string };
  if (e.statusCode === 404) return new DockyardError("NOT_FOUND", `${what}: not found in the Docker Engine`);
  if (e.code === "ENOENT" || e.code === "ECONNREFUSED")
    return new DockyardError(
      "NETWORK",
      `${what}: cannot reach the Docker Engine (${e.code}); is DOCKER_HOST right?`,
    );
  return new DockyardError("NETWORK", `${what}: ${e.message ?? String(err)}`);
}

export async function openDaemonSource(spec: TransportSpec, opts: OpenOptions): Promise<OpenedSource> {
  const docker = dockerFrom(opts);
  const name = familiarReference(spec.reference!);
  let stream: NodeJS.ReadableStream;
  try {
    // Existence first, for a clear error (the save endpoint answers 404 lazily).
    await docker.getImage(name).inspect();
    stream = await docker.getImage(name).get();
  } catch (err) {
    throw daemonError(err, `docker-daemon:${name}`);
  }
  const source = await ArchiveSource.open("docker-archive", undefined, stream);
  // Images saved by ID have no RepoTags: then the only image is the one.
  const tagged = source
    .images()
    .some((i) => i.tags.some((t) => safeFormat(t) === formatReference(spec.reference!)));
  return { source, ref: tagged ? formatReference(spec.reference!) : undefined };
}

function safeFormat(t: string): string {
  try {
    return formatReference(parseReference(t));
  } catch {
    return t;
  }
}

/** Streams a docker archive into `docker load`; the engine gets the image only when all of it arrived. */
class DaemonTarget implements ImageTarget {
  readonly description: string;
  readonly sequential = true;
  readonly acceptsIndex = false;
  private readonly pipe = new PassThrough();
  private readonly archive: ArchiveTarget;
  private readonly loaded: Promise<string>;

  constructor(docker: Docker, ref: string) {
    this.description = `docker-daemon:${familiarReference(parseReference(ref))}`;
    this.archive = new ArchiveTarget("docker-archive", undefined, { stream: this.pipe });
    const what = this.description;
    this.loaded = (async () => {
      let res: NodeJS.ReadableStream;
      try {
        res = await docker.loadImage(this.pipe as unknown as string, { quiet: true });
      } catch (err) {
        throw daemonError(err, what);
      }
      let text = "";
      for await (const c of res) text += String(c);
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        try {
          const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
          if (msg.error) throw new DockyardError("NETWORK", `docker load: ${msg.error}`);
        } catch (err) {
          if (err instanceof DockyardError) throw err;
        }
      }
      return text;
    })();
    this.loaded.catch(() => {});
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.archive.hasBlob(desc);
  }
  writeBlob(desc: Descriptor, data: Readable): Promise<void> {
    return this.archive.writeBlob(desc, data);
  }
  writeManifest(ref: string | undefined, bytes: Uint8Array, mediaType: string, opts?: WriteManifestOptions) {
    return this.archive.writeManifest(ref, bytes, mediaType, opts);
  }
  async commit(): Promise<void> {
    await this.archive.commit();
    await this.loaded;
  }
  async abort(): Promise<void> {
    this.pipe.destroy(new Error("aborted"));
    await this.archive.abort();
    await this.loaded.catch(() => {});
  }
}

export async function openDaemonTarget(spec: TransportSpec, opts: OpenOptions): Promise<OpenedTarget> {
  const docker = dockerFrom(opts);
  try {
    await docker.ping();
  } catch (err) {
    throw daemonError(err, "docker-daemon");
  }
  const ref = formatReference(spec.reference!);
  return { target: new DaemonTarget(docker, ref), ref };
}
