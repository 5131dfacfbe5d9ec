import assert from "node:assert/strict";
import { intersect, type VotingInterval } from "./intersection.ts";
import {
  insufficientSurvivors,
  leapVote,
  preferredSurvivors,
  survivorVerdict,
} from "./survivors.ts";

const iv = (low: number, high: number, trust = false): VotingInterval => ({ low, high, trust });

Deno.test("survivorVerdict: containing or inside the intersection survives, else x", () => {
  const x = intersect([iv(-2, 2), iv(-1, 3), iv(0, 4)]); // best [0, 2]
  assert.equal(survivorVerdict(iv(-2, 2), x), "survivor", "contains it");
  assert.equal(survivorVerdict(iv(0.5, 1.5), x), "survivor", "lies in it");
  assert.equal(survivorVerdict(iv(1, 3), x), "x", "only overlaps it");
  assert.equal(survivorVerdict(iv(5, 6), x), "x");
});

Deno.test("survivorVerdict: untrusted sources outside the trusted intersection are T", () => {
  const x = intersect([iv(0, 1, true), iv(0.5, 1.5, true), iv(0.6, 0.9), iv(-10, 10)]);
  assert.equal(survivorVerdict(iv(0.6, 0.9), x), "survivor", "inside the trusted one");
  assert.equal(survivorVerdict(iv(-10, 10), x), "T");
  assert.equal(survivorVerdict(iv(0, 1, true), x), "survivor");
  // Holding the best intersection is not enough: it must lie in the trusted one.
  const y = intersect([iv(0, 1, true), iv(0.5, 1.5, true), iv(0.4, 0.9)]);
  assert.equal(survivorVerdict(iv(0.4, 0.9), y), "T", "starts before the trusted 0.5");
  const z = intersect([iv(0, 1, true), iv(0.5, 1.5, true), iv(0.6, 1.1)]);
  assert.equal(survivorVerdict(iv(0.6, 1.1), z), "T", "ends after the trusted 1");
});

Deno.test("insufficientSurvivors: none, require unmet, minsources", () => {
  const plain = { require: false };
  const required = { require: true };
  assert.equal(insufficientSurvivors([plain], false, 1), null);
  assert.equal(
    insufficientSurvivors([], false, 1),
    "Can't synchronise: no selectable sources",
  );
  assert.equal(
    insufficientSurvivors([plain, plain], true, 1),
    "Can't synchronise: no required source in selectable sources",
  );
  assert.equal(insufficientSurvivors([plain, required], true, 1), null);
  assert.equal(
    insufficientSurvivors([plain, plain], false, 3),
    "Can't synchronise: not enough selectable sources",
  );
});

Deno.test("leapVote: more than half of the (trusted) survivors", () => {
  const s = (leap: 0 | 1 | 2, trust = false) => ({ leap, trust });
  assert.equal(leapVote([s(1), s(1), s(0)], false), 1);
  assert.equal(leapVote([s(1), s(1), s(0), s(0)], false), 0, "half is not enough");
  assert.equal(leapVote([s(2), s(2), s(1)], false), 2);
  assert.equal(leapVote([s(1, true), s(0), s(0)], true), 1, "only the trusted one votes");
  assert.equal(leapVote([], false), 0);
});

Deno.test("preferredSurvivors: the preferred ones, or null when none is", () => {
  const a = { id: 1, prefer: false };
  const b = { id: 2, prefer: true };
  assert.deepEqual(preferredSurvivors([a, b], (s) => s.prefer), [b]);
  assert.equal(preferredSurvivors([a], (s) => s.prefer), null);
});
