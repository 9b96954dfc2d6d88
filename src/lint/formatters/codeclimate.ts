import { createHash } from "node:crypto";
import type { Finding } from "../finding.js";
import type { Formatter } from "./types.js";

const SEVERITY: Record<Finding["level"], string> = {
  error: "blocker",
  warning: "major",
  info: "info",
  style: "minor",
};

function issue(f: Finding) {
  return {
    type: "issue",
    check_name: f.code,
    description: f.message,
    categories: ["Bug Risk"],
    location: {
      path: f.file,
      positions: {
        begin: { line: f.line, column: f.column },
        end: { line: f.endLine ?? f.line, column: f.endColumn ?? f.column },
      },
    },
    severity: SEVERITY[f.level],
  };
}

/**
 * Code Climate engine output (https://github.com/codeclimate/platform/blob/master/spec/analyzers/SPEC.md):
 * one JSON issue per finding, each terminated by a NUL byte, as hadolint prints it.
 */
export const formatCodeclimate: Formatter = (findings) =>
  findings.map((f) => JSON.stringify(issue(f)) + "\0").join("");

/** GitLab Code Quality report: a JSON array of issues with a fingerprint (SHA-1 of the issue). */
export const formatGitlabCodeclimate: Formatter = (findings) =>
  JSON.stringify(
    findings.map((f) => {
      const i = {
        type: "issue",
        check_name: f.code,
        description: f.message,
        categories: ["Bug Risk"],
        location: { path: f.file, lines: { begin: f.line, end: f.endLine ?? f.line } },
        severity: SEVERITY[f.level],
      };
      const fingerprint = createHash("sha1").update(JSON.stringify(i)).digest("hex");
      const { type, ...rest } = i;
      return { type, fingerprint, ...rest };
    }),
  ) + "\n";
