import assert from "node:assert/strict";
import { candidate } from "../../../tests/helpers/selection.ts";
import { isOverdue, isSilent, overdueUpdate, silentReplaced } from "./tempus_rules.ts";

Deno.test("isSilent: the last 4 polls unanswered, with at least 4 polls made", () => {
  assert.equal(isSilent(candidate({ reachability: 0xf0 })), true);
  assert.equal(isSilent(candidate({ reachability: 0 })), true);
  assert.equal(isSilent(candidate({ reachability: 0xf8 })), false, "3 missed polls");
  assert.equal(isSilent(candidate({ reachability: 0xf1 })), false, "last poll answered");
  assert.equal(isSilent(candidate({ reachability: 0, reachabilitySize: 3 })), false);
  assert.equal(isSilent(candidate({ reachability: 0, reachabilitySize: 4 })), true);
});

Deno.test("silentReplaced: a silent source gives way to a comparable live one", () => {
  const silent = {
    cand: candidate({ id: 1, reachability: 0xf0 }),
    distance: 1e-3,
    lastSampleAgo: 500,
  };
  const live = { cand: candidate({ id: 2 }), distance: 3e-3, lastSampleAgo: 10 };
  assert.deepEqual(silentReplaced([silent, live]), [true, false]);
  // Three times the distance is the limit.
  assert.deepEqual(silentReplaced([silent, { ...live, distance: 3.001e-3 }]), [false, false]);
  // The live source must have the newer sample.
  assert.deepEqual(silentReplaced([silent, { ...live, lastSampleAgo: 500 }]), [false, false]);
  // Alone, or with every source silent, nothing changes.
  assert.deepEqual(silentReplaced([silent]), [false]);
  const otherSilent = { ...live, cand: candidate({ id: 2, reachability: 0 }) };
  assert.deepEqual(silentReplaced([silent, otherSilent]), [false, false]);
});

Deno.test("isOverdue: answering but 2+ polls without a good reply", () => {
  assert.equal(isOverdue(candidate({ pollsSinceGoodSample: 2 })), true);
  assert.equal(isOverdue(candidate({ pollsSinceGoodSample: 1 })), false);
  assert.equal(isOverdue(candidate({ pollsSinceGoodSample: 5, reachability: 0xfe })), false);
  assert.equal(isOverdue(candidate()), false, "reference clocks (no count) are never overdue");
});

Deno.test("overdueUpdate: only without the selected source's own sample and with another's", () => {
  const overdue = candidate({ pollsSinceGoodSample: 3 });
  assert.equal(overdueUpdate(overdue, false, true), true);
  assert.equal(overdueUpdate(overdue, true, true), false);
  assert.equal(overdueUpdate(overdue, false, false), false);
  assert.equal(overdueUpdate(candidate({ pollsSinceGoodSample: 0 }), false, true), false);
});
