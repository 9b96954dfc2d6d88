import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotaryService, NotaryHttpError } from "../../src/trust/server/service.js";
import { MemoryTrustStorage, FsTrustStorage } from "../../src/trust/server/storage.js";
import { serveTrust } from "../../src/trust/server/standalone.js";
import { TrustRepository } from "../../src/trust/repository.js";
import { KeyStore } from "../../src/trust/keys/store.js";
import { MemoryTufCache } from "../../src/trust/remote.js";
import { TufClient, lookupTarget } from "../../src/trust/tuf/client.js";
import { NotaryRemote } from "../../src/trust/remote.js";
import { DAY, expiryIn, fileMetaOf, signDocument } from "../../src/trust/tuf/metadata.js";
import { generateKeyPair } from "../../src/trust/keys/generate.js";
import { RepoBuilder, newSigner } from "./builder.js";
import type { Signer } from "../../src/trust/tuf/keys.js";

const GUN = "127.0.0.1:5000/team/app";

/** A RepoBuilder whose timestamp key is the server's (as notary requires). */
async function builderFor(svc: NotaryService, gun = GUN): Promise<RepoBuilder> {
  const b = new RepoBuilder();
  const tsKey = await svc.getKey(gun, "timestamp");
  const fake: Signer = {
    key: tsKey,
    id: (await import("../../src/trust/tuf/keys.js")).keyId(tsKey),
    sign: () => assert.fail("server signs timestamps"),
  };
  b.timestampSigners = [fake];
  b.setRoleKeys();
  return b;
}

function uploads(
  b: RepoBuilder,
  roles: string[],
  opts: { targetsSigners?: Signer[]; rootSigners?: Signer[] } = {},
): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const r of roles) {
    if (r === "root")
      m.set(r, signDocument(b.root, opts.rootSigners ?? [...b.rootSigners, ...b.extraRootSigners]));
    else if (r === "targets") m.set(r, signDocument(b.targets, opts.targetsSigners ?? b.targetsSigners));
    else if (r === "snapshot") m.set(r, signDocument(b.snapshot, b.snapshotSigners));
    else m.set(r, signDocument(b.delegations.get(r)!.doc, b.delegations.get(r)!.signers));
  }
  return m;
}

/** A snapshot over the given uploads (+ stored bytes from `svc`), bumped. */
async function withSnapshot(
  svc: NotaryService,
  b: RepoBuilder,
  m: Map<string, Uint8Array>,
  gun = GUN,
): Promise<Map<string, Uint8Array>> {
  b.snapshot.version += 1;
  b.snapshot.meta = {};
  for (const role of ["root", "targets", ...b.delegations.keys()]) {
    const bytes = m.get(role) ?? (await svc.getMetadata(gun, `${role}.json`));
    if (bytes) b.snapshot.meta[role] = fileMetaOf(bytes);
  }
  m.set("snapshot", signDocument(b.snapshot, b.snapshotSigners));
  return m;
}

async function refusedUpdate(svc: NotaryService, m: Map<string, Uint8Array>, re: RegExp, gun = GUN) {
  await assert.rejects(svc.update(gun, m), (e: unknown) => {
    assert.ok(e instanceof NotaryHttpError, String(e));
    assert.ok(e.status >= 400 && e.status < 500);
    assert.match(e.message, re);
    return true;
  });
}

test("server: first publish, reads by role / version / checksum, timestamp key = root's", async () => {
  const svc = new NotaryService(new MemoryTrustStorage());
  const b = await builderFor(svc);
  b.addTarget("v1", Buffer.from("m"));
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["root", "targets"])));
  const ts = JSON.parse(Buffer.from((await svc.getMetadata(GUN, "timestamp.json"))!).toString());
  assert.equal(ts.signed.version, 1);
  const snapSha = Buffer.from(ts.signed.meta.snapshot.hashes.sha256, "base64").toString("hex");
  assert.ok(await svc.getMetadata(GUN, `snapshot.${snapSha}.json`));
  assert.ok(await svc.getMetadata(GUN, "1.root.json"));
  assert.equal(await svc.getMetadata(GUN, "2.root.json"), undefined);
  assert.equal(await svc.getMetadata(GUN, `root.${"0".repeat(64)}.json`), undefined);
  assert.equal(await svc.getMetadata("127.0.0.1:5000/other", "root.json"), undefined);
  // and a client verifies what the server serves
  const remote = { get: async (f: string) => svc.getMetadata(GUN, f) };
  const repo = await new TufClient(GUN, remote, new MemoryTufCache()).update();
  assert.ok(lookupTarget(repo, "v1"));
});

