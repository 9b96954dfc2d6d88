// The helper shell that runs mount/umount/getfattr for the builder: output, exit codes, a missing
// command (ENOENT, as execFile reports it), cwd, arguments that need quoting, concurrent commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HelperCommandError, runCommand, shQuote } from "../../src/build/helper.js";

test("helper shell: output, cwd, quoting, exit codes, a missing command, concurrency", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dy-build-helper-"));
  try {
    const odd = 'it\'s a "file" $HOME `x` \\ *';
    await writeFile(join(dir, odd), "content\n");
    const r = await runCommand("cat", [odd], { cwd: dir });
    assert.equal(r.stdout, "content\n");
    assert.equal((await runCommand("printf", ["%s|", "a b", "", "$x"])).stdout, "a b||$x|");
    assert.equal((await runCommand("pwd", [], { cwd: dir })).stdout.trim(), dir);

    await assert.rejects(runCommand("sh", ["-c", "echo out; echo oops >&2; exit 3"]), (err: unknown) => {
      assert.ok(err instanceof HelperCommandError);
      assert.equal(err.code, 3);
      assert.equal(err.stdout, "out\n");
      assert.equal(err.stderr, "oops\n");
      return true;
    });
    await assert.rejects(runCommand("dockyard-no-such-command-here", []), (err: unknown) => {
      assert.ok(err instanceof HelperCommandError);
      assert.equal(err.code, "ENOENT");
      return true;
    });
    // commands run concurrently: ten 0.3 s sleeps take well under 3 s, each gets its own output
    const t0 = Date.now();
    const outs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runCommand("sh", ["-c", `sleep 0.3; echo ${i}`])),
    );
    assert.deepEqual(
      outs.map((o) => o.stdout.trim()),
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms: not concurrent`);
    assert.equal(shQuote("a'b"), `'a'\\''b'`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
