import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atomicWriteFile } from "../../src/util/fs.js";
import { lookupCredentials, removeCredentials, storeCredentials } from "../../src/image/transports/auth.js";

const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

test("atomicWriteFile with a mode creates the file with exactly that mode, whatever the umask", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dockyard-secret-"));
  const old = process.umask(0o000);
  try {
    await atomicWriteFile(join(dir, "secret"), "s3cret", { mode: 0o600 });
    assert.equal(await modeOf(join(dir, "secret")), 0o600);
    await atomicWriteFile(join(dir, "plain"), "x");
    assert.equal(await modeOf(join(dir, "plain")), 0o644);
  } finally {
    process.umask(old);
    await rm(dir, { recursive: true, force: true });
  }
});

test("docker config.json stays 0600 through login and logout (it holds other registries' secrets)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dockyard-secret-"));
  const cfg = join(dir, "config.json");
  try {
    await writeFile(cfg, "{}", { mode: 0o644 });
    await storeCredentials("a.example:5000", { username: "u", password: "pa" }, cfg);
    await storeCredentials("b.example:5000", { username: "v", password: "pb" }, cfg);
    assert.equal(await modeOf(cfg), 0o600);
    assert.equal(await removeCredentials("a.example:5000", cfg), true);
    assert.equal(await modeOf(cfg), 0o600, "rewriting after logout keeps b's secret private");
    assert.deepEqual(await lookupCredentials("b.example:5000", cfg), { username: "v", password: "pb" });
    assert.equal(await lookupCredentials("a.example:5000", cfg), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
