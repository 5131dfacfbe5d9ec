import assert from "node:assert/strict";
import { LocalReference } from "./local_reference.ts";

const LOCAL = {
  stratum: 8,
  distance: 1,
  orphan: false,
  waitUnsynced: 300,
  waitSynced: 0,
  activate: 0,
};
const SYNCED = { synchronised: true, rootDistance: 2, sinceUpdate: 10, sinceUnsync: 0 };
const UNSYNCED = { synchronised: false, rootDistance: 0, sinceUpdate: 0, sinceUnsync: 300 };

Deno.test("local reference: off without settings", () => {
  assert.equal(new LocalReference(null).active(SYNCED), false);
  assert.equal(new LocalReference(null).active(UNSYNCED), false);
});

Deno.test("local reference: synchronised, serves only above `distance` after `waitsynced`", () => {
  const local = new LocalReference({ ...LOCAL, waitSynced: 10 });
  assert.equal(local.active(SYNCED), true);
  assert.equal(local.active({ ...SYNCED, rootDistance: 1 }), false);
  assert.equal(local.active({ ...SYNCED, sinceUpdate: 9 }), false);
});

Deno.test("local reference: unsynchronised, serves after `waitunsynced`", () => {
  const local = new LocalReference(LOCAL);
  assert.equal(local.active(UNSYNCED), true);
  assert.equal(local.active({ ...UNSYNCED, sinceUnsync: 299 }), false);
});

Deno.test("local reference: `activate` waits for a synchronised update below it", () => {
  const local = new LocalReference({ ...LOCAL, activate: 0.5 });
  assert.equal(local.active(UNSYNCED), false);
  local.noteSynchronisedUpdate(0.6);
  assert.equal(local.active(UNSYNCED), false);
  local.noteSynchronisedUpdate(0.4);
  assert.equal(local.active(UNSYNCED), true);
  local.config = null;
  assert.equal(local.active(UNSYNCED), false);
});
