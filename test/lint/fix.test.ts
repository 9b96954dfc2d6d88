import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fixText, lintDockerfile } from "../../src/lint/index.js";

const fix = (s: string) => fixText(s).text;

describe("lint --fix", () => {
  it("fixes instruction casing to the majority, AS casing, MAINTAINER, legacy ENV, exec form, apt-get flags", () => {
    const input = [
      "# syntax=docker/dockerfile:1",
      "FROM debian:12 as build",
      "MAINTAINER Jane Doe <jane@example.com>",
      "env PATH /opt/bin:$PATH",
      "RUN apt-get update && apt-get install curl=7.88 \\",
      "    wget=1.21 && rm -rf /var/lib/apt/lists/*",
      "LABEL version 1.0",
      "EXPOSE 80/TCP",
      "CMD node server.js --port 80",
      "",
    ].join("\n");
    const want = [
      "# syntax=docker/dockerfile:1",
      "FROM debian:12 AS build",
      'LABEL maintainer="Jane Doe <jane@example.com>"',
      "ENV PATH=/opt/bin:$PATH",
      "RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88 \\",
      "    wget=1.21 && rm -rf /var/lib/apt/lists/*",
      "LABEL version=1.0",
      "EXPOSE 80/tcp",
      'CMD ["node", "server.js", "--port", "80"]',
      "",
    ].join("\n");
    assert.equal(fix(input), want);
    // Idempotent, and nothing fixable is left.
    assert.equal(fix(want), want);
  });

  it("preserves CRLF line endings, comments, spacing and everything else byte for byte", () => {
    const input =
      'FROM debian:12\r\n#  keep   this\r\nmaintainer  me\r\nRUN   echo  hi\r\n\r\nCMD   ["x"]\r\n';
    const want =
      'FROM debian:12\r\n#  keep   this\r\nLABEL maintainer="me"\r\nRUN   echo  hi\r\n\r\nCMD   ["x"]\r\n';
    assert.equal(fix(input), want);
  });

  it("fixes FROM casing and AS casing together, to the majority", () => {
    assert.equal(fix("FROM a:1 AS x\nfrom x AS y\nRUN true\n"), "FROM a:1 AS x\nFROM x AS y\nRUN true\n");
    assert.equal(fix("FROM a:1 AS x\nfrom x as y\nRUN true\n"), "FROM a:1 AS x\nFROM x AS y\nRUN true\n");
    assert.equal(fix("FROM a:1 A\\S x\n"), "FROM a:1 A\\S x\n");
  });

  it("keeps lowercase files lowercase", () => {
    assert.equal(
      fix("from debian:12 AS x\nrun true\nCOPY a /b\n"),
      "from debian:12 as x\nrun true\ncopy a /b\n",
    );
  });

  it("does not rewrite what would change meaning", () => {
    const cases = [
      "FROM debian:12\nCMD echo $HOME\n", // variable needs a shell
      "FROM debian:12\nCMD a && b\n",
      "FROM debian:12\nENTRYPOINT run-server\nCMD --port 80\n", // exec ENTRYPOINT would take CMD as args
      "FROM debian:12\nCMD node \\\n  app.js\n", // multi-line
      'FROM debian:12\nENV A "b c"\n',
      "FROM debian:12\nRUN <<EOF\napt-get install x\nEOF\n", // heredoc body
    ];
    for (const c of cases) assert.equal(fix(c), c, c);
  });

  it("escapes quotes and dollars in the maintainer label", () => {
    assert.equal(
      fix('FROM debian:12\nMAINTAINER "Bob" $USER\n'),
      'FROM debian:12\nLABEL maintainer="\\"Bob\\" \\$USER"\n',
    );
    assert.deepEqual(
      lintDockerfile(fix('FROM debian:12\nMAINTAINER "Bob" $USER\n')).map((f) => f.code),
      [],
    );
  });
});
