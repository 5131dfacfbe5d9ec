import assert from "node:assert/strict";
import { hasMajority, intersect, noMajorityText, type VotingInterval } from "./intersection.ts";

const iv = (low: number, high: number, trust = false): VotingInterval => ({ low, high, trust });

Deno.test("intersect: the deepest overlap of the intervals", () => {
  const x = intersect([iv(-2, 2), iv(-1, 3), iv(0, 4), iv(10, 12)]);
  assert.equal(x.depth, 3);
  assert.equal(x.low, 0);
  assert.equal(x.high, 2);
  assert.equal(x.voters, 4);
  assert.equal(x.trustDepth, 0);
  assert.equal(hasMajority(x), true, "3 of 4");
});

Deno.test("intersect: intervals that only touch overlap (a low end sorts first)", () => {
  const x = intersect([iv(0, 1), iv(1, 2)]);
  assert.equal(x.depth, 2);
  assert.equal(x.low, 1);
  assert.equal(x.high, 1);
});

Deno.test("intersect: disjoint intervals agree only in ones", () => {
  const x = intersect([iv(0, 1), iv(2, 3), iv(4, 5)]);
  assert.equal(x.depth, 1);
  assert.equal(hasMajority(x), false);
  assert.equal(noMajorityText(x), "Can't synchronise: no majority (no agreement among 3 sources)");
});

Deno.test("intersect: trusted intervals win, and only they vote", () => {
  const x = intersect([iv(0, 1, true), iv(0.5, 1.5, true), iv(5, 6), iv(5, 6), iv(5, 6)]);
  assert.equal(x.trustDepth, 2);
  assert.equal(x.depth, 2);
  assert.equal(x.voters, 2);
  assert.equal(x.trustLow, 0.5);
  assert.equal(x.trustHigh, 1);
  assert.equal(hasMajority(x), true);
  // Two trusted sources that disagree: no majority among the trusted ones.
  const split = intersect([iv(0, 1, true), iv(2, 3, true), iv(0, 3), iv(0, 3)]);
  assert.equal(split.voters, 2);
  assert.equal(hasMajority(split), false);
  assert.equal(
    noMajorityText(split),
    "Can't synchronise: no majority (no agreement among 2 trusted sources)",
  );
});

Deno.test("hasMajority: strictly more than half", () => {
  const x = intersect([iv(0, 1), iv(0, 1), iv(5, 6), iv(7, 8)]);
  assert.equal(x.depth, 2);
  assert.equal(hasMajority(x), false, "2 of 4");
  assert.equal(noMajorityText(x), "Can't synchronise: no majority (only 2 of 4 sources agree)");
  assert.equal(hasMajority(intersect([iv(0, 1), iv(0, 1), iv(5, 6)])), true, "2 of 3");
  assert.equal(hasMajority(intersect([iv(0, 1)])), true, "1 of 1");
  assert.equal(hasMajority(intersect([])), false);
});
