import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveUser, runtimeConfig } from "../../src/build/runner.js";
import { parseChmod } from "../../src/dockerfile/chmod.js";
import { resolveInRoot } from "../../src/build/fsutil.js";
import { isDockyardError } from "../../src/image/errors.js";

async function rootfs(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), "dy-build-rootfs-"));
  await mkdir(join(r, "etc"));
  await writeFile(
    join(r, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\napi:x:999:998::/srv:/bin/false\n",
  );
  await writeFile(join(r, "etc/group"), "root:x:0:\napp:x:1001:\nstaff:x:50:app,api\ndocker:x:998:\n");
  return r;
}

test("runner: USER resolution from the rootfs's /etc/passwd and /etc/group", async () => {
  const r = await rootfs();
  try {
    assert.deepEqual(await resolveUser(r, ""), { uid: 0, gid: 0, additionalGids: [], home: "/root" });
    assert.deepEqual(await resolveUser(r, "app"), {
      uid: 1000,
      gid: 1001,
      additionalGids: [50],
      home: "/home/app",
    });
    assert.deepEqual((await resolveUser(r, "app:staff")).gid, 50);
    assert.deepEqual(await resolveUser(r, "1000"), {
      uid: 1000,
      gid: 1001,
      additionalGids: [50],
      home: "/home/app",
    });
    assert.deepEqual((await resolveUser(r, "4242")).gid, 0); // unknown uid: gid 0, as runc does
    assert.deepEqual((await resolveUser(r, "4242:7")).gid, 7);
    await assert.rejects(
      resolveUser(r, "nobody-here"),
      (e) => isDockyardError(e, "NOT_FOUND") && /no matching entries in passwd/.test(e.message),
    );
    await assert.rejects(resolveUser(r, "app:nogroup"), (e) => isDockyardError(e, "NOT_FOUND"));
  } finally {
    await rm(r, { recursive: true, force: true });
  }
});

test("runner: config.json namespaces, mounts and process", () => {
  const spec = {
    rootfs: "/r",
    args: ["/bin/sh", "-c", "true"],
    env: ["A=1"],
    cwd: "/srv",
    network: "none" as const,
    mounts: [{ type: "bind" as const, source: "/c", destination: "/cache" }],
  };
  const cfg = runtimeConfig(
    spec,
    { uid: 1, gid: 2, additionalGids: [3] },
    { hosts: "/h", resolv: "/rc" },
  ) as {
    process: { user: unknown; env: string[]; terminal: boolean; cwd: string };
    linux: { namespaces: { type: string }[] };
    mounts: { destination: string; options?: string[] }[];
  };
  assert.deepEqual(cfg.process.user, { uid: 1, gid: 2, additionalGids: [3] });
  assert.equal(cfg.process.terminal, false);
  assert.equal(cfg.process.cwd, "/srv");
  assert.ok(cfg.process.env[0]!.startsWith("PATH="), "a default PATH is added");
  assert.deepEqual(cfg.linux.namespaces.map((n) => n.type).sort(), ["ipc", "mount", "network", "pid", "uts"]);
  const dests = cfg.mounts.map((m) => m.destination);
  for (const d of [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/sys",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/cache",
  ])
    assert.ok(dests.includes(d), d);
  assert.ok(cfg.mounts.find((m) => m.destination === "/sys")!.options!.includes("ro"));
  const host = runtimeConfig(
    { ...spec, network: "host" },
    { uid: 0, gid: 0, additionalGids: [] },
    { hosts: "/h", resolv: "/rc" },
  ) as typeof cfg;
  assert.equal(
    host.linux.namespaces.some((n) => n.type === "network"),
    false,
    "--network host shares the host's network",
  );
});

test("copy: --chmod octal and symbolic", () => {
  assert.equal(parseChmod("755")!(0o644, false), 0o755);
  assert.equal(parseChmod("0640")!(0o777, true), 0o640);
  assert.equal(parseChmod("u+x")!(0o644, false), 0o744);
  assert.equal(parseChmod("go-w")!(0o666, false), 0o644);
  assert.equal(parseChmod("a=rX")!(0o644, false), 0o444);
  assert.equal(parseChmod("a=rX")!(0o644, true), 0o555);
  assert.equal(parseChmod("u=rwx,g=rx,o=")!(0o000, false), 0o750);
  assert.equal(parseChmod("rwx"), undefined);
  assert.equal(parseChmod("999"), undefined);
});

test("fsutil: paths resolve inside a root like a chroot", async () => {
  const r = await mkdtemp(join(tmpdir(), "dy-build-root-"));
  try {
    const { symlink } = await import("node:fs/promises");
    await mkdir(join(r, "real"));
    await symlink("/real", join(r, "abs"));
    await symlink("../../../..", join(r, "up"));
    assert.equal(await resolveInRoot(r, "/abs/x"), join(r, "real/x"));
    assert.equal(await resolveInRoot(r, "/up/etc/passwd"), join(r, "etc/passwd"));
    assert.equal(await resolveInRoot(r, "/../../etc"), join(r, "etc"));
  } finally {
    await rm(r, { recursive: true, force: true });
  }
});

test("runner: crun is preferred, runc first where crun cannot run (hybrid cgroups), DOCKYARD_RUNTIME wins", async () => {
  const { runtimeCandidates, crunUnsupportedHere } = await import("../../src/build/runner.js");
  assert.deepEqual(runtimeCandidates(undefined, false), ["crun", "runc"]);
  assert.deepEqual(runtimeCandidates(undefined, true), ["runc", "crun"]);
  assert.deepEqual(runtimeCandidates("runc", false), ["runc"]);
  const d = await mkdtemp(join(tmpdir(), "dy-build-cg-"));
  try {
    await writeFile(join(d, "with"), "hugetlb\n");
    await writeFile(join(d, "without"), "\n");
    assert.equal(crunUnsupportedHere(join(d, "with")), true);
    assert.equal(crunUnsupportedHere(join(d, "without")), false);
    assert.equal(crunUnsupportedHere(join(d, "missing")), false); // pure v1 or pure v2 host
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
