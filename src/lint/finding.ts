/** Severity levels, hadolint's names; `ignore` turns a rule off. */
export type Severity = "error" | "warning" | "info" | "style" | "ignore";

export const SEVERITY_ORDER: Record<Exclude<Severity, "ignore">, number> = {
  error: 3,
  warning: 2,
  info: 1,
  style: 0,
};

/** One finding of the linter, the unit every formatter prints. Lines and columns are 1-based. */
export interface Finding {
  /** Rule id: `DL3008`, `SC2086`, or a BuildKit check name such as `JSONArgsRecommended`. */
  code: string;
  message: string;
  level: Exclude<Severity, "ignore">;
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** Documentation link for the rule. */
  url?: string;
}
