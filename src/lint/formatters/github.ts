import type { Finding } from "../finding.js";
import type { Formatter } from "./types.js";

// Workflow commands: https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

const COMMAND: Record<Finding["level"], string> = {
  error: "error",
  warning: "warning",
  info: "notice",
  style: "notice",
};

/** GitHub Actions annotations: `::error file=…,line=…,col=…,title=…::message`. */
export const formatGithub: Formatter = (findings) =>
  findings
    .map((f) => {
      const props = [`file=${escapeProperty(f.file)}`, `line=${f.line}`, `col=${f.column}`];
      if (f.endLine !== undefined) props.push(`endLine=${f.endLine}`);
      if (f.endColumn !== undefined && (f.endLine === undefined || f.endLine === f.line)) {
        props.push(`endColumn=${f.endColumn}`);
      }
      props.push(`title=${escapeProperty(f.code)}`);
      return `::${COMMAND[f.level]} ${props.join(",")}::${escapeData(f.message)}\n`;
    })
    .join("");
