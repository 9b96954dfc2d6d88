// Base images in the local store (never the network): their platform feeds InvalidBaseImagePlatform
// and their ENV feeds UndefinedVar, from the library, `dockyard lint` and the build's checks.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { main } from "../../src/cli/main.js";
import { digestOf } from "../../src/image/digest.js";
import { MediaType } from "../../src/image/media-types.js";
import { LocalStore } from "../../src/image/transports/store.js";
import { localBaseImages } from "../../src/lint/base-images.js";
import { lintDockerfile } from "../../src/lint/index.js";
import { runBuildChecks } from "../../src/lint/build-checks.js";
import { sink } from "../helpers/cli.js";

/** An image with no layers: a config (platform + Env) and a manifest, tagged `ref`. */
async function storeImage(store: LocalStore, ref: string, arch: string, env: string[]) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: "linux",
      config: { Env: env },
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );
  const cdesc = { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length };
  await store.writeBlob(cdesc, Readable.from([config]));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: cdesc, layers: [] }),
  );
  await store.writeManifest(ref, manifest, MediaType.ociManifest);
}

const DF = "FROM localhost/base:1\nWORKDIR $APP_HOME\nCOPY $NOPE /x\n";

describe("base images from the local store", () => {
  let home = "";
  let store: LocalStore;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), "dy-lint-bases-"));
    process.env.DOCKYARD_HOME = home;
    process.env.HOME = home;
    process.env.XDG_CONFIG_HOME = join(home, "xdg");
    store = new LocalStore(home);
    await store.init();
    await storeImage(store, "localhost/base:1", "arm64", ["PATH=/bin", "APP_HOME=/app"]);
  });

  it("looks up platform and ENV; an image not in the store stays unknown", async () => {
    const b = await localBaseImages("FROM localhost/base:1\nFROM localhost/absent:2\n", {
      store,
      platform: "linux/amd64",
    });
    assert.equal(b.resolveImagePlatform("localhost/base:1", "linux/amd64"), "linux/arm64");
    assert.equal(b.imageEnv("localhost/base:1")?.APP_HOME, "/app");
    assert.equal(b.resolveImagePlatform("localhost/absent:2", "linux/amd64"), undefined);
    assert.equal(b.imageEnv("localhost/absent:2"), undefined);
  });

  it("lint: InvalidBaseImagePlatform reports; UndefinedVar knows the base's ENV", async () => {
    const b = await localBaseImages(DF, { store, platform: "linux/amd64" });
    const codes = (fs: { code: string; line: number; message: string }[]) =>
      fs
        .filter((f) => f.code === "InvalidBaseImagePlatform" || f.code === "UndefinedVar")
        .map((f) => `${f.line}:${f.code}:${f.message}`);
    const known = lintDockerfile(DF, { ...b, targetPlatform: "linux/amd64" });
    assert.deepEqual(codes(known), [
      '1:InvalidBaseImagePlatform:Base image localhost/base:1 was pulled with platform "linux/arm64", expected "linux/amd64" for current build',
      "3:UndefinedVar:Usage of undefined variable '$NOPE'",
    ]);
    // without the store: nothing known about the base, only likely typos are reported
    assert.deepEqual(codes(lintDockerfile(DF)), []);
    // the build's checks see the same
    const bc = runBuildChecks(DF, { ...b, targetPlatform: "linux/amd64" });
    assert.deepEqual(
      bc.findings.map((f) => f.code),
      ["InvalidBaseImagePlatform", "UndefinedVar"],
    );
    // a matching platform is fine
    assert.deepEqual(codes(lintDockerfile(DF, { ...b, targetPlatform: "linux/arm64" })), [
      "3:UndefinedVar:Usage of undefined variable '$NOPE'",
    ]);
  });

  it("`dockyard lint` reads the local store", async () => {
    const file = join(home, "Dockerfile");
    writeFileSync(file, DF);
    const stdout = sink();
    const stderr = sink();
    const code = await main(["lint", "-f", "json", file], { stdout, stderr, stdin: Readable.from([""]) });
    assert.equal(code, 1, stderr.text);
    const fs = JSON.parse(stdout.text) as { code: string; line: number }[];
    assert.ok(
      fs.some((f) => f.code === "UndefinedVar" && f.line === 3),
      stdout.text,
    );
    const arch = process.arch === "arm64" ? "arm64" : "amd64";
    assert.equal(
      fs.some((f) => f.code === "InvalidBaseImagePlatform"),
      arch !== "arm64",
      stdout.text,
    );
  });
});
