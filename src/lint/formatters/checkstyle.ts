import { byFile, xmlEscape, type Formatter } from "./types.js";

/** Checkstyle XML (hadolint's layout: one `<file>` per file, one `<error>` per finding). */
export const formatCheckstyle: Formatter = (findings, options) => {
  let out = "<?xml version='1.0' encoding='UTF-8'?>\n<checkstyle version='4.3'>\n";
  for (const [file, list] of byFile(findings, options.files)) {
    out += `  <file name='${xmlEscape(file)}'>\n`;
    for (const f of list) {
      out +=
        `    <error line='${f.line}' column='${f.column}' severity='${f.level}'` +
        ` message='${xmlEscape(f.message)}' source='${xmlEscape(f.code)}'/>\n`;
    }
    out += "  </file>\n";
  }
  return out + "</checkstyle>\n";
};