test("server: refuses replays, foreign keys, expiry, undelegated roles, paths, mix-and-match, root attacks", async () => {
  const svc = new NotaryService(new MemoryTrustStorage());
  const b = await builderFor(svc);
  const qa = newSigner();
  b.delegate("targets/qa", [qa], ["qa/"]);
  b.addTarget("v1", Buffer.from("m"));
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["root", "targets", "targets/qa"])));

  // same version again / a lower one
  await refusedUpdate(svc, uploads(b, ["targets"]), /rollback/);
  // a new version signed by an unknown key
  b.targets.version = 2;
  await refusedUpdate(
    svc,
    uploads(b, ["targets"], { targetsSigners: [newSigner()] }),
    /not signed by any key trusted for targets/,
  );
  // expired
  b.targets.expires = expiryIn(-DAY);
  await refusedUpdate(svc, uploads(b, ["targets"]), /freeze/);
  b.targets.expires = expiryIn(365 * DAY);
  // a delegation outside its paths
  b.delegations.get("targets/qa")!.doc.version = 2;
  b.addTarget("prod/x", Buffer.from("x"), "targets/qa");
  await refusedUpdate(svc, uploads(b, ["targets/qa"]), /outside its delegated paths/);
  // a role nobody delegated
  const m = new Map([
    [
      "targets/nobody",
      signDocument({ _type: "Targets", expires: expiryIn(DAY), targets: {}, version: 1 }, [qa]),
    ],
  ]);
  await refusedUpdate(svc, m, /not delegated by targets/);
  // a client-signed snapshot that records other targets (mix-and-match)
  const mm = await withSnapshot(svc, b, new Map());
  mm.set("targets", signDocument(b.targets, b.targetsSigners));
  await refusedUpdate(svc, mm, /mix-and-match/);
  // invalid role, uploaded timestamp, malformed JSON
  await refusedUpdate(svc, new Map([["nonsense", Buffer.from("{}")]]), /not a valid role name/);
  await refusedUpdate(svc, new Map([["timestamp", Buffer.from("{}")]]), /signed by the server/);
  await refusedUpdate(svc, new Map([["targets", Buffer.from('{"signed": ')]]), /not valid JSON/);
  // root: version skip, not signed by the old root, threshold unmet
  const old = b.rootSigners;
  b.root.version = 3;
  await refusedUpdate(svc, uploads(b, ["root"]), /exactly one above/);
  b.root.version = 2;
  b.rootSigners = [newSigner()];
  b.setRoleKeys();
  await refusedUpdate(svc, uploads(b, ["root"]), /not signed by any key of the current root v1/);
  b.rootSigners = old;
  b.setRoleKeys({ root: 2 });
  await refusedUpdate(svc, uploads(b, ["root"]), /threshold is 2/);
  // a root that changes the targets key without re-signed targets
  b.setRoleKeys();
  const oldTargets = b.targetsSigners;
  b.targetsSigners = [newSigner()];
  b.setRoleKeys();
  await refusedUpdate(svc, uploads(b, ["root"]), /re-signed with the new targets key/);
  b.targetsSigners = oldTargets;
  b.setRoleKeys();
  // a proper rotation: old + new root keys
  const next = newSigner();
  b.rootSigners = [next];
  b.setRoleKeys();
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["root"], { rootSigners: [...old, next] })));
  assert.ok(await svc.getMetadata(GUN, "2.root.json"));
  // targets for a GUN with no root
  await refusedUpdate(svc, uploads(b, ["targets"]), /first update must include root/, "127.0.0.1:5000/none");
});

test("server: server-held snapshot key signs snapshots; the timestamp is re-signed before it expires", async () => {
  let now = Date.now();
  const svc = new NotaryService(new MemoryTrustStorage(), {
    timestampExpiryMs: 3 * DAY,
    refreshMarginMs: 1 * DAY,
    now: () => new Date(now),
  });
  const b = await builderFor(svc);
  const snKey = await svc.getKey(GUN, "snapshot");
  b.snapshotSigners = [
    { key: snKey, id: (await import("../../src/trust/tuf/keys.js")).keyId(snKey), sign: () => assert.fail() },
  ];
  b.setRoleKeys();
  await svc.update(GUN, uploads(b, ["root", "targets"]));
  const v = async (f: string) =>
    JSON.parse(Buffer.from((await svc.getMetadata(GUN, f))!).toString()).signed.version;
  assert.equal(await v("snapshot.json"), 1);
  assert.equal(await v("timestamp.json"), 1);
  now += 2.5 * DAY; // within the refresh margin
  assert.equal(await v("timestamp.json"), 2);
  assert.equal(await v("timestamp.json"), 2);
});

test("server: an update is all-or-nothing when storage fails mid-way", async () => {
  const storage = new MemoryTrustStorage();
  const svc = new NotaryService(storage);
  const b = await builderFor(svc);
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["root", "targets"])));
  const before = await svc.getMetadata(GUN, "targets.json");
  const put = storage.put.bind(storage);
  let n = 0;
  storage.put = async (p, d) => {
    if (++n === 2) throw new Error("disk full");
    return put(p, d);
  };
  b.targets.version = 2;
  b.addTarget("v2", Buffer.from("x"));
  await assert.rejects(svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["targets"]))), /disk full/);
  storage.put = put;
  assert.deepEqual(await svc.getMetadata(GUN, "targets.json"), before);
});

