import { test } from "node:test";
import assert from "node:assert/strict";
import { TufClient, lookupTarget, allTargets } from "../../src/trust/tuf/client.js";
import { MemoryTufCache } from "../../src/trust/remote.js";
import { TrustError, type Guarantee } from "../../src/trust/tuf/errors.js";
import { DAY, expiryIn, signDocument } from "../../src/trust/tuf/metadata.js";
import { RepoBuilder, newSigner } from "./builder.js";

const GUN = "127.0.0.1:5000/team/app";
const manifest = Buffer.from('{"schemaVersion":2}');

function client(b: RepoBuilder, cache = new MemoryTufCache(), now?: Date) {
  return new TufClient(GUN, b.remote(), cache, { now });
}

async function refused(p: Promise<unknown>, guarantee: Guarantee, msg?: RegExp): Promise<TrustError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TrustError, `expected a TrustError, got ${String(e)}`);
    assert.equal(e.guarantee, guarantee, `wrong guarantee for: ${e.message}`);
    if (msg) assert.match(e.message, msg);
    return e;
  }
  assert.fail(`expected a refusal (${guarantee})`);
}

test("a well-formed repository verifies, targets found in docker's order", async () => {
  const b = new RepoBuilder();
  const rel = newSigner("ed25519");
  b.delegate("targets/releases", [rel]);
  b.addTarget("v1", manifest);
  b.addTarget("v2", Buffer.from("other"), "targets/releases");
  b.addTarget("v1", Buffer.from("released"), "targets/releases");
  b.publish();
  const repo = await client(b).update();
  assert.equal(lookupTarget(repo, "v1")!.role, "targets/releases");
  assert.equal(lookupTarget(repo, "v2")!.role, "targets/releases");
  assert.equal(allTargets(repo).length, 3);
  assert.equal(lookupTarget(repo, "nope"), undefined);
});

test("rsa-pss and ecdsa signatures verify; a targets threshold of 2 of 3 is enforced", async () => {
  const b = new RepoBuilder();
  b.targetsSigners = [newSigner("rsa"), newSigner("ec"), newSigner("ed25519")];
  b.setRoleKeys({ targets: 2 });
  b.addTarget("v1", manifest);
  b.publish({ targetsSigners: b.targetsSigners.slice(0, 2) });
  await client(b).update();

  const c = new RepoBuilder();
  c.targetsSigners = [newSigner(), newSigner(), newSigner()];
  c.setRoleKeys({ targets: 2 });
  c.addTarget("v1", manifest);
  c.publish({ targetsSigners: c.targetsSigners.slice(0, 1) });
  await refused(
    client(c).update(),
    "threshold",
    /1 valid signature\(s\) by keys trusted for targets, the threshold is 2/,
  );
});

test("a target signed by an unknown key is refused", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish({ targetsSigners: [newSigner()] });
  await refused(client(b).update(), "signature", /not signed by any key trusted for targets/);
});

test("tampered targets (content changed after signing) is refused", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  // a MITM rewrites the digest in targets.json and every name it is served under
  for (const [name, bytes] of b.files) {
    if (!name.startsWith("targets")) continue;
    const doc = JSON.parse(Buffer.from(bytes).toString());
    doc.signed.targets.v1.hashes.sha256 = Buffer.alloc(32, 7).toString("base64");
    b.files.set(name, Buffer.from(JSON.stringify(doc)));
  }
  await refused(client(b).update(), "mix-and-match", /does not match the hash the snapshot records/);
});

test("a replayed older timestamp is refused (rollback)", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  const oldTs = b.files.get("timestamp.json")!;
  const cache = new MemoryTufCache();
  await client(b, cache).update();
  b.addTarget("v2", manifest);
  b.publish();
  await client(b, cache).update();
  b.files.set("timestamp.json", oldTs);
  await refused(client(b, cache).update(), "rollback", /timestamp version 1 is lower than expected/);
});

test("a replayed older snapshot (validly signed, newer timestamp) is refused (rollback)", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  const oldSnapshot = b.files.get("snapshot.json")!;
  b.publish();
  const cache = new MemoryTufCache();
  await client(b, cache).update();
  // the attacker controls the timestamp key here: a fresh timestamp pointing at the old snapshot
  b.timestamp.version += 1;
  b.timestamp.meta = { snapshot: (await import("../../src/trust/tuf/metadata.js")).fileMetaOf(oldSnapshot) };
  b.files.set("timestamp.json", signDocument(b.timestamp, b.timestampSigners));
  b.files.set(
    `snapshot.${(await import("../../src/trust/tuf/metadata.js")).sha256Hex(oldSnapshot)}.json`,
    oldSnapshot,
  );
  await refused(client(b, cache).update(), "rollback", /snapshot version 1 is lower than expected/);
});

test("expired metadata is refused (freeze): timestamp, and targets", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  await refused(
    client(b, new MemoryTufCache(), new Date(Date.now() + 30 * DAY)).update(),
    "freeze",
    /timestamp metadata expired/,
  );
  const c = new RepoBuilder();
  c.targets.expires = expiryIn(-DAY);
  c.publish();
  await refused(client(c).update(), "freeze", /targets metadata expired/);
});

test("mix-and-match: targets from another version than the snapshot records is refused", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  const oldTargets = b.files.get("targets.json")!;
  b.addTarget("v2", manifest);
  b.publish();
  // serve the older (validly signed) targets under the name the current snapshot asks for
  for (const name of [...b.files.keys()])
    if (/^targets\.[0-9a-f]{64}\.json$/.test(name) || name === "targets.json") b.files.set(name, oldTargets);
  await refused(client(b).update(), "mix-and-match");
});

