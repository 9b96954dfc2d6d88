// The native, daemonless driver: parse → plan → execute (runc/crun on overlay snapshots) → image →
// outputs, all through copy().
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockyardError } from "../../image/errors.js";
import { formatPlatform, hostPlatform } from "../../image/platform.js";
import type { Platform } from "../../image/manifest.js";
import { LocalStore, dockyardHome } from "../../image/transports/store.js";
import { BuildStore } from "../cache.js";
import { BuildContext } from "../context.js";
import { BuildError, Executor } from "../execute.js";
import { checkDockerfile, loadDockerfile } from "../frontend.js";
import { BuiltImage, StoreResolver } from "../image.js";
import { findRuntime, removeContainersUnder } from "../runner.js";
import { sweepDeadOwners } from "../cleanup.js";
import { writeOutputs } from "../outputs.js";
import { parseReference } from "../../image/reference.js";
import type { BlobOrigin } from "../../image/transports/index.js";
import type { BuildOptions, BuildResult } from "../options.js";

export async function buildNative(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const home = opts.home ?? dockyardHome();
  const store = new BuildStore(join(home, "build"));
  await store.init();
  // what builds killed outright left (mounts, containers, temp dirs) is cleared beside this one
  sweepDeadOwners([store.tmp, tmpdir()], removeContainersUnder).catch(() => {});
  const localStore = new LocalStore(home);
  const dockerfilePath = opts.dockerfile ?? join(opts.context, "Dockerfile");
  let text: string;
  try {
    text = opts.dockerfileText ?? (await readFile(dockerfilePath, "utf8"));
  } catch {
    throw new DockyardError("NOT_FOUND", `cannot read the Dockerfile ${dockerfilePath}: use -f to name it`);
  }
  const platform: Platform = opts.platform ?? hostPlatform();
  const fe = loadDockerfile(text, opts.dockerfile ? opts.dockerfile : "Dockerfile", {
    buildArgs: opts.buildArgs,
    target: opts.target,
    platform: formatPlatform(platform),
  });
  // BuildKit's build checks run before every build: warnings in the progress output; `--check`
  // only checks; `# check=error=true` fails the build. They load (the lint engine) while the
  // context is walked, and are waited for before the first step.
  const file = opts.dockerfile ?? "Dockerfile";
  const checking = checkDockerfile(fe, text, {
    file,
    targetPlatform: formatPlatform(platform),
    store: localStore,
  });
  checking.catch(() => {}); // awaited below; no unhandled rejection while the context loads
  const reportChecks = async () => {
    // the checks advise: a fault in them must not stop a build (with --check it is the answer)
    const checks = await checking.catch((err: unknown) => {
      if (opts.check) throw err;
      opts.reporter.info(`WARNING: the build checks could not run: ${(err as Error).message}`);
      return { findings: [], fail: false } as Awaited<typeof checking>;
    });
    for (const f of checks.findings)
      opts.reporter.info(`WARNING: ${f.code}: ${f.message} (${f.file}:${f.line})${f.url ? ` ${f.url}` : ""}`);
    return checks;
  };
  if (opts.check) {
    const checks = await reportChecks();
    if (!checks.findings.length) opts.reporter.info("Check complete, no warnings found.");
    return {
      id: "",
      digest: "",
      tags: [],
      seconds: (Date.now() - t0) / 1000,
      outputs: [],
      checkFindings: checks.findings.length,
    };
  }
  const needsRuntime = fe.dockerfile.stages.some((s) => s.steps.some((x) => x.kind === "RUN"));
  if (needsRuntime) findRuntime();
  const tm = (what: string) => {
    if (process.env.DOCKYARD_TIMING === "1")
      process.stderr.write(
        `[timing] ${what} at ${Date.now() - t0}ms (${Math.round(performance.now())}ms since process start)\n`,
      );
  };
  tm("parsed");
  const context = await BuildContext.load(opts.context, {
    dockerfile: dockerfilePath,
    cacheDir: store.statcache,
  });
  const checks = await reportChecks();
  if (checks.fail)
    throw new BuildError(`build checks failed (# check=error=true): ${checks.findings.length} warning(s)`);
  const resolver = new StoreResolver({
    store: localStore,
    insecureRegistries: opts.insecureRegistries,
    pull: opts.pull,
    onPull: (ref) => opts.reporter.info(`pulling ${ref}`),
  });
  // --cache-from: the cache manifests load in the background; the first cache miss waits for them
  // the registry cache (and the registry client under it) is loaded only when asked for
  const remote =
    opts.cacheFrom?.length || opts.cacheTo?.length ? await import("../cache-remote.js") : undefined;
  const importer =
    remote && opts.cacheFrom?.length && !opts.noCache
      ? new remote.CacheImporter(opts.cacheFrom, {
          store,
          reporter: opts.reporter,
          insecureRegistries: opts.insecureRegistries,
        })
      : undefined;
  const exec = new Executor({
    store,
    context,
    resolver,
    expander: fe.expander,
    reporter: opts.reporter,
    target: opts.target,
    buildArgs: new Map(Object.entries(opts.buildArgs ?? {})),
    noCache: opts.noCache ?? false,
    network: opts.network ?? "host",
    platform,
    epoch: opts.sourceDateEpoch,
    secrets: opts.secrets ?? [],
    labels: opts.labels ?? {},
    signal: opts.signal,
    remote: importer,
    // with a remote cache, a stage whose files no missed step needs is not run at all
    lazyStages: importer !== undefined && !(opts.cacheTo ?? []).some((c) => c.mode === "max"),
  });
  tm("context loaded");
  let result;
  try {
    result = await exec.execute(fe.dockerfile);
    await importer?.settle();
  } finally {
    await context.save().catch(() => {});
  }
  const cfg = result.config;
  if (opts.labels && Object.keys(opts.labels).length) {
    cfg.config ??= {};
    cfg.config.Labels = { ...(cfg.config.Labels ?? {}), ...opts.labels };
  }
  // the image's time: the last history entry's (stable on a full cache hit), or SOURCE_DATE_EPOCH
  const last = cfg.history?.at(-1)?.created;
  cfg.created =
    opts.sourceDateEpoch !== undefined
      ? new Date(opts.sourceDateEpoch * 1000).toISOString()
      : (last ?? new Date().toISOString());
  cfg.architecture = platform.architecture;
  cfg.os = platform.os;
  if (platform.variant) cfg.variant = platform.variant;
  else delete cfg.variant;
  const image = new BuiltImage(result, platform);
  for (const w of exec.unusedBuildArgs())
    opts.reporter.info(`WARNING: build argument ${w} was not consumed by any ARG`);
  tm("executed");
  const outputs = await writeOutputs(image, localStore, opts);
  tm("outputs written");
  for (const spec of opts.cacheTo ?? []) {
    try {
      const r = await remote!.exportCache(spec.mode === "max" ? exec.allSteps : result.steps, spec, {
        store,
        reporter: opts.reporter,
        insecureRegistries: opts.insecureRegistries,
        origins: [...(importer?.origins ?? []), ...pushOrigins(opts)],
      });
      outputs.push(`cache: ${r.where}@${r.digest}`);
    } catch (err) {
      if (!spec.ignoreError) throw err;
      opts.reporter.info(
        `WARNING: cache export to ${remote!.describeCacheSpec(spec)} failed: ${(err as Error).message}`,
      );
    }
  }
  return {
    id: image.id,
    digest: image.manifestDesc.digest,
    image,
    tags: opts.tags ?? [],
    seconds: (Date.now() - t0) / 1000,
    hashedFiles: context.hashedFiles,
    outputs,
  };
}

/** The repositories --push wrote the image to: the cache export can mount its layers from them. */
function pushOrigins(opts: BuildOptions): BlobOrigin[] {
  if (!opts.push) return [];
  const out: BlobOrigin[] = [];
  for (const t of opts.tags ?? []) {
    try {
      const r = parseReference(t);
      out.push({ registry: r.registry, repository: r.repository });
    } catch {
      /* not a registry name */
    }
  }
  return out;
}
