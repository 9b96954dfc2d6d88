// Every buildbench fixture builds with the native driver (runc + overlayfs), passes the fixture's
// own checks when loaded into a Docker Engine, and has the same file tree (names, types, modes,
// owners, link targets, contents; mtimes aside) as the same Dockerfile built by BuildKit.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import {
  debianMirrorReachable,
  docker,
  dockyard,
  ensureBases,
  expectedOutput,
  FIXTURES,
  fixtureConf,
  fixtureNames,
  imageTree,
  prepareFixture,
  removeDir,
  run,
  tempDir,
  treeDiff,
} from "../build/fixtures.js";
import { DOCKER_CLI } from "../helpers/peers.js";

const peersMissing = needPeers("runc", "dockerd", "getfattr");
const fixtures = fixtureNames();
let basesProblem: string | undefined;
let home: string | undefined;
let work: string | undefined;
let mirror = false;
const images: string[] = [];

before(async () => {
  if (peersMissing || fixtures.length === 0) return;
  basesProblem = await ensureBases();
  home = await tempDir("dy-build-fx-home-");
  work = await tempDir("dy-build-fx-");
  mirror = await debianMirrorReachable();
});

after(async () => {
  for (const i of images) await docker("rmi", "-f", i).catch(() => {});
  await removeDir(home);
  await removeDir(work);
});

// docker create/export add these; both images get the same, they say nothing about the build
const ENGINE_STUBS = /^(\.dockerenv|etc\/(hostname|hosts|resolv\.conf|mtab)|dev|proc|sys)(\/|$)/;
// apt/dpkg logs and caches carry timestamps: compare their metadata, not their bytes
const APT_VOLATILE =
  /^(var\/log|var\/cache\/ldconfig|var\/cache\/debconf|var\/lib\/dpkg\/.*-old$|etc\/ld\.so\.cache$|var\/lib\/apt\/extended_states)/;

