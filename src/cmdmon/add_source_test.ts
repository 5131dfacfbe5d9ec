import assert from "node:assert/strict";
import {
  ADD_SOURCE_FLAGS,
  ADD_SOURCE_VALUES,
  addSourceOptions,
  addSourceRequest,
  ADDSRC_ONLINE,
} from "./add_source.ts";
import { encodeRequest } from "./codec.ts";
import { REQ } from "./constants.ts";
import { REQUEST_LAYOUTS } from "./requests.ts";

const NTP_SOURCE_LAYOUT = REQUEST_LAYOUTS[REQ.ADD_SOURCE];

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("add server builds the request chronyc 4.3 sends", () => {
  const data = addSourceRequest(["server", "1.2.3.4"]);
  assert.ok(typeof data !== "string");
  const packet = encodeRequest({ command: REQ.ADD_SOURCE, sequence: 1, data });
  assert.equal(packet.length, 372);
  const tail =
    "0000007b000000060000000a0000006400000000000000080000000000000004ffffffffffffffff000000000000116c06c00000000000000aa000000000000004800000000000000000000100000000000000000000000000000000";
  assert.equal(hex(packet.subarray(20, 28)), "00000001312e322e");
  assert.equal(hex(packet.subarray(280)), tail);
  const pool = addSourceRequest(["pool", "pool.example", "iburst", "maxpoll", "8", "offline"]);
  assert.ok(typeof pool !== "string");
  assert.equal(pool.type, 3);
  assert.equal(pool.maxpoll, 8);
  assert.equal(pool.flags, 0x4);
  assert.equal(typeof addSourceRequest(["server"]), "string");
  assert.equal(typeof addSourceRequest(["server", "x", "minpoll"]), "string");
  assert.equal(typeof addSourceRequest(["server", "x", "frobnicate"]), "string");
});

Deno.test("one flag table: distinct bits, every valued option a distinct ADD_SOURCE field", () => {
  const bits = Object.values(ADD_SOURCE_FLAGS).map((f) => f.bit);
  assert.equal(new Set([...bits, ADDSRC_ONLINE]).size, bits.length + 1);
  for (const bit of bits) assert.equal(bit & (bit - 1), 0, `one bit: ${bit}`);
  const fields = Object.values(ADD_SOURCE_VALUES).map((v) => v.field);
  assert.equal(new Set(fields).size, fields.length);
  for (const field of fields) assert.ok(field in NTP_SOURCE_LAYOUT, field);
  // Every numeric field of the request but type and flags has a chronyc option word.
  const numeric = Object.keys(NTP_SOURCE_LAYOUT).filter((k) =>
    !["type", "name", "flags"].includes(k)
  );
  assert.deepEqual([...fields].sort(), numeric.sort());
});

Deno.test("chronyc's add options reach the server as SourceParams options, both ways", () => {
  const data = addSourceRequest([
    "server",
    "192.0.2.5",
    "iburst",
    "auto_offline",
    "xleave",
    "minpoll",
    "3",
    "maxpoll",
    "7",
    "key",
    "9",
    "filter",
    "5",
    "offline",
  ]);
  assert.ok(typeof data !== "string");
  const options = addSourceOptions(data);
  assert.equal(options.minPoll, 3);
  assert.equal(options.maxPoll, 7);
  assert.equal(options.key, 9);
  assert.equal(options.filter, 5);
  assert.equal(options.iburst, true);
  assert.equal(options.autoOffline, true);
  assert.equal(options.xleave, true);
  assert.equal(options.offline, true);
  assert.equal(options.prefer, false);
  // chronyc's "not set" defaults leave the daemon's own defaults alone.
  const plainData = addSourceRequest(["server", "192.0.2.5"]);
  assert.ok(typeof plainData !== "string");
  const plain = addSourceOptions(plainData);
  for (const unset of ["presend", "minSamples", "maxSamples", "key", "minDelay", "asymmetry"]) {
    assert.ok(!(unset in plain), unset);
  }
  for (const unset of ["filter", "version", "maxUnreach"]) assert.ok(!(unset in plain), unset);
  assert.equal(plain.offline, false);
  assert.equal(plain.maxDelay, 3);
});

Deno.test("option words are the table's own: Object.prototype names are invalid options", () => {
  for (const word of ["toString", "constructor", "hasOwnProperty", "__proto__"]) {
    assert.equal(addSourceRequest(["server", "192.0.2.1", word, "1"]), `Invalid option ${word}`);
  }
  assert.equal(addSourceRequest(["toString", "192.0.2.1"]), "Invalid syntax for add command");
});
