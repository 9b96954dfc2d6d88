import type { Command } from "../command.js";

/** The `trust` commands. */
export const commands: Command[] = [];
