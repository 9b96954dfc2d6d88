import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findConfig, parseConfig, parseRequireLabel } from "../../src/lint/config.js";
import { isDockyardError } from "../../src/image/errors.js";

describe("lint config (.hadolint.yaml)", () => {
  it("reads every hadolint key", () => {
    const cfg = parseConfig(`
failure-threshold: warning
format: json
ignored: [DL3008, SC2086]
override:
  error: [DL3015]
  style: [DL3059]
trustedRegistries: docker.io
label-schema:
  maintainer: email
  org.opencontainers.image.created: rfc3339
strict-labels: true
disable-ignore-pragma: true
no-fail: true
no-color: true
`);
    assert.equal(cfg.failureThreshold, "warning");
    assert.equal(cfg.format, "json");
    assert.deepEqual(cfg.ignored, ["DL3008", "SC2086"]);
    assert.deepEqual(cfg.override, { error: ["DL3015"], style: ["DL3059"] });
    assert.deepEqual(cfg.trustedRegistries, ["docker.io"]);
    assert.deepEqual(cfg.labelSchema, { maintainer: "email", "org.opencontainers.image.created": "rfc3339" });
    assert.equal(cfg.strictLabels, true);
    assert.equal(cfg.disableIgnorePragma, true);
    assert.equal(cfg.noFail, true);
    assert.equal(parseConfig("").ignored.length, 0);
  });

  it("rejects bad config with a CONFIG_INVALID naming the key", () => {
    for (const [text, word] of [
      ["failure-threshold: loud", "failure-threshold"],
      ["override:\n  fatal: [DL1]", "fatal"],
      ["label-schema:\n  a: number", "number"],
      ["ignore: [DL3008]", "ignore"],
      ["- a\n- b", "mapping"],
      ["a: [", "YAML"],
    ]) {
      assert.throws(
        () => parseConfig(text!),
        (e: unknown) => isDockyardError(e, "CONFIG_INVALID") && e.message.includes(word!),
        text,
      );
    }
  });

  it("finds the config like hadolint: cwd first, then XDG and home locations", () => {
    const root = mkdtempSync(join(tmpdir(), "dy-lint-cfg-"));
    const cwd = join(root, "proj");
    const home = join(root, "home");
    mkdirSync(cwd);
    mkdirSync(join(home, ".config"), { recursive: true });
    const env = { HOME: home, XDG_CONFIG_HOME: "" };
    assert.equal(findConfig(cwd, env), undefined);
    writeFileSync(join(home, ".hadolint.yaml"), "ignored: []\n");
    assert.equal(findConfig(cwd, env), join(home, ".hadolint.yaml"));
    writeFileSync(join(home, ".config", "hadolint.yaml"), "ignored: []\n");
    assert.equal(findConfig(cwd, env), join(home, ".config", "hadolint.yaml"));
    writeFileSync(join(cwd, ".hadolint.yml"), "ignored: []\n");
    assert.equal(findConfig(cwd, env), join(cwd, ".hadolint.yml"));
    writeFileSync(join(cwd, ".hadolint.yaml"), "ignored: []\n");
    assert.equal(findConfig(cwd, env), join(cwd, ".hadolint.yaml"));
  });

  it("parses --require-label NAME:TYPE", () => {
    assert.deepEqual(parseRequireLabel("org.opencontainers.image.url:url"), [
      "org.opencontainers.image.url",
      "url",
    ]);
    assert.throws(() => parseRequireLabel("maintainer"), /NAME:TYPE/);
  });
});
