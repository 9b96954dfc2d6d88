import type { Command } from "../command.js";

/** The `build` commands. */
export const commands: Command[] = [];
