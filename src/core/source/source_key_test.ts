import assert from "node:assert/strict";
import type { SymmetricKey } from "../../ntp/keyfile.ts";
import { SourceKey } from "./source_key.ts";

const KEY: SymmetricKey = {
  id: 7,
  type: "SHA1",
  value: new TextEncoder().encode("secret"),
  line: 1,
};

Deno.test("a configured key found in the keyfile is used and checked", () => {
  const k = new SourceKey(7, KEY);
  assert.equal(k.key, KEY);
  assert.equal(k.missing, false);
  assert.equal(k.auth?.keyId, 7);
  assert.equal(k.auth?.keys.get(7), KEY);
  assert.equal(k.reportMissing(), false);
});

Deno.test("no key configured: no key, nothing missing", () => {
  const k = new SourceKey(null, KEY);
  assert.equal(k.key, null);
  assert.equal(k.auth, null);
  assert.equal(k.missing, false);
  assert.equal(k.reportMissing(), false);
});

Deno.test("a missing key is reported once", () => {
  const k = new SourceKey(9, null);
  assert.equal(k.key, null);
  assert.equal(k.auth, null);
  assert.equal(k.missing, true);
  assert.equal(k.reportMissing(), true);
  assert.equal(k.reportMissing(), false);
});
