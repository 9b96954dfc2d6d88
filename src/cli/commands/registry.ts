import type { Command } from "../command.js";

/** The `registry` commands. */
export const commands: Command[] = [];
