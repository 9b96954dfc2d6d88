import { VERSION } from "../../version.js";
import type { Finding } from "../finding.js";
import type { Formatter } from "./types.js";

const LEVEL: Record<Finding["level"], string> = {
  error: "error",
  warning: "warning",
  info: "note",
  style: "note",
};

function defaultUrl(code: string): string | undefined {
  if (/^DL\d+$/.test(code)) return `https://github.com/hadolint/hadolint/wiki/${code}`;
  if (/^SC\d+$/.test(code)) return `https://www.shellcheck.net/wiki/${code}`;
  return undefined;
}

/** SARIF 2.1.0: one run, the rules used (with helpUri) and one result per finding. */
export const formatSarif: Formatter = (findings, options) => {
  const rules: { id: string; helpUri?: string; shortDescription?: { text: string } }[] = [];
  const index = new Map<string, number>();
  for (const f of findings) {
    if (index.has(f.code)) continue;
    index.set(f.code, rules.length);
    const info = options.rules?.(f.code);
    const rule: (typeof rules)[number] = { id: f.code };
    const helpUri = info?.url ?? f.url ?? defaultUrl(f.code);
    if (helpUri) rule.helpUri = helpUri;
    if (info?.description) rule.shortDescription = { text: info.description };
    rules.push(rule);
  }
  const results = findings.map((f) => {
    const region: Record<string, number | string> = { startLine: f.line, startColumn: f.column };
    if (f.endLine !== undefined) region.endLine = f.endLine;
    if (f.endColumn !== undefined) region.endColumn = f.endColumn;
    region.sourceLanguage = f.code.startsWith("SC") ? "sh" : "dockerfile";
    return {
      ruleId: f.code,
      ruleIndex: index.get(f.code)!,
      level: LEVEL[f.level],
      message: { text: f.message },
      locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region } }],
    };
  });
  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "dockyard",
            fullName: "dockyard lint",
            informationUri: "https://github.com/dockyard/dockyard",
            version: options.version ?? VERSION,
            rules,
          },
        },
        defaultSourceLanguage: "dockerfile",
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + "\n";
};
