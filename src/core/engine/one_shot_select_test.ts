import assert from "node:assert/strict";
import { type OneShotInput, selectOneShot } from "./one_shot_select.ts";

const NOW = 1_800_000_000_000_000_000n;

function input(id: string, offset: number, rootDistance = 0.01): OneShotInput {
  return {
    id,
    offset,
    rootDistance,
    rootDelay: rootDistance,
    rootDispersion: rootDistance / 2,
    stratum: 2,
    leap: 0,
  };
}

Deno.test("one server is its own majority", () => {
  const r = selectOneShot([input("a", 0.2)], NOW);
  assert.ok(r.ok);
  assert.equal(r.offset, 0.2);
  assert.deepEqual(r.survivors, ["a"]);
  assert.deepEqual(r.combined, ["a"]);
  assert.equal(r.status.get("a"), "*");
});

Deno.test("a falseticker is rejected by the majority, the rest combined", () => {
  const r = selectOneShot([input("a", 0.001), input("b", 0.003), input("c", 5.0)], NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.falsetickers, ["c"]);
  assert.deepEqual(r.survivors, ["a", "b"]);
  assert.deepEqual(r.combined, ["a", "b"]);
  assert.ok(Math.abs(r.offset - 0.002) < 1e-9, `${r.offset}`);
  assert.equal(r.rootDistance, 0.01);
});

Deno.test("a far survivor is kept out of the combination (combinelimit)", () => {
  const r = selectOneShot([input("a", 0.001, 0.001), input("b", 0.0015, 0.05)], NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.combined, ["a"]);
  assert.deepEqual(r.survivors, ["a", "b"]);
  assert.equal(r.offset, 0.001);
});

Deno.test("two disagreeing servers give no majority; none gives a reason too", () => {
  const r = selectOneShot([input("a", 0), input("b", 1)], NOW);
  assert.equal(r.ok, false);
  assert.match(r.message ?? "", /no majority/);
  assert.deepEqual(r.falsetickers, ["a", "b"]);
  const none = selectOneShot([], NOW);
  assert.equal(none.ok, false);
  assert.ok((none.message ?? "").length > 0);
});

Deno.test("a server beyond maxdistance is neither a survivor nor a falseticker", () => {
  const r = selectOneShot([input("a", 0.001), input("b", 0.002), input("far", 0.001, 5)], NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.survivors, ["a", "b"]);
  assert.deepEqual(r.falsetickers, []);
  assert.notEqual(r.status.get("far"), "x");
});
