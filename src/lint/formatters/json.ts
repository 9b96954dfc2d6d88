import type { Formatter } from "./types.js";

/** hadolint's `json`: an array of `{code, column, file, level, line, message}` (keys sorted, as hadolint prints them). */
export const formatJson: Formatter = (findings) =>
  JSON.stringify(
    findings.map((f) => ({
      code: f.code,
      column: f.column,
      file: f.file,
      level: f.level,
      line: f.line,
      message: f.message,
    })),
  ) + "\n";
