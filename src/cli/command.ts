import { formatFlags, parseArgs, type FlagSpec, type ParsedArgs } from "./args.js";

/** A CLI command: thin over the library; `run` returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) after `dockyard `, e.g. `registry serve [flags]`. */
  usage: string;
  /** Longer explanation and examples for --help. */
  help?: string;
  flags: FlagSpec[];
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export function commandHelp(cmd: Command): string {
  const parts = [`Usage: dockyard ${cmd.usage}`, "", cmd.summary];
  if (cmd.help) parts.push("", cmd.help.trim());
  if (cmd.flags.length) parts.push("", "Flags:", formatFlags(cmd.flags));
  return parts.join("\n") + "\n";
}

export { parseArgs };
