// "Lint passes, build fails" cannot happen: `dockyard build`'s front end and `dockyard lint` judge a
// Dockerfile through one function (`verdict` below runs both on the same text), on a corpus the
// builder must reject (each with the line and column of its error), a corpus of valid tricky files,
// and every case in ../shared/fixtures/dockerfile-parser/ (BuildKit's own parser output).
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerfileError, loadDockerfile } from "../../src/build/frontend.js";
import { lintDockerfile, type Finding } from "../../src/lint/index.js";
import { runCli } from "../helpers/cli.js";
import { SHARED } from "../helpers/shared.js";

interface Verdict {
  /** The builder's front end: null when it accepts the file. */
  build: { line: number; column: number; message: string } | null;
  /** Lint's error-level findings (DL1000, or a hadolint error rule wording the same error). */
  lint: Finding[];
}

/** Both judges on one text. */
function verdict(text: string, buildArgs?: Record<string, string>): Verdict {
  let build: Verdict["build"] = null;
  try {
    loadDockerfile(text, "Dockerfile", { buildArgs });
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    build = { line: e.line ?? 0, column: e.column ?? 0, message: e.message };
  }
  return { build, lint: lintDockerfile(text).filter((f) => f.level === "error") };
}

/** The hadolint rules that report a front-end error in their own words (see src/lint/engine.ts). */
const ERROR_RULES = new Set(["DL1000", "DL3023", "DL3043", "DL3061"]);

function assertAgree(name: string, text: string, v: Verdict): void {
  const show = `${name}: ${JSON.stringify(text)}\nbuild: ${JSON.stringify(v.build)}\nlint: ${JSON.stringify(v.lint)}`;
  if (v.build === null) {
    assert.deepEqual(
      v.lint.filter((f) => ERROR_RULES.has(f.code)),
      [],
      `the builder accepts it, lint must not reject it\n${show}`,
    );
    return;
  }
  const at = v.lint.find((f) => ERROR_RULES.has(f.code) && f.line === v.build!.line);
  assert.ok(at, `the builder rejects it, lint must report an error on the same line\n${show}`);
  if (at.code === "DL1000") {
    assert.equal(at.column, v.build.column, `same column\n${show}`);
    assert.ok(v.build.message.endsWith(at.message), `same message\n${show}`);
  }
}

