import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { main } from "../../src/cli/main.js";
import { runCli, sink } from "../helpers/cli.js";

const run = (argv: string[], stdin = "") => runCli(["lint", ...argv], stdin);

let dir = "";
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("dockyard lint", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "dy-lint-cli-"));
    process.env.HOME = dir; // no user config leaks in
    process.env.XDG_CONFIG_HOME = join(dir, "xdg");
  });

  it("prints hadolint-compatible JSON and exits 1 at the default threshold (info)", async () => {
    const p = file("Dockerfile", "FROM debian\n");
    const r = await run(["--format", "json", "--no-shellcheck", p]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.out), [
      {
        code: "DL3006",
        column: 1,
        file: p,
        level: "warning",
        line: 1,
        message: "Always tag the version of an image explicitly",
      },
    ]);
  });

  it("exit codes follow --failure-threshold; none and --no-fail exit 0", async () => {
    const p = file("info.Dockerfile", "FROM debian:12\nRUN a\nRUN b\n"); // DL3059 (info)
    assert.equal((await run(["-f", "json", p])).code, 1);
    assert.equal((await run(["-f", "json", "-t", "warning", p])).code, 0);
    assert.equal((await run(["-f", "json", "--failure-threshold", "style", p])).code, 1);
    assert.equal((await run(["-f", "json", "-t", "none", "FROM debian"].slice(0, 4).concat(p))).code, 0);
    assert.equal((await run(["-f", "json", "--no-fail", p])).code, 0);
    const clean = file("clean.Dockerfile", 'FROM debian:12\nCMD ["true"]\n');
    assert.equal((await run([clean])).code, 0);
  });

  it("lints several files and stdin, and reports unreadable input with exit 3", async () => {
    const a = file("a.Dockerfile", "FROM debian\n");
    const b = file("b.Dockerfile", "FROM debian:12\nMAINTAINER me\n");
    const r = await run(["-f", "json", a, b]);
    assert.deepEqual(
      JSON.parse(r.out).map((f: { file: string; code: string }) => `${f.file === a ? "a" : "b"}:${f.code}`),
      ["a:DL3006", "b:DL4000"],
    );
    const s = await run(["-f", "json", "--file-path-in-report", "stdin.Dockerfile", "-"], "FROM debian\n");
    assert.equal(JSON.parse(s.out)[0].file, "stdin.Dockerfile");
    const missing = await run([join(dir, "nope")]);
    assert.equal(missing.code, 3);
    assert.match(missing.err, /cannot read .*nope/);
  });

  it("parse errors are DL1000 findings with line and column and always fail", async () => {
    const p = file("bad.Dockerfile", "FROM debian:12\nRUN <<EOF\necho\n");
    const r = await run(["-f", "json", "-t", "none", p]);
    assert.equal(r.code, 1);
    const f = JSON.parse(r.out);
    assert.equal(f[0].code, "DL1000");
    assert.equal(f[0].line, 2);
  });

  it("usage errors exit 2: unknown format, no file, bad threshold, bad config", async () => {
    assert.equal((await run(["--format", "xml", "x"])).code, 2);
    assert.equal((await run([])).code, 2);
    assert.equal((await run(["-t", "loud", "x"])).code, 2);
    const cfg = file("bad.yaml", "failure-threshold: loud\n");
    const p = file("ok.Dockerfile", "FROM debian:12\n");
    const r = await run(["--config", cfg, p]);
    assert.equal(r.code, 2);
    assert.match(r.err, /failure-threshold/);
    assert.equal((await run(["--config", join(dir, "missing.yaml"), p])).code, 2);
  });

  it("applies config, --ignore, overrides, --trusted-registry and --require-label", async () => {
    const cfg = file("h.yaml", "ignored: [DL3006]\noverride:\n  error: [DL3059]\n");
    const p = file("c.Dockerfile", "FROM debian\nRUN a\nRUN b\n");
    const r = await run(["-f", "json", "-c", cfg, p]);
    assert.deepEqual(
      JSON.parse(r.out).map((f: { code: string; level: string }) => `${f.code}:${f.level}`),
      ["DL3059:error"],
    );
    const r2 = await run(["-f", "json", "-c", cfg, "--ignore", "DL3059", p]);
    assert.deepEqual(
      JSON.parse(r2.out).map((f: { code: string }) => f.code),
      ["DL3006"],
    );
    const q = file("q.Dockerfile", 'FROM quay.io/a/b:1\nCMD ["x"]\n');
    const r3 = await run([
      "-f",
      "json",
      "--trusted-registry",
      "docker.io",
      "--require-label",
      "maintainer:email",
      q,
    ]);
    assert.deepEqual(
      JSON.parse(r3.out).map((f: { code: string }) => f.code),
      ["DL3026", "DL3049"],
    );
  });

  it("--fix rewrites in place (atomic) and --dry-run prints a diff without writing", async () => {
    const original = "FROM debian:12\nmaintainer me\nCMD node app.js\n";
    const p = file("fix.Dockerfile", original);
    const d = await run(["--fix", "--dry-run", p]);
    assert.equal(readFileSync(p, "utf8"), original);
    assert.equal(
      d.out,
      [
        `--- ${p}`,
        `+++ ${p}`,
        "@@ -1,4 +1,4 @@",
        " FROM debian:12",
        "-maintainer me",
        '+LABEL maintainer="me"',
        "-CMD node app.js",
        '+CMD ["node", "app.js"]',
        " ",
        "",
      ].join("\n"),
    );
    const w = await run(["--fix", "-f", "json", p]);
    assert.equal(readFileSync(p, "utf8"), 'FROM debian:12\nLABEL maintainer="me"\nCMD ["node", "app.js"]\n');
    assert.deepEqual(JSON.parse(w.out), []);
    assert.equal(w.code, 0);
  });

  it("--list-rules lists every rule; markdown and json variants", async () => {
    const r = await run(["--list-rules"]);
    assert.match(r.out, /^DL1001 /m);
    assert.match(r.out, /^JSONArgsRecommended /m);
    const md = await run(["--list-rules", "--format", "markdown"]);
    assert.match(md.out, /^\| id \| level/m);
    const js = JSON.parse((await run(["--list-rules", "--format", "json"])).out);
    assert.ok(js.length >= 93);
  });

  it("reads .dockerignore beside the Dockerfile for CopyIgnoredFile", async () => {
    const sub = mkdtempSync(join(dir, "ctx-"));
    writeFileSync(join(sub, ".dockerignore"), ".env\n");
    const p = join(sub, "Dockerfile");
    writeFileSync(p, 'FROM debian:12\nCOPY .env /app/\nCMD ["x"]\n');
    const r = await run(["-f", "json", p]);
    assert.deepEqual(
      JSON.parse(r.out).map((f: { code: string }) => f.code),
      ["CopyIgnoredFile"],
    );
  });

  it("renders every output format through the shared formatters", async () => {
    const p = file("fmt.Dockerfile", "FROM debian\n");
    const sarif = JSON.parse((await run(["-f", "sarif", p])).out);
    assert.equal(sarif.runs[0].results[0].ruleId, "DL3006");
    assert.match((await run(["-f", "gnu", p])).out, /fmt\.Dockerfile:1:1: DL3006 warning/);
    assert.match((await run(["-f", "github", p])).out, /^::warning file=.*,line=1,col=1,title=DL3006::/m);
    assert.match((await run(["-f", "checkstyle", p])).out, /source='DL3006'/);
    assert.match((await run(["-f", "junit", p])).out, /<testsuites/);
    assert.match((await run(["-f", "codeclimate", p])).out, /"check_name":"DL3006"/);
    assert.equal(JSON.parse((await run(["-f", "gitlab_codeclimate", p])).out)[0].check_name, "DL3006");
    const tty = await run(["-f", "tty", p]);
    assert.match(tty.out, /DL3006 warning: Always tag/);
    assert.equal(tty.code, 1);
  });

  it("--help documents flags and exit codes", async () => {
    const stdout = sink();
    await main(["lint", "--help"], { stdout, stderr: sink(), stdin: Readable.from([""]) });
    assert.match(stdout.text, /--failure-threshold/);
    assert.match(stdout.text, /Exit codes/);
  });
});
