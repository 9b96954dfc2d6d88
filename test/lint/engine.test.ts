import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lint, lintDockerfile, exceeds, parseCheckValue, RULES } from "../../src/lint/index.js";

const codes = (df: string, opts = {}) => lintDockerfile(df, opts).map((f) => `${f.line}:${f.code}`);

describe("lint engine", () => {
  it("reports parse errors as DL1000 with line and column, never throws", () => {
    const fs = lintDockerfile("FROM debian:12\nFOO bar\n");
    assert.deepEqual(
      fs.map((f) => [f.code, f.line, f.level]),
      [["DL1000", 2, "error"]],
    );
    assert.match(fs[0]!.message, /unknown instruction/i);
    for (const junk of [
      "",
      "\u0000\u0001\u0002",
      "RUN",
      "FROM a\nRUN <<EOF\nno end\n",
      "COPY --nope=1 a b\n",
      "FROM\n",
      "ENV A\n",
      "SHELL /bin/sh\n",
    ]) {
      const r = lintDockerfile(junk);
      // DL1000, or the hadolint error-level rule that words the same error (DL3061: no FROM first)
      const errs = r.filter((f) => f.level === "error");
      assert.ok(
        errs.length >= 1 &&
          errs.every((f) => /^(DL1000|DL3061)$/.test(f.code) && f.line >= 1 && f.column >= 1),
        JSON.stringify(junk) + " " + JSON.stringify(r),
      );
    }
  });

  it("sorts findings by line, column and code and sets docs links", () => {
    const fs = lintDockerfile("FROM debian\nMAINTAINER me\n");
    assert.deepEqual(
      fs.map((f) => f.code),
      ["DL3006", "DL4000"],
    );
    assert.equal(fs[0]!.url, "https://github.com/hadolint/hadolint/wiki/DL3006");
    assert.equal(
      lintDockerfile("FROM debian:12\nENV A b\n")[0]!.url,
      "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/",
    );
  });

  it("reports a BuildKit twin once, under the hadolint id; ignoring either id silences both", () => {
    assert.deepEqual(codes("FROM debian:12\nMAINTAINER me\n"), ["2:DL4000"]);
    assert.deepEqual(codes("FROM debian:12\nMAINTAINER me\n", { config: { ignored: ["DL4000"] } }), []);
    assert.deepEqual(
      codes("FROM debian:12\nMAINTAINER me\n", { config: { ignored: ["MaintainerDeprecated"] } }),
      [],
    );
    assert.deepEqual(codes("# check=skip=JSONArgsRecommended\nFROM debian:12\nCMD a b\n"), []);
    // With the hadolint rule turned off by level, the BuildKit check speaks.
    const rules = RULES.filter((r) => r.id !== "DL4000");
    assert.deepEqual(codes("FROM debian:12\nMAINTAINER me\n", { rules }), ["2:MaintainerDeprecated"]);
  });

  it("honours inline, stage and global pragmas", () => {
    const df =
      "FROM debian\n# hadolint ignore=DL3008,DL3015\nRUN apt-get install -y curl\nRUN apt-get install -y wget\n";
    assert.deepEqual(codes(df), ["1:DL3006", "4:DL3059", "4:DL3008", "4:DL3015"]);
    assert.deepEqual(codes("# hadolint global ignore=DL3006\nFROM debian\nFROM ubuntu\n"), []);
    const stage =
      "FROM a:1 AS b\nRUN apt-get install -y x\n# hadolint stage ignore=DL3008\nFROM b\nRUN apt-get install -y --no-install-recommends x\nRUN true\n";
    assert.deepEqual(codes(stage), ["2:DL3008", "2:DL3015", "6:DL3059"]);
    // A blank line between the pragma and the instruction breaks the link (as BuildKit comments do).
    assert.deepEqual(codes("FROM debian:12\n# hadolint ignore=DL3025\n\nCMD a\n"), ["4:DL3025"]);
    // Trailing reason comment.
    assert.deepEqual(codes("FROM debian:12\n# hadolint ignore=DL3025 # legacy app\nCMD a\n"), []);
  });

  it("honours # check=skip above an instruction or a FROM, and the top directive", () => {
    assert.deepEqual(codes("FROM debian:12\n# check=skip=JSONArgsRecommended // signals ok\nCMD a\n"), []);
    assert.deepEqual(codes("# check=skip=all\nFROM debian:12 as x\nENV A b\n"), []);
    const above =
      "FROM alpine:3 AS a\n# check=skip=LegacyKeyValueFormat\nFROM debian:12 AS x\nENV A b\nFROM debian:12\nENV C d\n";
    assert.deepEqual(codes(above), ["6:LegacyKeyValueFormat"]);
    assert.deepEqual(parseCheckValue("skip=A,B;error=true;experimental=all"), {
      skip: ["A", "B"],
      error: true,
      experimental: ["all"],
    });
  });

  it("# check=error=true makes BuildKit checks errors", () => {
    const fs = lintDockerfile("# check=error=true\nFROM debian:12\nENV A b\n");
    assert.deepEqual(
      fs.map((f) => [f.code, f.level]),
      [["LegacyKeyValueFormat", "error"]],
    );
  });

  it("applies config overrides and ignores; disable-ignore-pragma disables pragmas", () => {
    const df = "FROM debian\n# hadolint ignore=DL3025\nCMD a\n";
    const fs = lintDockerfile(df, { config: { override: { error: ["DL3006"] }, ignored: [] } });
    assert.deepEqual(
      fs.map((f) => [f.code, f.level]),
      [["DL3006", "error"]],
    );
    assert.deepEqual(codes(df, { config: { disableIgnorePragma: true } }), ["1:DL3006", "3:DL3025"]);
    assert.deepEqual(codes(df, { config: { override: { info: ["DL1001"] } } }), ["1:DL3006", "2:DL1001"]);
    assert.deepEqual(codes(df, { ignore: ["DL3006"] }), []);
  });

  it("exceeds() follows the threshold order error > warning > info > style", () => {
    const fs = lintDockerfile("FROM debian\n");
    assert.equal(exceeds(fs, "warning"), true);
    assert.equal(exceeds(fs, "error"), false);
    assert.equal(exceeds(fs, "none"), false);
  });

  it("gives fixes aligned with findings", () => {
    const r = lint("FROM debian:12\nMAINTAINER me\n");
    assert.equal(r.findings.length, r.fixes.length);
    assert.ok(r.fixes[0]);
  });

  it("maps heredoc body findings to their line and column (<<- tabs included)", () => {
    const fs = lintDockerfile("FROM debian:12\nRUN <<-EOT bash\n\tset -e\n\t\tcd /etc\nEOT\n");
    assert.deepEqual(
      fs.map((f) => `${f.line}:${f.column}:${f.code}`),
      ["4:3:DL3003"],
    );
  });

  it("handles CRLF files and keeps positions", () => {
    const fs = lintDockerfile("FROM debian\r\nRUN apt-get install \\\r\n  curl\r\n");
    assert.deepEqual(
      fs.map((f) => `${f.line}:${f.column}:${f.code}`),
      ["1:1:DL3006", "2:5:DL3008", "2:5:DL3014", "2:5:DL3015"],
    );
  });
});