test("publisher over HTTP: init, sign, signer, revoke, rotations; a cached client follows", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trust-pub-"));
  const { server, port } = await serveTrust({
    storage: new FsTrustStorage(join(dir, "srv")),
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const keys = new KeyStore(
      { base: join(dir, "keys"), rootKeys: join(dir, "offline-root") },
      async ({ role }) => (role === "root" ? "root-pass" : "repo-pass"),
    );
    const url = `http://127.0.0.1:${port}`;
    const repo = new TrustRepository({ gun: GUN, server: { url }, keys, cache: new MemoryTufCache() });
    await repo.init();
    const meta = (s: string) => fileMetaOf(Buffer.from(s));
    assert.deepEqual(await repo.addTarget("v1", meta("one")), ["targets"]);
    const consumerCache = new MemoryTufCache();
    const consumer = () => new TufClient(GUN, new NotaryRemote(GUN, { url }), consumerCache).update();
    assert.ok(lookupTarget(await consumer(), "v1"));

    // a signer: its key joins targets/releases and targets/alice
    const kp = generateKeyPair("ecdsa");
    const { publicTufKey } = await import("../../src/trust/keys/generate.js");
    await keys.add(kp.privateKey, publicTufKey(kp.privateKey), { role: "delegation", name: "alice" });
    await repo.addSigner("alice", kp.publicKey.export({ type: "spki", format: "pem" }).toString());
    assert.deepEqual((await repo.addTarget("v2", meta("two"))).sort(), ["targets/alice", "targets/releases"]);
    assert.equal(lookupTarget(await consumer(), "v2")!.role, "targets/releases");

    // rotations: every role; the consumer holding root v1 walks to the new root
    for (const role of ["root", "targets", "timestamp", "snapshot", "root"] as const) await repo.rotate(role);
    const after = await consumer();
    assert.equal(after.root.signed.version, 6);
    assert.ok(lookupTarget(after, "v1"));

    // the server's private keys (timestamp, and snapshot once rotated to it) are 0600 files
    const files = (await readdir(join(dir, "srv"), { recursive: true })).map((f) => join(dir, "srv", f));
    const keyFiles = files.filter((f) => /[/]keys[/](timestamp|snapshot)[/][^/]+\.json$/.test(f));
    assert.ok(
      keyFiles.some((f) => f.includes("/timestamp/")),
      files.join("\n"),
    );
    for (const f of keyFiles) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
    const state = files.find((f) => f.endsWith("state.json"));
    assert.ok(state && ((await stat(state)).mode & 0o777) === 0o644, "metadata stays readable");

    // revoke removes v2 from the roles we can sign; wrong passphrase is a clear error
    assert.deepEqual((await repo.removeTarget("v2")).sort(), ["targets/alice", "targets/releases"]);
    assert.equal(lookupTarget(await consumer(), "v2"), undefined);
    const bad = new KeyStore(keys.dirs, async () => "wrong");
    await assert.rejects(
      new TrustRepository({ gun: GUN, server: { url }, keys: bad, cache: new MemoryTufCache() }).addTarget(
        "v3",
        meta("x"),
      ),
      /wrong passphrase/,
    );
    // without the (offline) root key, rotation says where it looked
    const noRoot = new KeyStore(
      { base: keys.dirs.base, rootKeys: join(dir, "not-mounted") },
      async () => "repo-pass",
    );
    await assert.rejects(
      new TrustRepository({ gun: GUN, server: { url }, keys: noRoot, cache: new MemoryTufCache() }).rotate(
        "targets",
      ),
      /root key/,
    );

    await repo.deleteRemote();
    assert.equal(await repo.initialized(), false);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("server: a nested delegation may not sign outside its delegator's paths", async () => {
  const svc = new NotaryService(new MemoryTrustStorage());
  const b = await builderFor(svc);
  const qa = newSigner();
  const sub = newSigner();
  b.delegate("targets/qa", [qa], ["qa/"]);
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["root", "targets", "targets/qa"])));
  const qaDoc = b.delegations.get("targets/qa")!.doc;
  qaDoc.version = 2;
  qaDoc.delegations = {
    keys: { [sub.id]: sub.key },
    roles: [{ name: "targets/qa/sub", keyids: [sub.id], threshold: 1, paths: [""] }],
  };
  b.delegations.set("targets/qa/sub", {
    doc: { _type: "Targets", expires: expiryIn(DAY), targets: {}, version: 1 },
    signers: [sub],
  });
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["targets/qa"])));
  b.addTarget("qa/ok", Buffer.from("x"), "targets/qa/sub");
  await svc.update(GUN, await withSnapshot(svc, b, uploads(b, ["targets/qa/sub"])));
  const subDoc = b.delegations.get("targets/qa/sub")!.doc;
  subDoc.version = 2;
  b.addTarget("prod/evil", Buffer.from("x"), "targets/qa/sub");
  await refusedUpdate(
    svc,
    await withSnapshot(svc, b, uploads(b, ["targets/qa/sub"])),
    /outside its delegated paths/,
  );
});