test("a delegation signing outside its paths: the target is ignored, others kept", async () => {
  const b = new RepoBuilder();
  const qa = newSigner();
  b.delegate("targets/qa", [qa], ["qa/"]);
  b.addTarget("qa/one", manifest, "targets/qa");
  b.addTarget("prod/evil", manifest, "targets/qa");
  b.publish();
  const repo = await client(b).update();
  assert.ok(lookupTarget(repo, "qa/one", ["targets/qa"]));
  assert.equal(lookupTarget(repo, "prod/evil", ["targets/qa"]), undefined);
  assert.deepEqual(repo.ignored, [{ role: "targets/qa", name: "prod/evil" }]);
});

test("a delegation signed by a key its delegator does not name is refused", async () => {
  const b = new RepoBuilder();
  b.delegate("targets/releases", [newSigner()]);
  b.delegations.get("targets/releases")!.signers = [newSigner()];
  b.addTarget("v1", manifest, "targets/releases");
  b.publish();
  await refused(client(b).update(), "signature", /targets\/releases/);
});

test("root rotation: followed when signed by old and new roots, refused without the old", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  const cache = new MemoryTufCache();
  await client(b, cache).update();

  // v2: new root key, signed by old + new
  const oldRoot = b.rootSigners;
  b.rootSigners = [newSigner()];
  b.extraRootSigners = oldRoot;
  b.setRoleKeys();
  b.root.version = 2;
  b.publish({ rootToo: true });
  b.extraRootSigners = [];
  // v3: signed only by the v3 key (not by v2's): must be refused
  const v2Signers = b.rootSigners;
  b.rootSigners = [newSigner()];
  b.setRoleKeys();
  b.root.version = 3;
  b.publish({ rootToo: true });
  const repo = client(b, cache).update();
  await refused(repo, "signature", /root v3 metadata is not signed by any key of the trusted root v2/);
  // the client did walk to v2 (cached) before refusing v3
  const cachedRoot = JSON.parse(Buffer.from((await cache.load("root"))!).toString());
  assert.equal(cachedRoot.signed.version, 2);
  // a correct v3 (signed by v2's and v3's keys) is then followed
  b.publish({ rootToo: true, rootSigners: [...v2Signers, ...b.rootSigners] });
  const ok = await client(b, cache).update();
  assert.equal(ok.root.signed.version, 3);
});

test("root changed after signing is refused on first contact", async () => {
  const b = new RepoBuilder();
  b.publish();
  const doc = JSON.parse(Buffer.from(b.files.get("root.json")!).toString());
  doc.signed.roles.targets.threshold = 2;
  b.files.set("root.json", Buffer.from(JSON.stringify(doc)));
  await refused(client(b).update(), "signature", /does not verify/);
});

test("a repository with no trust data says so", async () => {
  const b = new RepoBuilder();
  await refused(client(b).update(), "signature", /has no trust data/);
});

test("a nested delegation cannot widen its delegator's paths", async () => {
  const b = new RepoBuilder();
  const qa = newSigner();
  const sub = newSigner();
  b.delegate("targets/qa", [qa], ["qa/"]);
  const qaDoc = b.delegations.get("targets/qa")!.doc;
  qaDoc.delegations = {
    keys: { [sub.id]: sub.key },
    roles: [{ name: "targets/qa/sub", keyids: [sub.id], threshold: 1, paths: [""] }],
  };
  b.delegations.set("targets/qa/sub", {
    doc: { _type: "Targets", expires: expiryIn(365 * DAY), targets: {}, version: 1 },
    signers: [sub],
  });
  b.addTarget("qa/fine", manifest, "targets/qa/sub");
  b.addTarget("prod/evil", manifest, "targets/qa/sub");
  b.publish();
  const repo = await client(b).update();
  assert.ok(lookupTarget(repo, "qa/fine", ["targets/qa/sub"]));
  assert.equal(lookupTarget(repo, "prod/evil", ["targets/qa/sub"]), undefined);
  assert.deepEqual(repo.ignored, [{ role: "targets/qa/sub", name: "prod/evil" }]);
});

test("a warm cache: snapshot and targets are not downloaded while the timestamp names the trusted bytes", async () => {
  const b = new RepoBuilder();
  b.addTarget("v1", manifest);
  b.publish();
  const cache = new MemoryTufCache();
  await new TufClient(GUN, b.remote(), cache).update();
  const warm = b.remote();
  const repo = await new TufClient(GUN, warm, cache).update();
  assert.ok(lookupTarget(repo, "v1"));
  assert.deepEqual(warm.requests, ["2.root.json", "timestamp.json"]);
  // a new targets version: the new timestamp names another snapshot, both are fetched and checked
  b.addTarget("v2", Buffer.from("two"));
  b.publish();
  const next = b.remote();
  const repo2 = await new TufClient(GUN, next, cache).update();
  assert.ok(lookupTarget(repo2, "v2"));
  assert.equal(
    next.requests.filter((f) => /^(snapshot|targets)\./.test(f)).length,
    2,
    next.requests.join(" "),
  );
  // a trusted copy altered on disk is not used: it no longer matches the recorded hash
  cache.files.set("targets", Buffer.from(String(cache.files.get("targets")).replace("v2", "v3")));
  const again = b.remote();
  const repo3 = await new TufClient(GUN, again, cache).update();
  assert.ok(lookupTarget(repo3, "v2"));
  assert.ok(
    again.requests.some((f) => f.startsWith("targets.")),
    again.requests.join(" "),
  );
});
