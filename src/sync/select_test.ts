import assert from "node:assert/strict";
import { selectAndCombine } from "./select.ts";

Deno.test("one server is its own majority", () => {
  const r = selectAndCombine([{ id: "a", offset: 0.2, rootDistance: 0.01 }]);
  assert.ok(r.ok);
  assert.equal(r.offset, 0.2);
  assert.deepEqual(r.survivors, ["a"]);
});

Deno.test("a falseticker is rejected by the majority", () => {
  const r = selectAndCombine([
    { id: "a", offset: 0.001, rootDistance: 0.01 },
    { id: "b", offset: 0.003, rootDistance: 0.01 },
    { id: "c", offset: 5.0, rootDistance: 0.01 },
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.falsetickers, ["c"]);
  assert.deepEqual(r.survivors, ["a", "b"]);
  assert.ok(Math.abs(r.offset - 0.002) < 1e-12);
  assert.ok(r.interval !== null && r.interval.low <= 0.002 && r.interval.high >= 0.002);
});

Deno.test("two disagreeing servers give no majority", () => {
  const r = selectAndCombine([
    { id: "a", offset: 0, rootDistance: 0.01 },
    { id: "b", offset: 1, rootDistance: 0.01 },
  ]);
  assert.equal(r.ok, false);
  assert.match(r.message ?? "", /no majority/);
  assert.deepEqual(r.falsetickers, ["a", "b"]);
  assert.equal(selectAndCombine([]).ok, false);
});

Deno.test("weights are 1/distance; distant survivors are not combined", () => {
  const r = selectAndCombine([
    { id: "near", offset: 0.0, rootDistance: 0.01 },
    { id: "mid", offset: 0.006, rootDistance: 0.02 },
    { id: "far", offset: 0.05, rootDistance: 0.1 },
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.survivors, ["near", "mid", "far"]);
  assert.deepEqual(r.combined, ["near", "mid"]);
  // (0/0.01 + 0.006/0.02) / (1/0.01 + 1/0.02) = 0.3 / 150 = 0.002
  assert.ok(Math.abs(r.offset - 0.002) < 1e-12);
});

Deno.test("touching intervals intersect", () => {
  const r = selectAndCombine([
    { id: "a", offset: 0, rootDistance: 1 },
    { id: "b", offset: 2, rootDistance: 1 },
    { id: "c", offset: 1, rootDistance: 0.5 },
  ]);
  assert.ok(r.ok);
  assert.equal(r.survivors.length, 3);
});
