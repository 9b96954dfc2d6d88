import type { Command } from "../command.js";

/** The `lint` commands. */
export const commands: Command[] = [];
