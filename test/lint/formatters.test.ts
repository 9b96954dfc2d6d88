import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FORMAT_NAMES, formatFindings } from "../../src/lint/formatters/index.js";
import type { Finding } from "../../src/lint/finding.js";

const SRC = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n\tUSER root\n";
const findings: Finding[] = [
  {
    code: "DL3008",
    message:
      "Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`",
    level: "warning",
    file: "Dockerfile",
    line: 2,
    column: 1,
    endLine: 2,
    endColumn: 46,
    url: "https://github.com/hadolint/hadolint/wiki/DL3008",
  },
  {
    code: "DL3002",
    message: 'Last USER should not be root & "quotes" <tags>, commas:colons%\nsecond line',
    level: "error",
    file: "Dockerfile",
    line: 3,
    column: 2,
  },
  {
    code: "SC2086",
    message: "Double quote to prevent globbing.",
    level: "info",
    file: "sub/Dockerfile",
    line: 1,
    column: 5,
  },
  {
    code: "DL3059",
    message: "Multiple consecutive RUN",
    level: "style",
    file: "sub/Dockerfile",
    line: 4,
    column: 1,
  },
];
const opts = { sources: { Dockerfile: SRC }, now: new Date("2026-01-02T03:04:05Z"), version: "9.9.9" };

