import { VERSION } from "../../version.js";
import { byFile, xmlEscape, type Formatter } from "./types.js";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** JUnit XML: a testsuite per file, a failing testcase per finding (hadolint's layout). */
export const formatJunit: Formatter = (findings, options) => {
  const now = options.now ?? new Date();
  const id = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const version = options.version ?? VERSION;
  const groups = byFile(findings, options.files);
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  out += `<testsuites id="${id}" name="dockyard lint run at ${now.toISOString()}" tests="${Math.max(findings.length, groups.size)}" failures="${findings.length}" time="0.001">\n`;
  for (const [file, list] of groups) {
    const errors = list.filter((f) => f.code === "DL1000").length;
    out += `  <testsuite id="dockyard" name="${xmlEscape(file)}" package="dockyard ${xmlEscape(version)}" tests="${Math.max(list.length, 1)}" failures="${list.length - errors}" errors="${errors}" time="0.001">\n`;
    if (list.length === 0)
      out += `    <testcase id="dockyard.clean" name="${xmlEscape(file)}" classname="${xmlEscape(file)}" time="0.001"/>\n`;
    for (const f of list) {
      const name = `${f.code} ${f.file}:${f.line}:${f.column}`;
      out += `    <testcase id="dockyard.rule.${xmlEscape(f.code)}" name="${xmlEscape(name)}" classname="${xmlEscape(f.file)}" time="0.001">\n`;
      const tag = f.code === "DL1000" ? "error" : "failure";
      const body = [`File: ${f.file}`, `Line: ${f.line}`, `Column: ${f.column}`, `${f.level}: ${f.message}`];
      if (f.url) body.push(`See: ${f.url}`);
      out += `      <${tag} type="${f.level}" message="${xmlEscape(f.message)}">${xmlEscape(body.join("\n"))}</${tag}>\n`;
      out += `    </testcase>\n`;
    }
    out += `  </testsuite>\n`;
  }
  return out + `</testsuites>\n`;
};
