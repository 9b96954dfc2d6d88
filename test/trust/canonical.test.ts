import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalize } from "../../src/trust/tuf/canonical.js";
import { createHash } from "node:crypto";
import { keyId } from "../../src/trust/tuf/keys.js";
import { DAY, expiryIn } from "../../src/trust/tuf/metadata.js";

test("canonical JSON: sorted keys, no whitespace, integers, only quote and backslash escaped", () => {
  assert.equal(
    canonicalize({ b: 1, a: [true, null, "x"], c: { z: 0, y: -3 } }),
    '{"a":[true,null,"x"],"b":1,"c":{"y":-3,"z":0}}',
  );
  assert.equal(canonicalize('say "hi" \\ <&>'), '"say \\"hi\\" \\\\ <&>"');
  assert.equal(canonicalize("line\nbreak\ttab"), '"line\nbreak\ttab"'); // raw, as OLPC canonical JSON
  assert.equal(canonicalize("é✓"), '"é✓"');
  assert.throws(() => canonicalize(1.5), /integers only/);
  assert.equal(canonicalize({ x: undefined, y: 1 }), '{"y":1}');
  // keys in UTF-8 byte order: U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80)
  assert.equal(canonicalize({ "\u{1F600}": 1, "\uFF61": 2 }), '{"\uFF61":2,"\u{1F600}":1}');
});

test("key ids are notary's: sha256 of the canonical key with private null", () => {
  // the id the interop script computes with printf for a timestamp key
  const k = { keytype: "ecdsa", keyval: { private: null, public: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" } };
  const want = createHash("sha256")
    .update('{"keytype":"ecdsa","keyval":{"private":null,"public":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}}')
    .digest("hex");
  assert.equal(keyId(k), want);
});

test("expiries are whole seconds: Go (notary-server) re-encodes them byte for byte", () => {
  // Go's time format drops a fraction's trailing zeros (.120 → .12): a re-encoded role would
  // differ from the signed bytes, and notary-server's snapshot would name bytes it does not hold
  for (const ms of [0, 120, 100, 999, 1])
    assert.equal(expiryIn(0, Date.UTC(2027, 11, 1, 14, 20, 1, ms)), "2027-12-01T14:20:01Z");
  assert.equal(expiryIn(DAY, Date.UTC(2027, 11, 1, 14, 20, 1, 500)), "2027-12-02T14:20:01Z");
});
