// The TTY progress display: redrawn in place (cursor up + clear to end of line, one write per
// frame, never a screen clear), running steps with timers and their last output lines, collapsed
// `=> [2/3] RUN …  0.1s` / `=> CACHED …` lines when done, a FINISHED summary. Checked on the final
// screen as a terminal would show it (a small VT interpreter), and end to end under a
// pseudo-terminal (`script` from util-linux) with a real build.
/* eslint-disable no-control-regex -- terminal escapes are what is tested */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TtyReporter, createBuildReporter } from "../../src/build/progress.js";
import type { Stage } from "../../src/build/plan.js";
import { hasCommand, needPeers } from "../helpers/peers.js";
import { BIN, ensureBases } from "./fixtures.js";

/** Interprets what a terminal does with the text: CR, LF, CSI n A (up), K (clear line end), J (clear below). */
export function screen(text: string): string[] {
  const rows: string[] = [""];
  let r = 0;
  let c = 0;
  const put = (ch: string) => {
    const line = rows[r]!.padEnd(c);
    rows[r] = line.slice(0, c) + ch + line.slice(c + 1);
    c++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\x1b" && text[i + 1] === "[") {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i));
      if (!m) throw new Error(`unknown escape at ${i}: ${JSON.stringify(text.slice(i, i + 8))}`);
      i += m[0].length - 1;
      const n = Number(m[1] || "1");
      switch (m[2]) {
        case "A":
          r = Math.max(0, r - n);
          break;
        case "K":
          rows[r] = rows[r]!.slice(0, c);
          break;
        case "J":
          rows[r] = rows[r]!.slice(0, c);
          rows.length = r + 1;
          break;
        default:
          throw new Error(`the display may only move up and clear: got ESC[${m[1]}${m[2]}`);
      }
    } else if (ch === "\r") c = 0;
    else if (ch === "\n") {
      r++;
      c = 0;
      if (rows.length <= r) rows.push("");
    } else put(ch);
  }
  while (rows.length && rows.at(-1) === "") rows.pop();
  return rows.map((l) => l.trimEnd());
}

class FakeTty {
  isTTY = true;
  columns = 70;
  rows = 12;
  writes: string[] = [];
  write(s: string): boolean {
    this.writes.push(s);
    return true;
  }
  get text(): string {
    return this.writes.join("");
  }
}

const stage = (kinds: string[], name?: string, index = 0): Stage =>
  ({
    index,
    name,
    base: "busybox",
    line: 1,
    original: "FROM busybox",
    steps: kinds.map((kind) => ({ kind })),
  }) as unknown as Stage;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `n` more frames (the machine may be loaded: no fixed sleeps). */
async function frames(out: FakeTty, n: number): Promise<void> {
  const want = out.writes.length + n;
  for (let i = 0; i < 500 && out.writes.length < want; i++) await sleep(10);
  assert.ok(out.writes.length >= want, "the display is redrawn on a timer");
}

