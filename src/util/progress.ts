/**
 * One progress reporter for every long job (build, push, pull, save, load, copy): TTY bars,
 * plain lines for CI logs, or JSON events (one object per line). Commands pick the mode with
 * `--progress auto|tty|plain|json|quiet`; `auto` means bars on a TTY and plain lines otherwise.
 *
 *   const p = createProgress("auto", process.stderr);
 *   const t = p.task("sha256:ab12…", "layer ab12cd34ef56", size);
 *   t.advance(n) …; t.finish("pushed");
 *   p.info("pushed localhost:5000/app:1"); p.close();
 */
export type ProgressMode = "auto" | "tty" | "plain" | "json" | "quiet";
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "tty", "plain", "json", "quiet"];

export interface ProgressTask {
  /** Adds `bytes` done. */
  advance(bytes: number): void;
  /** Marks the task finished with a short status word ("done", "exists", "mounted", "pushed"). */
  finish(status?: string): void;
  /** Marks the task failed. */
  fail(message: string): void;
}

export interface Progress {
  readonly mode: Exclude<ProgressMode, "auto">;
  /** Starts a task. `total` is in bytes when known. */
  task(id: string, label: string, total?: number): ProgressTask;
  /** A one-off message (a step, a result). */
  info(message: string): void;
  /** Flushes and stops redrawing; call once at the end. */
  close(): void;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function createProgress(mode: ProgressMode | string | undefined, out: Out): Progress {
  const m = (mode ?? "auto") as ProgressMode;
  if (!PROGRESS_MODES.includes(m)) {
    throw new Error(`invalid progress mode ${JSON.stringify(mode)}: expected ${PROGRESS_MODES.join(", ")}`);
  }
  if (m === "quiet") return new QuietProgress();
  if (m === "json") return new JsonProgress(out);
  if (m === "tty" || (m === "auto" && out.isTTY && process.env.CI !== "true" && process.env.TERM !== "dumb"))
    return new TtyProgress(out);
  return new PlainProgress(out);
}

/** A reporter that says nothing (library use, tests). */
export class QuietProgress implements Progress {
  readonly mode = "quiet" as const;
  task(): ProgressTask {
    return { advance() {}, finish() {}, fail() {} };
  }
  info(): void {}
  close(): void {}
}

class PlainProgress implements Progress {
  readonly mode = "plain" as const;
  constructor(private readonly out: Out) {}
  task(_id: string, label: string, total?: number): ProgressTask {
    const start = Date.now();
    let done = 0;
    let ended = false;
    return {
      advance: (n) => {
        done += n;
      },
      finish: (status = "done") => {
        if (ended) return;
        ended = true;
        const secs = ((Date.now() - start) / 1000).toFixed(1);
        const size = done > 0 ? ` ${formatBytes(done)} in ${secs}s` : total ? ` (${formatBytes(total)})` : "";
        this.out.write(`${label}: ${status}${size}\n`);
      },
      fail: (message) => {
        if (ended) return;
        ended = true;
        this.out.write(`${label}: failed: ${message}\n`);
      },
    };
  }
  info(message: string): void {
    this.out.write(`${message}\n`);
  }
  close(): void {}
}

class JsonProgress implements Progress {
  readonly mode = "json" as const;
  constructor(private readonly out: Out) {}
  private emit(ev: Record<string, unknown>): void {
    this.out.write(JSON.stringify({ time: new Date().toISOString(), ...ev }) + "\n");
  }
  task(id: string, label: string, total?: number): ProgressTask {
    this.emit({ event: "start", id, label, total });
    let current = 0;
    let last = 0;
    let ended = false;
    return {
      advance: (n) => {
        current += n;
        const now = Date.now();
        if (now - last >= 500) {
          last = now;
          this.emit({ event: "progress", id, current, total });
        }
      },
      finish: (status = "done") => {
        if (ended) return;
        ended = true;
        this.emit({ event: "done", id, label, status, current, total });
      },
      fail: (message) => {
        if (ended) return;
        ended = true;
        this.emit({ event: "error", id, label, message });
      },
    };
  }
  info(message: string): void {
    this.emit({ event: "info", message });
  }
  close(): void {}
}

interface Bar {
  label: string;
  total?: number;
  current: number;
  status?: string;
}

class TtyProgress implements Progress {
  readonly mode = "tty" as const;
  private readonly bars: Bar[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly out: Out) {}
  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
    this.timer.unref?.();
  }
  private line(b: Bar): string {
    const width = Math.max(20, Math.min((this.out.columns ?? 80) - 1, 120));
    const name = b.label.length > 28 ? b.label.slice(0, 27) + "…" : b.label.padEnd(28);
    if (b.status)
      return `${name} ${b.status}${b.current ? ` ${formatBytes(b.current)}` : ""}`.slice(0, width);
    if (!b.total) return `${name} ${formatBytes(b.current)}`.slice(0, width);
    const frac = Math.min(1, b.current / b.total);
    const cells = Math.max(10, width - name.length - 30);
    const full = Math.round(frac * cells);
    const bar = "=".repeat(Math.max(0, full - 1)) + (full > 0 ? ">" : "") + " ".repeat(cells - full);
    return `${name} [${bar}] ${formatBytes(b.current)}/${formatBytes(b.total)}`.slice(0, width);
  }
  private draw(): void {
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    // Finished bars above the live ones scroll away once written.
    for (const b of this.bars) s += `\x1b[2K${this.line(b)}\n`;
    this.drawn = this.bars.length;
    this.out.write(s);
    // Keep at most 12 live lines: settle finished ones at the top.
    while (this.bars.length > 12 && this.bars[0]?.status) {
      this.bars.shift();
      this.drawn--;
    }
  }
  task(_id: string, label: string, total?: number): ProgressTask {
    const bar: Bar = { label, total, current: 0 };
    this.bars.push(bar);
    this.schedule();
    return {
      advance: (n) => {
        bar.current += n;
        this.schedule();
      },
      finish: (status = "done") => {
        bar.status = status;
        this.schedule();
      },
      fail: (message) => {
        bar.status = `failed: ${message}`;
        this.schedule();
      },
    };
  }
  info(message: string): void {
    // Settle finished bars as permanent lines, print the message, then redraw the live bars.
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A\x1b[J` : "";
    for (const b of this.bars) if (b.status) out += `${this.line(b)}\n`;
    out += `${message}\n`;
    this.out.write(out);
    this.drawn = 0;
    this.bars.splice(0, this.bars.length, ...this.bars.filter((b) => !b.status));
    if (this.bars.length) this.draw();
  }
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draw();
    this.bars.length = 0;
    this.drawn = 0;
  }
}