/** [name, Dockerfile, line, column, lint code (default DL1000), message pattern] */
const REJECTED: Array<[string, string, number, number, string, RegExp]> = [
  ["unknown instruction", "FROM a\nFROMM b\n", 2, 1, "DL1000", /unknown instruction: FROMM/],
  [
    "unknown flag with a suggestion",
    "FROM a\nCOPY --frm=x a b\n",
    2,
    1,
    "DL1000",
    /unknown flag: frm \(did you mean from\?\)/,
  ],
  ["ADD has no --from", "FROM a\nADD --from=x a b\n", 2, 1, "DL1000", /unknown flag: from/],
  ["flag without its value", "FROM a\nCOPY --chown a b\n", 2, 1, "DL1000", /missing a value on flag: chown/],
  [
    "bool flag with a bad value",
    "FROM a\nCOPY --link=maybe a b\n",
    2,
    1,
    "DL1000",
    /expecting boolean value/,
  ],
  ["--chmod not a mode", "FROM a\nCOPY --chmod=999 a b\n", 2, 1, "DL1000", /invalid chmod parameter "999"/],
  [
    "--chmod from an ARG, not a mode",
    "FROM a\nARG M=8x\nCOPY --chmod=$M a b\n",
    3,
    1,
    "DL1000",
    /invalid chmod parameter "8x"/,
  ],
  [
    "--mount unknown type",
    "FROM a\nRUN --mount=type=foo true\n",
    2,
    1,
    "DL1000",
    /unsupported mount type "foo"/,
  ],
  [
    "--mount misspelt key",
    "FROM a\nRUN --mount=type=cache,tagret=/x true\n",
    2,
    1,
    "DL1000",
    /unexpected key 'tagret'/,
  ],
  [
    "--mount bad bool",
    "FROM a\nRUN --mount=type=bind,ro=maybe,target=/x true\n",
    2,
    1,
    "DL1000",
    /invalid value for ro/,
  ],
  [
    "--mount secret with from",
    "FROM a\nRUN --mount=type=secret,id=x,from=y true\n",
    2,
    1,
    "DL1000",
    /secret mount should not have a from/,
  ],
  [
    "--mount bad mode",
    "FROM a\nRUN --mount=type=cache,target=/c,mode=999 true\n",
    2,
    1,
    "DL1000",
    /invalid value 999 for mode/,
  ],
  [
    "--network unknown mode",
    "FROM a\nRUN --network=bogus true\n",
    2,
    1,
    "DL1000",
    /network mode "bogus" not supported/,
  ],
  [
    "--security unknown mode",
    "FROM a\nRUN --security=bogus true\n",
    2,
    1,
    "DL1000",
    /security mode "bogus" not supported/,
  ],
  [
    "SHELL in shell form",
    "FROM a\nSHELL /bin/bash -c\n",
    2,
    1,
    "DL1000",
    /SHELL requires the arguments to be in JSON form/,
  ],
  [
    "SHELL with invalid JSON",
    'FROM a\nSHELL ["sh", \n',
    2,
    1,
    "DL1000",
    /SHELL requires the arguments to be in JSON form/,
  ],
  ["FROM without arguments", "FROM\n", 1, 1, "DL1000", /FROM requires either one or three arguments/],
  ["FROM with four words", "FROM a b c d\n", 1, 1, "DL1000", /FROM requires either one or three arguments/],
  ["FROM flags after AS", "FROM a AS b --platform=x\n", 1, 1, "DL1000", /FROM requires either one or three/],
  ["bad stage name", "FROM a AS 1bad\n", 1, 1, "DL1000", /invalid name for build stage/],
  ["unterminated heredoc", "FROM a\nRUN <<EOF\necho hi\n", 2, 1, "DL1000", /unterminated heredoc/],
  ["ONBUILD FROM", "FROM a\nONBUILD FROM b\n", 2, 1, "DL3043", /FROM isn't allowed as an ONBUILD trigger/],
  ["ONBUILD ONBUILD", "FROM a\nONBUILD ONBUILD RUN x\n", 2, 1, "DL3043", /Chaining ONBUILD/],
  ["ONBUILD MAINTAINER", "FROM a\nonbuild maintainer me\n", 2, 1, "DL3043", /MAINTAINER isn't allowed/],
  [
    "--from names an unknown stage index",
    "FROM a\nCOPY --from=5 /x /y\n",
    2,
    1,
    "DL1000",
    /invalid stage index 5/,
  ],
  [
    "--from names its own stage",
    "FROM a AS x\nFROM x AS y\nCOPY --from=y /a /b\n",
    3,
    1,
    "DL3023",
    /circular dependency/,
  ],
  ["instruction before FROM", "RUN x\nFROM a\n", 1, 1, "DL3061", /no build stage in current context/],
  ["ENV without arguments", "FROM a\nENV\n", 2, 1, "DL1000", /ENV requires at least one argument/],
  ["ENV blank name", "FROM a\nENV =x\n", 2, 1, "DL1000", /ENV names can not be blank/],
  ["ENV pair without =", "FROM a\nENV a=1 b\n", 2, 1, "DL1000", /can't find = in "b"/],
  ["ENV unterminated ${", "FROM a\nENV A=${B\n", 2, 1, "DL1000", /missing '}'/],
  ["ARG blank name", "FROM a\nARG =x\n", 2, 1, "DL1000", /ARG names can not be blank/],
  ["ARG default with a bad expansion", "ARG V=${X:?needed}\nFROM a\n", 1, 1, "DL1000", /needed/],
  ["LABEL without arguments", "FROM a\nLABEL\n", 2, 1, "DL1000", /LABEL requires at least one argument/],
  ["bad escape directive", "# escape=x\nFROM a\n", 1, 1, "DL1000", /invalid escape token 'x'/],
  [
    "HEALTHCHECK bad duration",
    "FROM a\nHEALTHCHECK --interval=abc CMD true\n",
    2,
    1,
    "DL1000",
    /invalid duration "abc"/,
  ],
  ["HEALTHCHECK unknown type", "FROM a\nHEALTHCHECK BOGUS true\n", 2, 1, "DL1000", /Unknown type "BOGUS"/],
  ["COPY without destination", "FROM a\nCOPY a\n", 2, 1, "DL1000", /Destination could not be determined/],
  ["USER without argument", "FROM a\nUSER\n", 2, 1, "DL1000", /USER requires exactly one argument/],
  ["VOLUME empty", 'FROM a\nVOLUME ""\n', 2, 1, "DL1000", /VOLUME specified can not be an empty string/],
  [
    "error on a continuation",
    "FROM a\nRUN --mount=type=cache,target=/x,\\\nbogus=1 \\\n  true\n",
    2,
    1,
    "DL1000",
    /unexpected key 'bogus'/,
  ],
  [
    "error after a heredoc",
    "FROM a\nRUN <<EOF\nFROMM x\nEOF\nCOPYY a b\n",
    5,
    1,
    "DL1000",
    /unknown instruction: COPYY/,
  ],
  [
    "error in a later stage",
    "FROM a AS one\nRUN true\nFROM b\nCOPY --from=one --chmod=88 /x /y\n",
    4,
    1,
    "DL1000",
    /invalid chmod/,
  ],
  [
    "CRLF and BOM",
    "\uFEFFFROM a\r\nRUN --mount=type=nope true\r\n",
    2,
    1,
    "DL1000",
    /unsupported mount type/,
  ],
  ["indented instruction", "FROM a\n   WORKDIR\n", 2, 4, "DL1000", /WORKDIR requires exactly one argument/],
];

const ACCEPTED: Array<[string, string]> = [
  ["backtick escape", "# escape=`\nFROM a\nRUN echo a `\n  b\nCOPY c:\\x d\n"],
  ["continuation with comments and blank lines", "FROM a\nRUN echo a \\\n# inside\n\n  && echo b\n"],
  ["several heredocs", "FROM a\nRUN <<A cat /dev/stdin <<-B\nx\nA\n\ty\n\tB\n"],
  ["heredoc COPY with quoted delimiter", "FROM a\nCOPY <<'EOF' /x\n$NOT_EXPANDED\nEOF\n"],
  ["invalid JSON falls back to shell form", 'FROM a\nCMD ["a",]\nENTRYPOINT [oops\n'],
  [
    "exec form everywhere",
    'FROM a\nSHELL ["/bin/bash", "-c"]\nRUN ["echo", "hi"]\nCMD ["x"]\nVOLUME ["/v"]\n',
  ],
  ["ARG in FROM with defaults", "ARG TAG=3.20\nARG REG=docker.io\nFROM $REG/alpine:${TAG:-latest}\n"],
  [
    "platform ARGs",
    "FROM --platform=$BUILDPLATFORM golang AS b\nARG TARGETOS TARGETARCH\nRUN echo $TARGETOS/$TARGETARCH\nFROM a\nCOPY --from=b /x /y\n",
  ],
  [
    "--from by index and by name",
    "FROM a AS build\nRUN make\nFROM b\nCOPY --from=0 /x /y\nCOPY --from=build /x /z\nCOPY --from=nginx:1 /etc/nginx /n\n",
  ],
  [
    "every mount type",
    "FROM a\nFROM b\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=tmpfs,target=/t,size=10m --mount=type=secret,id=s,required --mount=type=bind,from=0,source=/,target=/b,rw true\n",
  ],
  ["RUN flags", "FROM a\nRUN --network=none --security=sandbox true\n"],
  [
    "chmod octal and symbolic",
    "FROM a\nCOPY --chmod=0755 a /a\nCOPY --chmod=u+x,go-w b /b\nADD --chmod=a=rX c /c\n",
  ],
  ["ENV legacy and quoted", 'FROM a\nENV A b c\nENV B="x y" C=\'z\' D=${B}\nLABEL "a b"="c d"\n'],
  [
    "ONBUILD with flags and heredoc",
    "FROM a\nONBUILD COPY --chown=1:1 . /app\nONBUILD RUN <<EOF\nmake\nEOF\n",
  ],
  [
    "HEALTHCHECK",
    "FROM a\nHEALTHCHECK --interval=30s --timeout=1m30s --retries=3 CMD curl -f http://x/ || exit 1\nHEALTHCHECK NONE\n",
  ],
  ["lower-case keywords", "from a as B\nrun true\nfrom c\ncopy --from=b /x /y\n"],
  ["CRLF, BOM, trailing continuation at EOF", "\uFEFFFROM a\r\nRUN echo a \\\r\n"],
  ["RUN with ${X:?} (the shell expands RUN)", "FROM a\nRUN echo ${X:?must be set}\n"],
  ["WORKDIR with spaces", "FROM a\nWORKDIR /a b\n"],
];

const fixturesDir = (): string => join(SHARED, "fixtures", "dockerfile-parser");

const cli = (argv: string[]) => runCli(argv);

describe("lint and build agree (one front end)", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "dy-agree-"));
    process.env.HOME = dir;
    process.env.XDG_CONFIG_HOME = join(dir, "xdg");
    process.env.DOCKYARD_HOME = join(dir, "home");
  });

  it("the builder rejects each bad Dockerfile, and lint reports it on the same line and column", () => {
    for (const [name, text, line, column, code, message] of REJECTED) {
      const v = verdict(text);
      assert.ok(v.build, `${name}: the builder must reject ${JSON.stringify(text)}`);
      assert.deepEqual([v.build.line, v.build.column], [line, column], `${name}: ${v.build.message}`);
      assert.match(v.build.message, message, name);
      const f = v.lint.find((x) => x.code === code);
      assert.ok(f, `${name}: lint must report ${code}: ${JSON.stringify(v.lint)}`);
      assert.deepEqual([f.line, f.column], [line, column], `${name}: ${JSON.stringify(f)}`);
      assertAgree(name, text, v);
    }
  });

  it("valid tricky Dockerfiles: the builder accepts them and lint reports no parse error", () => {
    for (const [name, text] of ACCEPTED) {
      const v = verdict(text);
      assert.equal(v.build, null, `${name}: ${JSON.stringify(v.build)}`);
      assert.deepEqual(
        v.lint.filter((f) => ERROR_RULES.has(f.code)),
        [],
        name,
      );
    }
  });

  it("a FROM that needs a --build-arg: lint warns (InvalidDefaultArgInFrom), the build works with it", () => {
    const text = "ARG BASE\nFROM $BASE\n";
    assert.equal(verdict(text, { BASE: "alpine" }).build, null);
    assert.match(verdict(text).build?.message ?? "", /base name \(\$BASE\) should not be blank/);
    const lint = lintDockerfile(text);
    assert.deepEqual(
      lint.map((f) => [f.code, f.level]),
      [["InvalidDefaultArgInFrom", "warning"]],
    );
  });

  it("every BuildKit parser fixture: both accept or both reject (on the same line)", () => {
    const fx = fixturesDir();
    const names = readdirSync(fx).filter((n) => n.endsWith(".Dockerfile"));
    assert.ok(names.length >= 30, `fixtures found: ${names.length}`);
    let rejected = 0;
    for (const n of names) {
      const text = readFileSync(join(fx, n), "utf8");
      const v = verdict(text);
      const dump = readFileSync(join(fx, n.replace(/\.Dockerfile$/, ".buildkit.dump")), "utf8");
      if (dump.startsWith("ERROR:")) assert.ok(v.build, `${n}: BuildKit's parser rejects it`);
      if (v.build) rejected++;
      assertAgree(n, text, v);
    }
    assert.ok(rejected >= 3, `rejected fixtures: ${rejected}`);
  });

  it("the commands agree too: `dockyard lint --format json` and `dockyard build --check`", async () => {
    const files = REJECTED.map(([, text], i) => {
      const p = join(dir, `bad-${i}.Dockerfile`);
      writeFileSync(p, text);
      return p;
    });
    const good = join(dir, "good.Dockerfile");
    writeFileSync(good, ACCEPTED[8]![1]);
    const l = await cli(["lint", "--format", "json", ...files, good]);
    assert.equal(l.code, 1, l.err);
    const findings = JSON.parse(l.out) as Finding[];
    for (const [i, [name, , line, column, code]] of REJECTED.entries()) {
      const f = findings.find((x) => x.file === files[i] && x.code === code && x.level === "error");
      assert.ok(f, `${name}: no ${code} from the CLI`);
      assert.deepEqual([f.line, f.column], [line, column], name);
    }
    assert.ok(!findings.some((x) => x.file === good && x.level === "error"), JSON.stringify(findings));
    // the build command stops at the same error before running anything (exit 3, line:column)
    for (const i of [0, 5, 12, 20]) {
      const [name, , line, column] = REJECTED[i]!;
      const b = await cli(["build", "--check", "-f", files[i]!, dir]);
      assert.equal(b.code, 3, `${name}: ${b.err}`);
      assert.match(b.err, new RegExp(`:${line}:${column}: `), name);
    }
    const ok = await cli(["build", "--check", "-f", good, dir]);
    assert.equal(ok.code, 0, ok.err);
  });
});