/** A small XML well-formedness checker: returns the elements (name, attributes, text) in document order. */
function parseXml(xml: string): { name: string; attrs: Record<string, string>; text: string }[] {
  const out: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const decode = (s: string) => {
    assert.ok(!/<|&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(s), `bad character data: ${s}`);
    return s
      .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&");
  };
  let i = 0;
  const decl = /^<\?xml [^?]*\?>/.exec(xml);
  assert.ok(decl, "XML declaration");
  i = decl[0].length;
  let roots = 0;
  while (i < xml.length) {
    if (xml[i] !== "<") {
      const j = xml.indexOf("<", i);
      const text = xml.slice(i, j < 0 ? xml.length : j);
      if (stack.length === 0) assert.match(text, /^\s*$/, "text outside the root");
      else stack[stack.length - 1].text += decode(text);
      i = j < 0 ? xml.length : j;
      continue;
    }
    const end = xml.indexOf(">", i);
    assert.ok(end > 0, "unterminated tag");
    const tag = xml.slice(i + 1, end);
    i = end + 1;
    if (tag.startsWith("/")) {
      const open = stack.pop();
      assert.equal(open?.name, tag.slice(1).trim(), "mismatched end tag");
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*$/.exec(body);
    assert.ok(m, `malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      assert.ok(!(a[1] in attrs), `duplicate attribute ${a[1]}`);
      attrs[a[1]] = decode(a[2] ?? a[3]);
    }
    const el = { name: m[1], attrs, text: "" };
    if (stack.length === 0) roots++;
    out.push(el);
    if (!selfClosing) stack.push(el);
  }
  assert.equal(stack.length, 0, "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
  return out;
}

test("format names", () => {
  assert.deepEqual(FORMAT_NAMES, [
    "tty",
    "json",
    "sarif",
    "checkstyle",
    "codeclimate",
    "gitlab_codeclimate",
    "gnu",
    "junit",
    "github",
  ]);
  assert.throws(() => formatFindings("yaml", findings), /unknown output format "yaml"/);
  assert.equal(formatFindings("github-actions", findings), formatFindings("github", findings));
});

test("json: hadolint's array", () => {
  const out = JSON.parse(formatFindings("json", findings, opts));
  assert.deepEqual(out[0], {
    code: "DL3008",
    column: 1,
    file: "Dockerfile",
    level: "warning",
    line: 2,
    message: findings[0].message,
  });
  assert.equal(out.length, 4);
  assert.deepEqual(Object.keys(out[1]), ["code", "column", "file", "level", "line", "message"]);
  assert.deepEqual(JSON.parse(formatFindings("json", [])), []);
});

test("sarif 2.1.0: rules with helpUri, results with regions and levels", () => {
  const log = JSON.parse(
    formatFindings("sarif", findings, {
      ...opts,
      rules: (c) => (c === "DL3002" ? { description: "Last user should not be root" } : undefined),
    }),
  );
  assert.equal(log.version, "2.1.0");
  assert.match(log.$schema, /sarif-2\.1\.0/);
  const run = log.runs[0];
  assert.equal(run.tool.driver.name, "dockyard");
  assert.equal(run.tool.driver.version, "9.9.9");
  assert.deepEqual(
    run.tool.driver.rules.map((r: { id: string }) => r.id),
    ["DL3008", "DL3002", "SC2086", "DL3059"],
  );
  assert.equal(run.tool.driver.rules[0].helpUri, "https://github.com/hadolint/hadolint/wiki/DL3008");
  assert.equal(run.tool.driver.rules[1].helpUri, "https://github.com/hadolint/hadolint/wiki/DL3002");
  assert.equal(run.tool.driver.rules[1].shortDescription.text, "Last user should not be root");
  assert.equal(run.tool.driver.rules[2].helpUri, "https://www.shellcheck.net/wiki/SC2086");
  assert.deepEqual(
    run.results.map((r: { level: string; ruleIndex: number }) => [r.level, r.ruleIndex]),
    [
      ["warning", 0],
      ["error", 1],
      ["note", 2],
      ["note", 3],
    ],
  );
  const r0 = run.results[0];
  assert.equal(r0.message.text, findings[0].message);
  assert.equal(r0.locations[0].physicalLocation.artifactLocation.uri, "Dockerfile");
  assert.deepEqual(r0.locations[0].physicalLocation.region, {
    startLine: 2,
    startColumn: 1,
    endLine: 2,
    endColumn: 46,
    sourceLanguage: "dockerfile",
  });
  assert.equal(run.results[2].locations[0].physicalLocation.region.sourceLanguage, "sh");
  assert.deepEqual(JSON.parse(formatFindings("sarif", [])).runs[0].results, []);
});

test("checkstyle: well-formed XML, one <file> per file, escaped messages", () => {
  const xml = formatFindings("checkstyle", findings, { files: ["Dockerfile", "clean/Dockerfile"] });
  const els = parseXml(xml);
  assert.equal(els[0].name, "checkstyle");
  const files = els.filter((e) => e.name === "file").map((e) => e.attrs.name);
  assert.deepEqual(files, ["Dockerfile", "clean/Dockerfile", "sub/Dockerfile"]);
  const errors = els.filter((e) => e.name === "error");
  assert.equal(errors.length, 4);
  assert.deepEqual(errors[1].attrs, {
    line: "3",
    column: "2",
    severity: "error",
    message: findings[1].message,
    source: "DL3002",
  });
});

test("junit: well-formed XML, a failing testcase per finding", () => {
  const xml = formatFindings("junit", findings, opts);
  const els = parseXml(xml);
  assert.equal(els[0].name, "testsuites");
  assert.equal(els[0].attrs.id, "20260102_030405");
  assert.equal(els[0].attrs.failures, "4");
  const suites = els.filter((e) => e.name === "testsuite");
  assert.deepEqual(
    suites.map((s) => [s.attrs.name, s.attrs.failures]),
    [
      ["Dockerfile", "2"],
      ["sub/Dockerfile", "2"],
    ],
  );
  const failures = els.filter((e) => e.name === "failure");
  assert.equal(failures.length, 4);
  assert.equal(failures[1].attrs.message, findings[1].message);
  assert.equal(failures[1].attrs.type, "error");
  assert.match(failures[1].text, /Line: 3\nColumn: 2\nerror: Last USER/);
  const cases = els.filter((e) => e.name === "testcase");
  assert.equal(cases[0].attrs.name, "DL3008 Dockerfile:2:1");
  // a clean run still has a passing testcase per file
  const clean = parseXml(formatFindings("junit", [], { files: ["Dockerfile"] }));
  assert.equal(clean.filter((e) => e.name === "testcase").length, 1);
  assert.equal(clean.filter((e) => e.name === "failure").length, 0);
  const dl1000 = parseXml(
    formatFindings("junit", [{ ...findings[1], code: "DL1000", message: "unknown instruction: FOO" }]),
  );
  assert.equal(dl1000.filter((e) => e.name === "error").length, 1);
});

test("codeclimate: NUL-terminated issues, as hadolint prints them", () => {
  const out = formatFindings("codeclimate", findings, opts);
  assert.ok(out.endsWith("\0"));
  const issues = out
    .split("\0")
    .slice(0, -1)
    .map((s) => JSON.parse(s));
  assert.equal(issues.length, 4);
  assert.deepEqual(issues[0], {
    type: "issue",
    check_name: "DL3008",
    description: findings[0].message,
    categories: ["Bug Risk"],
    location: {
      path: "Dockerfile",
      positions: { begin: { line: 2, column: 1 }, end: { line: 2, column: 46 } },
    },
    severity: "major",
  });
  assert.deepEqual(
    issues.map((i) => i.severity),
    ["major", "blocker", "info", "minor"],
  );
});

test("gitlab_codeclimate: a JSON array with stable fingerprints", () => {
  const out = JSON.parse(formatFindings("gitlab_codeclimate", findings, opts));
  assert.equal(out.length, 4);
  const i = out[1];
  assert.equal(i.check_name, "DL3002");
  assert.deepEqual(i.location, { path: "Dockerfile", lines: { begin: 3, end: 3 } });
  assert.equal(i.severity, "blocker");
  const { fingerprint, ...rest } = i;
  assert.equal(fingerprint, createHash("sha1").update(JSON.stringify(rest)).digest("hex"));
  assert.match(fingerprint, /^[0-9a-f]{40}$/);
  assert.equal(new Set(out.map((x: { fingerprint: string }) => x.fingerprint)).size, 4);
});

test("gnu: exact lines", () => {
  assert.equal(
    formatFindings("gnu", findings),
    [
      `dockyard:Dockerfile:2:1: DL3008 warning: ${findings[0].message}`,
      `dockyard:Dockerfile:3:2: DL3002 error: Last USER should not be root & "quotes" <tags>, commas:colons% second line`,
      "dockyard:sub/Dockerfile:1:5: SC2086 info: Double quote to prevent globbing.",
      "dockyard:sub/Dockerfile:4:1: DL3059 style: Multiple consecutive RUN",
      "",
    ].join("\n"),
  );
});

test("github: exact workflow commands, escaped", () => {
  assert.equal(
    formatFindings("github", findings),
    [
      `::warning file=Dockerfile,line=2,col=1,endLine=2,endColumn=46,title=DL3008::${findings[0].message}`,
      `::error file=Dockerfile,line=3,col=2,title=DL3002::Last USER should not be root & "quotes" <tags>, commas:colons%25%0Asecond line`,
      "::notice file=sub/Dockerfile,line=1,col=5,title=SC2086::Double quote to prevent globbing.",
      "::notice file=sub/Dockerfile,line=4,col=1,title=DL3059::Multiple consecutive RUN",
      "",
    ].join("\n"),
  );
  assert.equal(
    formatFindings("github", [{ ...findings[2], file: "a,b:c.Dockerfile" }]),
    "::notice file=a%2Cb%3Ac.Dockerfile,line=1,col=5,title=SC2086::Double quote to prevent globbing.\n",
  );
});

test("tty: header, code frame with caret, link; colour only when asked", () => {
  const out = formatFindings("tty", findings.slice(0, 2), opts);
  assert.equal(
    out,
    [
      `Dockerfile:2:1 DL3008 warning: ${findings[0].message}`,
      "  1 | FROM debian:12",
      "> 2 | RUN apt-get update && apt-get install -y curl",
      "    | " + "^".repeat(45),
      "  https://github.com/hadolint/hadolint/wiki/DL3008",
      "",
      `Dockerfile:3:2 DL3002 error: ${findings[1].message}`,
      "  2 | RUN apt-get update && apt-get install -y curl",
      "> 3 | \tUSER root",
      "    | \t" + "^".repeat(9),
      "",
      "",
    ].join("\n"),
  );
  assert.ok(!out.includes("\x1b["));
  const colored = formatFindings("tty", findings.slice(0, 1), { ...opts, color: true });
  assert.ok(colored.includes("\x1b[33mwarning\x1b[0m"));
  // no source: just the header lines
  assert.equal(
    formatFindings("tty", findings.slice(2, 3)),
    "sub/Dockerfile:1:5 SC2086 info: Double quote to prevent globbing.\n",
  );
  assert.equal(formatFindings("tty", []), "");
});