test("tty progress: live timers and output tails, redrawn in place, collapsed when done, FINISHED summary", async () => {
  const out = new FakeTty();
  const rep = new TtyReporter(out as never, 20);
  const s = stage(["RUN", "ENV", "COPY", "RUN"]);
  rep.plan([s]);
  rep.step(s, -1, "FROM busybox").done(false);
  const run = rep.step(s, 1, "RUN make all");
  for (let i = 1; i <= 9; i++) run.output(Buffer.from(`line ${i}\n`));
  run.output(Buffer.from("partial"));
  await frames(out, 2);
  const live = screen(out.text);
  assert.match(live[0]!, /^\[\+\] Building \d+\.\ds \(1\/4\)$/);
  assert.match(live[2]!, /^ => \[2\/4\] RUN make all +\d+\.\ds$/);
  assert.equal(live[2]!.length, 69, "timer right-aligned in the terminal width");
  // the last 6 output lines (with the unfinished one) under the running step
  assert.deepEqual(
    live.slice(3),
    ["line 5", "line 6", "line 7", "line 8", "line 9", "partial"].map((l) => ` => => # ${l}`),
  );
  const framesBefore = out.writes.length;
  run.done(false);
  rep.step(s, 2, "ENV A=1").done(false); // metadata: not a vertex
  rep.step(s, 3, "COPY . /app").done(true);
  rep.info("WARNING: something to say");
  const last = rep.step(s, 4, "RUN false");
  last.output(Buffer.from("boom\n"));
  last.done(false);
  rep.close();
  const final = screen(out.text);
  assert.deepEqual(
    final.map((l) => l.replace(/\d+\.\ds/, "T").replace(/ +T$/, " T")),
    [
      "WARNING: something to say",
      "[+] Building T (4/4) FINISHED",
      " => [1/4] FROM busybox T",
      " => [2/4] RUN make all T",
      " => CACHED [3/4] COPY . /app T",
      " => [4/4] RUN false T",
    ],
  );
  for (const l of final.slice(2)) assert.equal(l.length, 69, `timer right-aligned: ${l}`);
  // never a full-screen clear or cursor jump home: only up-moves and line clears
  assert.doesNotMatch(out.text, /\x1b\[(2J|H|\d*;\d*H)/);
  // every frame is one write (no half-drawn frames)
  for (const w of out.writes.slice(0, framesBefore))
    assert.ok(w.startsWith("\x1b[") || w.startsWith("[+]"), JSON.stringify(w.slice(0, 20)));
});

test("tty progress: a failed step is marked ERROR; long frames fit the screen", async () => {
  const out = new FakeTty();
  out.rows = 8;
  const rep = new TtyReporter(out as never, 10);
  const s = stage(["RUN", "RUN", "RUN", "RUN", "RUN", "RUN"], "app");
  rep.plan([s, stage(["RUN"], "other", 1)]);
  for (let i = 1; i <= 5; i++) rep.step(s, i, `RUN step ${i}`).done(false);
  const bad = rep.step(s, 6, "RUN exit 3");
  for (let i = 1; i <= 20; i++) bad.output(Buffer.from(`out ${i}\n`));
  await frames(out, 2);
  const live = screen(out.text);
  assert.ok(live.length <= 6, `a live frame fits in rows-2 lines: ${live.length}`);
  assert.match(live.find((l) => l.includes("exit 3")) ?? "", /RUN exit 3/);
  bad.fail(new Error("process did not complete successfully: exit code: 3"));
  rep.close();
  const final = screen(out.text);
  assert.match(final[0]!, /^\[\+\] Building \d+\.\ds \(6\/9\)$/, "no FINISHED after a failure");
  assert.equal(final.filter((l) => l.startsWith(" => ")).length, 6, "every step in the final frame");
  assert.match(
    final.find((l) => l.includes("exit 3"))!,
    /^ => ERROR \[app 7\/7\] RUN exit 3 +\d+\.\ds$/,
  );
  assert.match(final.at(-1)!, /ERROR \[app 7\/7\]/, "the block ends the screen");
});

test("tty progress: auto picks tty on a terminal (not under CI=true), plain elsewhere", () => {
  const saved = process.env.CI;
  try {
    delete process.env.CI;
    assert.ok(createBuildReporter("auto", new FakeTty() as never) instanceof TtyReporter);
    assert.ok(
      !(createBuildReporter("auto", { ...new FakeTty(), isTTY: false } as never) instanceof TtyReporter),
    );
    process.env.CI = "true";
    assert.ok(!(createBuildReporter("auto", new FakeTty() as never) instanceof TtyReporter));
    assert.ok(createBuildReporter("tty", new FakeTty() as never) instanceof TtyReporter);
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});

test("tty progress: a real build under a pseudo-terminal (script -qfc)", async (t) => {
  const missing =
    needPeers("runc", "getfattr") || (hasCommand("script") ? false : "needs script (util-linux)");
  if (missing) return t.skip(missing);
  const problem = await ensureBases();
  if (problem) {
    if (process.env.DOCKYARD_REQUIRE_PEERS === "1") assert.fail(problem);
    return t.skip(problem);
  }
  const d = await mkdtemp(join(tmpdir(), "dy-build-tty-"));
  try {
    await writeFile(
      join(d, "Dockerfile"),
      "FROM 127.0.0.1:5300/busybox:latest\nRUN echo hi > /x\n" +
        "RUN for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.2; done\nRUN cat /x\n",
    );
    const typescript = join(d, "typescript");
    const buildOnce = (extra: string) => {
      // script runs the command on a new pty; its stdout/stderr are the terminal (CI unset: auto → tty)
      const cmd = `env -u CI DOCKYARD_HOME=${d}/home ${BIN} build ${extra} --network none -t dy-build-tty:1 ${d}`;
      execFileSync("script", ["-qfec", cmd, typescript], { stdio: "ignore", timeout: 120_000 });
      const raw = readFileSync(typescript, "utf8");
      // strip script's own header/footer lines
      return raw
        .replace(/^Script started.*\n/, "")
        .replace(/\nScript done.*\n?$/, "")
        .replace(/\r\n/g, "\n");
    };
    const first = buildOnce("");
    const s1 = screen(first);
    assert.ok(
      s1.some((l) => /^\[\+\] Building \d+\.\ds \(4\/4\) FINISHED$/.test(l)),
      s1.join("\n"),
    );
    assert.ok(s1.some((l) => /^ => \[3\/4\] RUN for i in .* \d+\.\ds$/.test(l)));
    assert.ok(s1.some((l) => l.startsWith("=> built sha256:")));
    assert.ok(!s1.some((l) => l.includes("=> => #")), "output lines are gone from the final screen");
    // an intermediate frame showed the running step's output and a running timer
    assert.match(first, / => => # tick [1-5]/);
    assert.doesNotMatch(first, /\x1b\[(2J|H)/);
    const second = screen(buildOnce("--progress tty"));
    for (const n of [2, 3, 4])
      assert.ok(
        second.some((l) => new RegExp(`^ => CACHED \\[${n}/4\\] RUN `).test(l)),
        second.join("\n"),
      );
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
