// Build progress like BuildKit's: `--progress plain` (`#3 [2/5] RUN …`, output lines with
// timestamps, `#3 CACHED`, `#3 DONE 1.2s`), `tty` (live steps with timers and their last output
// lines, redrawn in place) and `json` (one event per line).
import type { Stage } from "./plan.js";

export interface StepHandle {
  output(chunk: Buffer): void;
  done(cached: boolean): void;
  fail(err: Error): void;
}

export interface BuildReporter {
  plan(stages: Stage[]): void;
  /** `n` = 1-based index of the step in its stage, -1 for FROM. */
  step(stage: Stage, n: number, label: string): StepHandle;
  info(msg: string): void;
  close(): void;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const FS_KINDS = new Set(["RUN", "COPY", "ADD", "WORKDIR"]);

export function createBuildReporter(mode: string | undefined, out: Out): BuildReporter {
  const m = mode ?? "auto";
  if (m === "quiet") return new PlainReporter(out, true);
  if (m === "json") return new JsonReporter(out);
  if (m === "plain" || (m === "auto" && !(out.isTTY && process.env.CI !== "true")))
    return new PlainReporter(out, false);
  if (m === "tty" || m === "auto") return new TtyReporter(out);
  throw new Error(`invalid --progress ${JSON.stringify(mode)}: expected auto, tty, plain, json or quiet`);
}

abstract class Base implements BuildReporter {
  protected multi = false;
  protected totals = new Map<number, number>();
  protected nextId = 1;
  plan(stages: Stage[]): void {
    this.multi = stages.length > 1;
    for (const s of stages) this.totals.set(s.index, 1 + s.steps.filter((x) => FS_KINDS.has(x.kind)).length);
  }
  protected title(stage: Stage, n: number, label: string): string | undefined {
    const total = this.totals.get(stage.index) ?? 1;
    let idx: number;
    if (n < 0) idx = 1;
    else {
      const kind = stage.steps[n - 1]?.kind ?? "";
      if (!FS_KINDS.has(kind)) return undefined; // metadata steps are not build vertexes
      idx = 1 + stage.steps.slice(0, n).filter((x) => FS_KINDS.has(x.kind)).length;
    }
    const name = this.multi ? `${stage.name ?? `stage-${stage.index}`} ` : "";
    return `[${name}${idx}/${total}] ${label.replace(/\s+/g, " ").trim()}`;
  }
  abstract step(stage: Stage, n: number, label: string): StepHandle;
  abstract info(msg: string): void;
  close(): void {}
}

const NOOP: StepHandle = { output() {}, done() {}, fail() {} };

class PlainReporter extends Base {
  constructor(
    private readonly out: Out,
    private readonly quiet: boolean,
  ) {
    super();
  }
  step(stage: Stage, n: number, label: string): StepHandle {
    const title = this.title(stage, n, label);
    if (!title || this.quiet) return NOOP;
    const id = this.nextId++;
    const t0 = Date.now();
    let partial = "";
    this.out.write(`#${id} ${title}\n`);
    const start = () => {};
    return {
      output: (c) => {
        start();
        const text = partial + c.toString("utf8");
        const lines = text.split("\n");
        partial = lines.pop()!;
        const ts = ((Date.now() - t0) / 1000).toFixed(3);
        for (const l of lines) this.out.write(`#${id} ${ts} ${l}\n`);
      },
      done: (cached) => {
        start();
        if (partial) this.out.write(`#${id} ${((Date.now() - t0) / 1000).toFixed(3)} ${partial}\n`);
        this.out.write(
          cached ? `#${id} CACHED\n\n` : `#${id} DONE ${((Date.now() - t0) / 1000).toFixed(1)}s\n\n`,
        );
      },
      fail: (err) => {
        start();
        if (partial) this.out.write(`#${id} ${((Date.now() - t0) / 1000).toFixed(3)} ${partial}\n`);
        this.out.write(`#${id} ERROR: ${err.message.split("\n")[0]}\n\n`);
      },
    };
  }
  info(msg: string): void {
    if (!this.quiet) this.out.write(`${msg}\n`);
  }
}

class JsonReporter extends Base {
  constructor(private readonly out: Out) {
    super();
  }
  private emit(o: Record<string, unknown>) {
    this.out.write(JSON.stringify({ time: new Date().toISOString(), ...o }) + "\n");
  }
  step(stage: Stage, n: number, label: string): StepHandle {
    const title = this.title(stage, n, label);
    if (!title) return NOOP;
    const id = this.nextId++;
    const t0 = Date.now();
    this.emit({ id, name: title, status: "started" });
    return {
      output: (c) => this.emit({ id, log: c.toString("utf8") }),
      done: (cached) =>
        this.emit({
          id,
          name: title,
          status: cached ? "cached" : "done",
          duration: (Date.now() - t0) / 1000,
        }),
      fail: (err) =>
        this.emit({
          id,
          name: title,
          status: "error",
          error: err.message,
          duration: (Date.now() - t0) / 1000,
        }),
    };
  }
  info(msg: string): void {
    this.emit({ info: msg });
  }
}

interface Vertex {
  title: string;
  t0: number;
  t1?: number;
  cached?: boolean;
  error?: string;
  /** Last output lines (while running: the last few are shown under the step). */
  logs: string[];
  partial: string;
}

const LIVE_LOG_LINES = 6;
const KEEP_LOG_LINES = 12;

/**
 * BuildKit's TTY display: a block that is redrawn in place ~10 times a second (cursor up, each line
 * rewritten and cleared to its end, one write per frame: no screen clear, no flicker). Running
 * steps show a live timer and their last output lines (`=> => # …`); finished steps collapse to
 * `=> [2/5] RUN …  1.2s` or `=> CACHED [3/5] COPY …` (`=> ERROR …` when it failed); messages are
 * printed above the block; the last frame lists every step under `[+] Building 3.2s (8/8) FINISHED`.
 */
export class TtyReporter extends Base {
  private vs: Vertex[] = [];
  private pending: string[] = [];
  private timer?: NodeJS.Timeout;
  private drawn = 0;
  private total = 0;
  private closed = false;
  private readonly start = Date.now();
  constructor(
    private readonly out: Out & { rows?: number },
    private readonly intervalMs = 100,
  ) {
    super();
  }
  override plan(stages: Stage[]): void {
    super.plan(stages);
    this.total = [...this.totals.values()].reduce((a, b) => a + b, 0);
  }
  private ensureTimer() {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.draw(false), this.intervalMs);
    this.timer.unref?.();
  }
  private width(): number {
    const c = this.out.columns;
    return (c && c > 20 ? c : 80) - 1;
  }
  private fit(text: string, time?: string): string {
    const w = this.width();
    // eslint-disable-next-line no-control-regex -- control characters would move the cursor
    const t = text.replace(/[\x00-\x1f\x7f]/g, " ");
    if (time === undefined) return t.length > w ? t.slice(0, w - 1) + "…" : t;
    const room = w - time.length - 1;
    const head = t.length > room ? t.slice(0, Math.max(room - 1, 0)) + "…" : t.padEnd(room);
    return `${head} ${time}`;
  }
  private vertexLine(v: Vertex, now: number): string {
    const secs = (((v.t1 ?? now) - v.t0) / 1000).toFixed(1) + "s";
    const tag = v.error !== undefined ? "ERROR " : v.cached ? "CACHED " : "";
    return this.fit(` => ${tag}${v.title}`, secs);
  }
  private frame(final: boolean): string[] {
    const now = Date.now();
    const done = this.vs.filter((v) => v.t1 !== undefined).length;
    const failed = this.vs.some((v) => v.error !== undefined);
    const total = Math.max(this.total, this.vs.length);
    const header = this.fit(
      `[+] Building ${((now - this.start) / 1000).toFixed(1)}s (${done}/${total})${final && !failed ? " FINISHED" : ""}`,
    );
    const blocks = this.vs.map((v) => {
      const lines = [this.vertexLine(v, now)];
      if (!final && v.t1 === undefined) {
        const logs = v.partial ? [...v.logs, v.partial] : v.logs;
        for (const l of logs.slice(-LIVE_LOG_LINES)) lines.push(this.fit(` => => # ${l}`));
      }
      return { lines, running: v.t1 === undefined };
    });
    if (!final) {
      // keep the block on the screen: drop the oldest finished steps, then running steps' logs
      const max = Math.max((this.out.rows && this.out.rows > 4 ? this.out.rows : 24) - 2, 3);
      let n = 1 + blocks.reduce((a, b) => a + b.lines.length, 0);
      for (let i = 0; i < blocks.length && n > max; i++)
        if (!blocks[i]!.running) {
          n -= blocks[i]!.lines.length;
          blocks[i]!.lines = [];
        }
      for (const b of blocks)
        while (n > max && b.lines.length > 1) {
          b.lines.splice(1, 1);
          n--;
        }
    }
    return [header, ...blocks.flatMap((b) => b.lines)];
  }
  private draw(final: boolean) {
    let s = this.drawn ? `\x1b[${this.drawn}A\r` : "";
    for (const m of this.pending) for (const l of m.split("\n")) s += `${l}\x1b[K\n`;
    this.pending = [];
    const lines = this.vs.length || final ? this.frame(final) : [];
    for (const l of lines) s += `${l}\x1b[K\n`;
    s += "\x1b[J"; // what is left of a longer previous frame
    this.out.write(s);
    this.drawn = lines.length;
  }
  step(stage: Stage, n: number, label: string): StepHandle {
    const title = this.title(stage, n, label);
    if (!title) return NOOP;
    const v: Vertex = { title, t0: Date.now(), logs: [], partial: "" };
    this.vs.push(v);
    this.ensureTimer();
    const addOutput = (c: Buffer) => {
      const lines = (v.partial + c.toString("utf8")).split(/\r?\n|\r/);
      v.partial = lines.pop()!;
      v.logs.push(...lines);
      if (v.logs.length > KEEP_LOG_LINES) v.logs.splice(0, v.logs.length - KEEP_LOG_LINES);
    };
    return {
      output: addOutput,
      done: (cached) => {
        v.t1 = Date.now();
        v.cached = cached;
      },
      fail: (err) => {
        v.t1 = Date.now();
        v.error = err.message.split("\n")[0]!;
        if (v.partial) v.logs.push(v.partial);
        v.partial = "";
      },
    };
  }
  info(msg: string): void {
    this.pending.push(msg);
    if (!this.timer) this.draw(false);
  }
  override close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true); // a failed step's last output lines follow in the build's error message
  }
}
