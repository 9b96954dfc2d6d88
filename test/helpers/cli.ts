import { Readable, Writable } from "node:stream";
import { main } from "../../src/cli/main.js";

/** A Writable that keeps what it is given as text. */
export function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  w.text = "";
  return w;
}

/** Runs the CLI in this process (no child start-up): exit code, stdout and stderr. */
export async function runCli(
  argv: string[],
  stdin = "",
): Promise<{ code: number; out: string; err: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([stdin]) });
  return { code, out: stdout.text, err: stderr.text };
}
