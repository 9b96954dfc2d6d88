import { DockyardError } from "../image/errors.js";

/** One flag a command accepts. `type: "boolean"` flags take no value; "string[]" may repeat. */
export interface FlagSpec {
  name: string;
  short?: string;
  type: "boolean" | "string" | "string[]";
  description: string;
  valueName?: string;
  default?: string | boolean;
  env?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `--flag value`, `--flag=value`, `-f value`, `--no-flag` for booleans, and `--` (the rest
 * are positionals). Unknown flags are a USAGE error naming the flag.
 */
export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    let key = arg;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      key = arg.slice(0, eq);
      value = arg.slice(eq + 1);
    }
    let spec = byName.get(key);
    if (!spec && key.startsWith("--no-")) {
      const pos = byName.get(`--${key.slice(5)}`);
      if (pos?.type === "boolean") {
        flags[pos.name] = false;
        continue;
      }
    }
    if (!spec) throw new DockyardError("USAGE", `unknown flag ${key} (see --help)`);
    if (spec.type === "boolean") {
      flags[spec.name] = value === undefined ? true : !["false", "0", "no"].includes(value);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new DockyardError("USAGE", `flag ${key} needs a value`);
      value = argv[++i]!;
    }
    if (spec.type === "string[]") {
      const list = (flags[spec.name] as string[] | undefined) ?? [];
      list.push(value);
      flags[spec.name] = list;
    } else {
      flags[spec.name] = value;
    }
    spec = undefined;
  }
  for (const s of specs) {
    if (flags[s.name] === undefined && s.env && process.env[s.env] !== undefined) {
      const v = process.env[s.env]!;
      flags[s.name] =
        s.type === "boolean" ? !["", "0", "false", "no"].includes(v) : s.type === "string[]" ? [v] : v;
    }
    if (flags[s.name] === undefined && s.default !== undefined) flags[s.name] = s.default;
  }
  return { flags, positionals };
}

export function formatFlags(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = [s.short ? `-${s.short}` : "", `--${s.name}`].filter(Boolean).join(", ");
    const value = s.type === "boolean" ? "" : ` ${s.valueName ?? "VALUE"}`;
    let desc = s.description;
    if (s.default !== undefined && s.default !== false) desc += ` (default ${s.default})`;
    if (s.env) desc += ` [$${s.env}]`;
    if (s.type === "string[]") desc += " (repeatable)";
    return [`  ${names}${value}`, desc] as const;
  });
  const width = Math.min(34, Math.max(...rows.map((r) => r[0].length), 0) + 2);
  return rows
    .map(([l, d]) => (l.length + 1 > width ? `${l}\n${" ".repeat(width)}${d}` : l.padEnd(width) + d))
    .join("\n");
}
