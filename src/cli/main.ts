import { DockyardError } from "../image/errors.js";
import { parseArgs } from "./args.js";
import { commandHelp, type Command, type CommandIO } from "./command.js";
import { ALL_LOADERS, COMMAND_MODULES } from "./commands/index.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { VERSION } from "../version.js";
import { adoptDeferredCaCerts } from "../util/extra-ca.js";

async function allCommands(): Promise<Command[]> {
  const mods = await Promise.all(ALL_LOADERS.map((l) => l()));
  return mods.flatMap((m) => m.commands);
}

function topHelp(cmds: Command[]): string {
  const width = Math.max(...cmds.map((c) => c.name.length), 8) + 2;
  const lines = cmds.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return [
    "Usage: dockyard COMMAND [flags]",
    "",
    "dockyard takes a container image from Dockerfile to signed image in a private registry.",
    "",
    "Commands:",
    ...lines,
    "",
    "Run 'dockyard COMMAND --help' for a command's flags and examples.",
    "Exit codes: 0 ok, 1 findings/verification failed, 2 usage, 3 invalid input, 4 not found,",
    "            5 denied, 6 network, 7 trust, 70 internal error.",
    "",
  ].join("\n");
}

/** Finds the longest command name that prefixes argv (`registry serve` before `registry`). */
function match(cmds: Command[], argv: string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of cmds) {
    const words = cmd.name.split(" ");
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(" ").length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function main(argv: string[], io: CommandIO = process): Promise<number> {
  adoptDeferredCaCerts(); // bin/dockyard's hand-over: the programs we run see NODE_EXTRA_CA_CERTS again
  const first = argv[0];
  if (first === "--version" || first === "version") {
    io.stdout.write(`dockyard ${VERSION}\n`);
    return ExitCode.ok;
  }
  if (!first || first === "--help" || first === "-h" || first === "help") {
    const cmds = await allCommands();
    if (first === "help" && argv[1]) return main([...argv.slice(1), "--help"], io);
    io.stdout.write(topHelp(cmds));
    return first ? ExitCode.ok : ExitCode.usage;
  }
  const loader = COMMAND_MODULES[first];
  if (!loader) {
    io.stderr.write(`dockyard: unknown command ${JSON.stringify(first)}; run 'dockyard --help'\n`);
    return ExitCode.usage;
  }
  const { commands } = await loader();
  const found = match(commands, argv);
  if (!found) {
    const group = commands.filter((c) => c.name.split(" ")[0] === first);
    if (group.length) {
      io.stderr.write(
        `Usage: dockyard ${first} SUBCOMMAND\n\n` +
          group.map((c) => `  ${c.name.padEnd(22)}${c.summary}`).join("\n") +
          "\n",
      );
      return argv.includes("--help") || argv.includes("-h") ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr.write(`dockyard: ${first} is not available in this build\n`);
    return ExitCode.usage;
  }
  const { cmd, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(commandHelp(cmd));
    return ExitCode.ok;
  }
  try {
    const args = parseArgs(rest, cmd.flags);
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof DockyardError) {
      io.stderr.write(`dockyard ${cmd.name}: ${err.message}\n`);
      if (err.code === "USAGE") io.stderr.write(`Run 'dockyard ${cmd.name} --help' for usage.\n`);
      return exitCodeFor(err.code);
    }
    io.stderr.write(`dockyard ${cmd.name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.internal;
  }
}