describe("buildbench fixtures (native driver)", () => {
  for (const name of fixtures.length ? fixtures : ["(none)"]) {
    test(
      name,
      {
        skip: peersMissing || (fixtures.length === 0 ? "no ../shared/tools/buildbench/fixtures" : false),
        timeout: 600_000,
      },
      async (t) => {
        if (basesProblem) {
          if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(basesProblem);
          return t.skip(basesProblem);
        }
        const conf = await fixtureConf(name);
        if (conf.NETWORK === "host" && !mirror)
          return t.skip("the Debian mirror is unreachable (the apt fixture needs --network host to it)");
        const ctx = await prepareFixture(name, work!);
        const tag = `dy-build-test-${name}:native`;
        const archive = join(work!, `${name}.tar`);
        const b = await dockyard(home!, [
          "build",
          "--progress",
          "plain",
          "--network",
          conf.NETWORK,
          "-t",
          tag,
          "-o",
          `type=docker,dest=${archive}`,
          ctx,
        ]);
        assert.equal(b.code, 0, `dockyard build failed:\n${b.stderr.slice(-3000)}`);
        const loaded = await docker("load", "-i", archive);
        assert.match(loaded, /Loaded image/);
        images.push(tag);
        // its own CMD, as buildbench runs it
        const cmd = await run(DOCKER_CLI, ["run", "--rm", "--network", "none", tag], { timeoutMs: 60_000 });
        assert.equal(cmd.code, 0, cmd.stderr);
        assert.match(cmd.stdout, new RegExp(conf.RUN_EXPECT, "m"));
        // check.sh as root, exactly the expected output
        const script = await readFile(join(FIXTURES, name, "check.sh"), "utf8");
        const got = await run(
          DOCKER_CLI,
          ["run", "--rm", "--network", "none", "-u", "0", "--entrypoint", "sh", tag, "-c", script],
          { timeoutMs: 120_000 },
        );
        assert.equal(
          got.stdout,
          await expectedOutput(name, ctx),
          `check.sh output differs (stderr: ${got.stderr})`,
        );
        // the same Dockerfile through BuildKit: the same file tree
        const bkTag = `dy-build-test-${name}:buildkit`;
        const bk = await run(DOCKER_CLI, ["build", "-q", "--network", conf.NETWORK, "-t", bkTag, ctx], {
          env: { ...process.env, DOCKER_BUILDKIT: "1" },
          timeoutMs: 600_000,
        });
        if (
          bk.code !== 0 &&
          /unknown instruction/.test(bk.stderr) &&
          /<<[-"']?[A-Z]/.test(await readFile(join(ctx, "Dockerfile"), "utf8"))
        ) {
          // Docker 20.10's BuildKit predates Dockerfile heredocs (frontend 1.4): nothing to compare with
          t.diagnostic("BuildKit of this Docker Engine cannot parse heredocs: file tree comparison skipped");
          await removeDir(ctx);
          return;
        }
        assert.equal(bk.code, 0, `docker build (BuildKit) failed: ${bk.stderr.slice(-2000)}`);
        images.push(bkTag);
        const [ours, theirs] = await Promise.all([imageTree(tag), imageTree(bkTag)]);
        const apt = conf.NETWORK === "host";
        const diffs = treeDiff(ours, theirs, { ignore: ENGINE_STUBS, contents: !apt });
        if (apt)
          diffs.push(
            ...treeDiff(ours, theirs, {
              ignore: new RegExp(`${ENGINE_STUBS.source}|${APT_VOLATILE.source}`),
            }).filter((d) => !diffs.includes(d)),
          );
        assert.deepEqual(diffs, [], `file trees differ from BuildKit's:\n${diffs.join("\n")}`);
        await removeDir(ctx);
      },
    );
  }
});

describe("buildbench fixtures (--driver docker: the Engine's BuildKit, then --push)", () => {
  for (const name of fixtures.length ? fixtures : ["(none)"]) {
    test(
      name,
      {
        skip: peersMissing || (fixtures.length === 0 ? "no ../shared/tools/buildbench/fixtures" : false),
        timeout: 600_000,
      },
      async (t) => {
        if (basesProblem) {
          if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(basesProblem);
          return t.skip(basesProblem);
        }
        const conf = await fixtureConf(name);
        if (conf.NETWORK === "host" && !mirror) return t.skip("the Debian mirror is unreachable");
        const df = await readFile(join(FIXTURES, name, "context", "Dockerfile"), "utf8").catch(() => "");
        if (/^(RUN|COPY)\s+<</m.test(df))
          return t.skip("the Engine's BuildKit (Docker 20.10) has no Dockerfile heredocs");
        const ctx = await prepareFixture(name, work!);
        const tag = `127.0.0.1:5300/dy-build-test/${name}:docker-driver`;
        const b = await dockyard(home!, [
          "build",
          "--driver",
          "docker",
          "--progress",
          "plain",
          "--network",
          conf.NETWORK,
          "-t",
          tag,
          "--push",
          ctx,
        ]);
        assert.equal(b.code, 0, `dockyard build --driver docker failed:\n${b.stderr.slice(-3000)}`);
        assert.match(b.stderr, /^(#\d+ \[.*\]|Step \d+\/\d+ :) (RUN|COPY)/m, "the steps are printed");
        images.push(tag);
        const script = await readFile(join(FIXTURES, name, "check.sh"), "utf8");
        const got = await run(
          DOCKER_CLI,
          ["run", "--rm", "--network", "none", "-u", "0", "--entrypoint", "sh", tag, "-c", script],
          { timeoutMs: 120_000 },
        );
        assert.equal(
          got.stdout,
          await expectedOutput(name, ctx),
          `check.sh output differs (stderr: ${got.stderr})`,
        );
        const head = await fetch(`http://127.0.0.1:5300/v2/dy-build-test/${name}/manifests/docker-driver`, {
          method: "HEAD",
          headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
        });
        assert.equal(head.status, 200, "pushed to the registry");
        await removeDir(ctx);
      },
    );
  }
});
