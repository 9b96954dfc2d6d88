/** BuildKit's `BFlags`: the leading `--flags` an instruction accepts, with its error messages. */
import { InstructionError } from "./errors.js";
import { suggest } from "./suggest.js";

export type FlagType = "bool" | "string" | "strings";

export interface FlagValues {
  /** string/bool flags: the last value ("true"/"false" for bool); strings flags: every value. */
  get(name: string): string | undefined;
  all(name: string): string[];
  bool(name: string): boolean;
  used: string[];
}

/** Parse `flags` (as the parser extracted them) against the flags an instruction defines. */
const NO_VALUES: string[] = [];
const EMPTY: FlagValues = {
  get: () => undefined,
  all: () => NO_VALUES,
  bool: () => false,
  used: NO_VALUES,
};

export function parseFlags(flags: string[], defs: Record<string, FlagType>): FlagValues {
  if (flags.length === 0) return EMPTY;
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const used: string[] = [];
  for (const a of flags) {
    if (a === "--") break;
    if (!a.startsWith("--")) throw new InstructionError(`arg should start with -- : ${a}`);
    let name = a.slice(2);
    let value = "";
    const eq = name.indexOf("=");
    const hasEq = eq >= 0;
    if (hasEq) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const type = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
    if (!type) {
      const s = suggest(name, Object.keys(defs), true);
      throw new InstructionError(`unknown flag: ${name}${s ? ` (did you mean ${s}?)` : ""}`);
    }
    if (used.includes(name) && type !== "strings")
      throw new InstructionError(`duplicate flag specified: ${name}`);
    if (!used.includes(name)) used.push(name);
    switch (type) {
      case "bool": {
        if (hasEq && value === "") throw new InstructionError(`missing a value on flag: ${name}`);
        const v = value.toLowerCase();
        if (v === "true" || v === "") values.set(name, "true");
        else if (v === "false") values.set(name, "false");
        else throw new InstructionError(`expecting boolean value for flag ${name}, not: ${value}`);
        break;
      }
      case "string":
        if (!hasEq) throw new InstructionError(`missing a value on flag: ${name}`);
        values.set(name, value);
        break;
      case "strings":
        if (!hasEq) throw new InstructionError(`missing a value on flag: ${name}`);
        if (!multi.has(name)) multi.set(name, []);
        multi.get(name)!.push(value);
        break;
    }
  }
  return {
    get: (n) => values.get(n),
    all: (n) => multi.get(n) ?? [],
    bool: (n) => values.get(n) === "true",
    used,
  };
}
