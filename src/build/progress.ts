// Build progress like BuildKit's: `--progress plain` (`#3 [2/5] RUN …`, output lines with
// timestamps, `#3 CACHED`, `#3 DONE 1.2s`), `tty` (live steps with timings, output only on
// failure) and `json` (one event per line).
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

class TtyReporter extends Base {
  private running = new Map<number, { title: string; t0: number }>();
  private timer?: NodeJS.Timeout;
  private drawn = 0;
  private readonly start = Date.now();
  constructor(private readonly out: Out) {
    super();
  }
  private clear() {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
  private draw() {
    this.clear();
    const width = (this.out.columns ?? 100) - 1;
    const lines = [`[+] Building ${((Date.now() - this.start) / 1000).toFixed(1)}s`];
    for (const r of this.running.values())
      lines.push(
        ` => ${r.title}`.slice(0, width - 8).padEnd(width - 7) +
          `${((Date.now() - r.t0) / 1000).toFixed(1)}s`,
      );
    this.out.write(lines.join("\n") + "\n");
    this.drawn = lines.length;
  }
  private finished(line: string) {
    this.clear();
    this.out.write(line + "\n");
    this.draw();
  }
  step(stage: Stage, n: number, label: string): StepHandle {
    const title = this.title(stage, n, label);
    if (!title) return NOOP;
    const id = this.nextId++;
    const t0 = Date.now();
    this.running.set(id, { title, t0 });
    this.timer ??= setInterval(() => this.draw(), 150);
    const tail: string[] = [];
    return {
      output: (c) => {
        tail.push(...c.toString("utf8").split("\n"));
        while (tail.length > 10) tail.shift();
      },
      done: (cached) => {
        this.running.delete(id);
        this.finished(` => ${cached ? "CACHED " : ""}${title}  ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      },
      fail: (err) => {
        this.running.delete(id);
        this.finished(
          ` => ERROR ${title}\n${tail.map((l) => `  > ${l}`).join("\n")}\n${err.message.split("\n")[0]}`,
        );
      },
    };
  }
  info(msg: string): void {
    this.finished(msg);
  }
  override close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
    this.out.write(`[+] Building ${((Date.now() - this.start) / 1000).toFixed(1)}s done\n`);
  }
}
