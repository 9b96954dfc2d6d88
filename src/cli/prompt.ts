import type { CommandIO } from "./command.js";

/**
 * Reads one line from the terminal without echoing it (passphrases: never echoed, never logged).
 * Ctrl-C exits 130. Call only when `io.stdin` is a TTY.
 */
export function readHidden(io: CommandIO, question: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  return new Promise<string>((resolve) => {
    io.stderr.write(question);
    stdin.setRawMode?.(true);
    let buf = "";
    const onData = (d: Buffer) => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          stdin.setRawMode?.(false);
          stdin.off("data", onData);
          stdin.pause();
          io.stderr.write("\n");
          resolve(buf);
          return;
        }
        if (ch === "\u0003") process.exit(130);
        if (ch === "\u007f") buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}
