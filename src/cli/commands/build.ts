import type { Command } from "../command.js";
import { DockyardError } from "../../image/errors.js";
import { parsePlatform } from "../../image/platform.js";
import { ExitCode } from "../exit-codes.js";
import type { BuildOptions } from "../../build/options.js";

function kvList(list: string[] | undefined, what: string, allowBare = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf("=");
    if (i <= 0) {
      if (allowBare && item && process.env[item] !== undefined) {
        out[item] = process.env[item]!;
        continue;
      }
      if (allowBare) continue;
      throw new DockyardError("USAGE", `${what} ${JSON.stringify(item)}: want KEY=VALUE`);
    }
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function parseSecrets(list: string[] | undefined) {
  return (list ?? []).map((s) => {
    const kv: Record<string, string> = {};
    for (const p of s.split(",")) {
      const i = p.indexOf("=");
      if (i > 0) kv[p.slice(0, i)] = p.slice(i + 1);
    }
    if (!kv.id)
      throw new DockyardError("USAGE", `--secret ${JSON.stringify(s)}: want id=ID,src=FILE or id=ID,env=VAR`);
    if (!kv.src && !kv.source && !kv.env) kv.env = kv.id;
    return { id: kv.id, src: kv.src ?? kv.source, env: kv.env };
  });
}

const build: Command = {
  name: "build",
  summary: "Build an image from a Dockerfile (daemonless by default: runc/crun on overlayfs)",
  usage: "build [flags] CONTEXT",
  help: `
Builds the Dockerfile in CONTEXT (or -f FILE) with BuildKit's semantics. The native driver needs
no daemon: RUN steps run in runc or crun on overlay snapshots (root, Linux). The result goes to
the local store ($DOCKYARD_HOME) under each -t name; --push sends it to its registry, --output
writes OCI/docker archives or the files, --load loads it into a Docker Engine.

Every step is cached by content (parent + instruction + inputs); a rebuild with nothing changed
reads no file of the context (stat cache). --no-cache rebuilds every step.

Examples:
  dockyard build -t localhost:5000/app:1 .
  dockyard build -t registry.example.com/app:\${GIT_SHA} --push .
  dockyard build --progress plain --build-arg VERSION=1.2 --target runtime -f docker/Dockerfile .
  dockyard build -o type=docker,dest=app.tar -t app:1 .      # a docker-archive for docker load
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) dockyard build -t app:1 .   # reproducible
  dockyard build --driver docker -t app:1 .                  # through a Docker Engine (DOCKER_HOST)
  dockyard build -t reg.example.com/app:1 --push \\
    --cache-from type=registry,ref=reg.example.com/app:buildcache \\
    --cache-to type=registry,ref=reg.example.com/app:buildcache,mode=max .   # CI: reuse layers built elsewhere

--cache-to exports the step cache (step keys → layers) after the build as an OCI image manifest
(config application/vnd.buildkit.cacheconfig.v0, BuildKit's image-manifest form) in a registry or
an OCI layout (type=local,dest=DIR); mode=min (default) keeps the final image's steps, mode=max
every stage's. --cache-from (repeatable) imports one: a step whose key is there is CACHED and
its layer is pulled instead of running the step; a missing cache is a warning. With a cache,
a stage off the target's chain runs only when a missed step needs its files.

With --driver docker the Engine's BuildKit does the caching: --cache-to type=inline writes
BuildKit's inline cache into the image config (the final image's steps; BUILDKIT_INLINE_CACHE=1),
type=registry,ref=REF does that and pushes the image as REF (mode=max is not possible: warned);
--cache-from type=registry,ref=REF names an image (with inline cache) the Engine reads as cache
(from its store, else the registry; pulled first when credentials are configured for it).
type=local,dest=DIR copies that image to an OCI layout, and type=local,src=DIR loads it into the
Engine for the build (the Engine's own local cache needs a BuildKit session its API has not).
Caches of the two drivers are not interchangeable (different step keys and formats).

Exit codes: 0 built, 1 a step failed (its exit code and last output lines are printed),
2 usage, 3 invalid Dockerfile, 4 not found (file, stage, base image), 6 registry unreachable.
`,
  flags: [
    {
      name: "tag",
      short: "t",
      type: "string[]",
      description: "Name the image (REGISTRY/REPO:TAG)",
      valueName: "NAME",
    },
    {
      name: "file",
      short: "f",
      type: "string",
      description: "The Dockerfile (default CONTEXT/Dockerfile)",
      valueName: "FILE",
    },
    {
      name: "target",
      type: "string",
      description: "Build this stage (and what it needs) only",
      valueName: "STAGE",
    },
    { name: "build-arg", type: "string[]", description: "Set a build-time ARG", valueName: "KEY=VALUE" },
    { name: "label", type: "string[]", description: "Add a label to the image", valueName: "KEY=VALUE" },
    { name: "no-cache", type: "boolean", description: "Do not use the step cache" },
    { name: "pull", type: "boolean", description: "Always fetch base images from their registry" },
    {
      name: "network",
      type: "string",
      description: "Network for RUN: host or none (RUN --network overrides)",
      valueName: "MODE",
      default: "host",
    },
    {
      name: "platform",
      type: "string",
      description: "Target platform recorded in the image (os/arch[/variant])",
      valueName: "PLATFORM",
    },
    {
      name: "progress",
      type: "string",
      description: "auto, tty, plain, json or quiet",
      valueName: "MODE",
      default: "auto",
      env: "BUILDKIT_PROGRESS",
    },
    { name: "push", type: "boolean", description: "Push every -t name to its registry" },
    {
      name: "sign",
      type: "boolean",
      description: "with --push: sign each pushed tag ($DOCKYARD_SIGNING_KEY gpg/cosign key, else Notary)",
    },
    { name: "load", type: "boolean", description: "Load the image into the Docker Engine (DOCKER_HOST)" },
    {
      name: "output",
      short: "o",
      type: "string[]",
      description: "type=oci|docker|local,dest=PATH (type=image,push=true)",
      valueName: "SPEC",
    },
    { name: "iidfile", type: "string", description: "Write the image ID to FILE", valueName: "FILE" },
    {
      name: "metadata-file",
      type: "string",
      description: "Write build metadata (digests, names) as JSON to FILE",
      valueName: "FILE",
    },
    {
      name: "secret",
      type: "string[]",
      description: "Secret for RUN --mount=type=secret",
      valueName: "id=ID,src=FILE",
    },
    {
      name: "insecure-registry",
      type: "string[]",
      description: "Allow plain HTTP for this registry (loopback always is)",
      valueName: "HOST:PORT",
    },
    {
      name: "driver",
      type: "string",
      description: "native (daemonless) or docker (via a Docker Engine)",
      valueName: "NAME",
      default: "native",
      env: "DOCKYARD_DRIVER",
    },
    {
      name: "cache-from",
      type: "string[]",
      description: "Import the step cache: type=registry,ref=REF or type=local,src=DIR",
      valueName: "SPEC",
    },
    {
      name: "cache-to",
      type: "string[]",
      description:
        "Export the step cache: type=registry,ref=REF[,mode=min|max], type=local,dest=DIR, type=inline (--driver docker)",
      valueName: "SPEC",
    },
    { name: "check", type: "boolean", description: "Only run BuildKit's build checks (exit 1 on warnings)" },
    { name: "quiet", short: "q", type: "boolean", description: "Print only the image ID" },
  ],
  async run(args, io) {
    const {
      buildNative,
      buildWithDocker,
      createBuildReporter,
      parseOutput,
      parseCacheSpec,
      installSignalCleanup,
      BuildError,
      runCleanups,
    } = await import("../../build/index.js");
    if (args.positionals.length !== 1)
      throw new DockyardError("USAGE", "build needs exactly one CONTEXT directory (e.g. '.')");
    const f = args.flags;
    const network = String(f.network ?? "host");
    if (network !== "host" && network !== "none" && network !== "default")
      throw new DockyardError("USAGE", `--network ${network}: use host or none`);
    const quiet = f.quiet === true;
    const reporter = createBuildReporter(quiet ? "quiet" : String(f.progress ?? "auto"), io.stderr);
    const buildArgs = kvList(f["build-arg"] as string[] | undefined, "--build-arg", true);
    const epochRaw = buildArgs.SOURCE_DATE_EPOCH ?? process.env.SOURCE_DATE_EPOCH;
    let sourceDateEpoch: number | undefined;
    if (epochRaw !== undefined && epochRaw !== "") {
      sourceDateEpoch = Number(epochRaw);
      if (!Number.isInteger(sourceDateEpoch) || sourceDateEpoch < 0)
        throw new DockyardError(
          "USAGE",
          `SOURCE_DATE_EPOCH ${JSON.stringify(epochRaw)}: want seconds since 1970`,
        );
    }
    let outputs;
    try {
      outputs = ((f.output as string[] | undefined) ?? []).map(parseOutput);
    } catch (err) {
      throw new DockyardError("USAGE", `--output: ${(err as Error).message}`);
    }
    const ac = new AbortController();
    installSignalCleanup(() => ac.abort());
    const opts: BuildOptions = {
      context: args.positionals[0]!,
      dockerfile: f.file as string | undefined,
      tags: (f.tag as string[] | undefined) ?? [],
      target: f.target as string | undefined,
      buildArgs,
      labels: kvList(f.label as string[] | undefined, "--label"),
      noCache: f["no-cache"] === true,
      pull: f.pull === true,
      network: (network === "default" ? "host" : network) as "host" | "none",
      platform: f.platform ? parsePlatform(String(f.platform)) : undefined,
      sourceDateEpoch,
      secrets: parseSecrets(f.secret as string[] | undefined),
      insecureRegistries: (f["insecure-registry"] as string[] | undefined) ?? [],
      push: f.push === true,
      sign: f.sign === true,
      load: f.load === true,
      outputs,
      iidfile: f.iidfile as string | undefined,
      metadataFile: f["metadata-file"] as string | undefined,
      check: f.check === true,
      reporter,
      signal: ac.signal,
    };
    const driver = String(f.driver ?? "native");
    if (driver !== "native" && driver !== "docker")
      throw new DockyardError("USAGE", `--driver ${driver}: use native or docker`);
    try {
      opts.cacheFrom = ((f["cache-from"] as string[] | undefined) ?? []).map((s) =>
        parseCacheSpec(s, "from"),
      );
      opts.cacheTo = ((f["cache-to"] as string[] | undefined) ?? []).map((s) => parseCacheSpec(s, "to"));
    } catch (err) {
      throw new DockyardError("USAGE", (err as Error).message);
    }
    if (driver === "native" && opts.cacheTo.some((c) => c.type === "inline"))
      throw new DockyardError(
        "USAGE",
        "--cache-to type=inline needs --driver docker (the native driver exports its step cache with type=registry,ref=REF or type=local,dest=DIR)",
      );
    try {
      const r = driver === "docker" && !opts.check ? await buildWithDocker(opts) : await buildNative(opts);
      reporter.close();
      if (opts.check) return r.checkFindings ? ExitCode.findings : ExitCode.ok;
      if (quiet) io.stdout.write(r.id + "\n");
      else {
        for (const o of r.outputs) io.stderr.write(`=> ${o}\n`);
        io.stderr.write(`=> built ${r.id} in ${r.seconds.toFixed(1)}s\n`);
      }
      return ExitCode.ok;
    } catch (err) {
      reporter.close();
      await runCleanups();
      if (err instanceof BuildError) {
        io.stderr.write(`ERROR: ${err.message}\n`);
        return ExitCode.findings;
      }
      throw err;
    }
  },
};

/** The `build` commands. */
export const commands: Command[] = [build];
