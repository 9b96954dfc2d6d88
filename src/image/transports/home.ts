import { homedir } from "node:os";
import { join } from "node:path";

/** `$DOCKYARD_HOME`, default `$XDG_DATA_HOME/dockyard` or `~/.local/share/dockyard`. */
export function dockyardHome(): string {
  if (process.env.DOCKYARD_HOME) return process.env.DOCKYARD_HOME;
  const xdg = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(xdg, "dockyard");
}
