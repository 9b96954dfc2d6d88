import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lintDockerfile } from "../../src/lint/index.js";
import { shellcheckAvailable } from "../../src/lint/shellcheck.js";
import { REQUIRE_PEERS } from "../helpers/peers.js";

const have = shellcheckAvailable();
const skip = !have && !REQUIRE_PEERS ? "shellcheck is not installed" : false;

const sc = (df: string) =>
  lintDockerfile(df, { shellcheck: true })
    .filter((f) => f.code.startsWith("SC"))
    .map((f) => `${f.line}:${f.column}:${f.code}`);

describe("shellcheck on RUN", { skip }, () => {
  it("places findings on the original line and column of a multi-line RUN", () => {
    const df = "FROM debian:12\nRUN echo start && \\\n    echo $1 && \\\n    cd /tmp\n";
    // $1 → SC2086 at line 3 column 10; cd without || exit → SC2164 at line 4.
    assert.deepEqual(sc(df), ["3:10:SC2086", "4:5:SC2164"]);
  });

  it("checks heredoc bodies on their own lines", () => {
    const df = "FROM debian:12\nRUN <<EOF\necho ok\necho $1\nEOF\n";
    assert.deepEqual(sc(df), ["4:6:SC2086"]);
  });

  it("declares ARG/ENV and proxy variables so they are not unassigned (SC2154)", () => {
    const df = 'FROM debian:12\nARG VERSION\nENV HOME_DIR=/x\nRUN echo "$VERSION $HOME_DIR $http_proxy"\n';
    assert.deepEqual(sc(df), []);
  });

  it("skips exec form and non-POSIX shells; pragmas and ignores apply", () => {
    assert.deepEqual(sc('FROM debian:12\nRUN ["sh", "-c", "echo $1"]\n'.replace('"sh", "-c", ', "")), []);
    assert.deepEqual(sc('FROM debian:12\nSHELL ["pwsh", "-c"]\nRUN echo $1\n'), []);
    assert.deepEqual(sc("FROM debian:12\n# hadolint ignore=SC2086\nRUN echo $1\n"), []);
    assert.deepEqual(
      lintDockerfile("FROM debian:12\nRUN echo $1\n", {
        shellcheck: true,
        config: { ignored: ["SC2086"] },
      }).filter((f) => f.code.startsWith("SC")),
      [],
    );
    // bash-only syntax is fine when SHELL is bash.
    assert.deepEqual(sc('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN [[ -f /x ]] && echo yes\n'), []);
    assert.ok(sc("FROM debian:12\nRUN [[ -f /x ]] && echo yes\n").some((s) => s.endsWith("SC3010")));
  });

  it("uses the heredoc's interpreter: RUN bash <<EOF, or the body's shebang", () => {
    assert.deepEqual(sc("FROM debian:12\nRUN <<EOF bash\nset -o pipefail\nEOF\n"), []);
    assert.deepEqual(sc("FROM debian:12\nRUN <<EOF\n#!/bin/bash\n[[ -f /x ]] && echo $1\nEOF\n"), [
      "4:21:SC2086",
    ]);
    assert.deepEqual(sc("FROM debian:12\nRUN <<EOF\nset -o pipefail\nEOF\n"), ["3:8:SC3040"]);
  });

  it("is off unless asked for", () => {
    assert.deepEqual(
      lintDockerfile("FROM debian:12\nRUN echo $1\n").filter((f) => f.code.startsWith("SC")),
      [],
    );
  });
});
