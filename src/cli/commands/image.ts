import type { Command } from "../command.js";

/** The `image` commands. */
export const commands: Command[] = [];
