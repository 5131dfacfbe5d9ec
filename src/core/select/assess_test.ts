import assert from "node:assert/strict";
import { assessCandidate, staleWidenedInterval, summarizeAssessments } from "./assess.ts";
import {
  candidate as cand,
  OPTS as BASE_OPTS,
  selectionData as data,
} from "../../../tests/helpers/selection.ts";
import type { SelectionCandidate, SourceSelectorOptions } from "./types.ts";

const OPTS: SourceSelectorOptions = { ...BASE_OPTS, maxDistance: 0.5, maxJitter: 0.01 };

Deno.test("staleWidenedInterval: fresh data keep their interval", () => {
  const sel = data({ firstSampleAgo: 1000, lastSampleAgo: 500 });
  assert.deepEqual(staleWidenedInterval(sel, 1), { low: -0.001, high: 0.001, distance: 0.001 });
});

Deno.test("staleWidenedInterval: stale data widen by maxclockerror over 2·last − first", () => {
  const sel = data({ lowLimit: -0.1, highLimit: 0.1, rootDistance: 0.1 });
  // 2·3e5 − 4e5 = 2e5 s at 1 ppm: 0.2 s on each side and on the distance.
  const w = staleWidenedInterval({ ...sel, firstSampleAgo: 4e5, lastSampleAgo: 3e5 }, 1);
  assert.ok(Math.abs(w.low + 0.3) < 1e-12 && Math.abs(w.high - 0.3) < 1e-12, JSON.stringify(w));
  assert.ok(Math.abs(w.distance - 0.3) < 1e-12);
  // Twice the clock error, twice the widening.
  const w2 = staleWidenedInterval({ ...sel, firstSampleAgo: 4e5, lastSampleAgo: 3e5 }, 2);
  assert.ok(Math.abs(w2.distance - 0.5) < 1e-12);
});

Deno.test("assessCandidate: each rule gives its status, in chrony's order", () => {
  const status = (c: SelectionCandidate) => assessCandidate(c, OPTS).status;
  assert.equal(status(cand()), null);
  assert.equal(status(cand({ noselect: true, selection: null })), "N");
  assert.equal(status(cand({ selection: null })), "M");
  assert.equal(status(cand({ selection: data({ selectOk: false }) })), "M");
  assert.equal(status(cand({ selection: data({ leap: 3, stratum: 16 }) })), "s");
  assert.equal(status(cand({ selection: data({ stratum: 16, rootDistance: 1 }) })), "r");
  assert.equal(status(cand({ selection: data({ rootDistance: 0.6, stdDev: 1 }) })), "d");
  assert.equal(status(cand({ selection: data({ lowLimit: 0.002 }) })), "d");
  assert.equal(status(cand({ selection: data({ stdDev: 0.02 }) })), "~");
  // Exactly maxdistance is still selectable.
  assert.equal(status(cand({ selection: data({ rootDistance: 0.5 }) })), null);
});

Deno.test("assessCandidate: an interval whenever there are valid statistics", () => {
  assert.equal(assessCandidate(cand({ selection: null }), OPTS).interval, null);
  assert.equal(assessCandidate(cand({ noselect: true }), OPTS).interval, null);
  const d = assessCandidate(cand({ selection: data({ rootDistance: 0.6 }) }), OPTS);
  assert.deepEqual(d.interval, { low: -0.001, high: 0.001, distance: 0.6 });
  const none = assessCandidate(cand({ selection: null }), OPTS);
  assert.equal(none.stratum, 0);
  assert.equal(none.leap, 3);
});

Deno.test("summarizeAssessments: counts over the candidates", () => {
  const cands = [
    cand({ id: 1, noselect: true, require: true, reachability: 0 }),
    cand({ id: 2, reachability: 0, selection: data({ firstSampleAgo: 9000 }) }),
    cand({
      id: 3,
      reachability: 0b101,
      reachabilitySize: 3,
      selection: data({ firstSampleAgo: 700 }),
    }),
    cand({ id: 4, reachability: 0b11, reachabilitySize: 2, selection: null }),
    cand({ id: 5, reachability: 0xff, selection: null, pollsSinceGoodSample: 3 }),
    cand({ id: 6, reachability: 0xff, selection: data({ stdDev: 1 }) }),
  ];
  const s = summarizeAssessments(cands, cands.map((c) => assessCandidate(c, OPTS)));
  assert.equal(s.requireConfigured, true, "a noselect source's require still counts");
  assert.equal(s.unreachable, 1, "the noselect source is not counted");
  assert.equal(s.badStats, 2);
  assert.equal(s.maxBadReach, 0xff);
  assert.equal(s.maxBadReachSize, 8);
  assert.equal(s.maxStuckReachSize, 0, "source 5 is still collecting");
  assert.equal(s.maxSelReach, 0b101);
  assert.equal(s.maxSelReachSize, 8, "source 2 is selectable with a full register");
  assert.equal(s.maxReachSampleAgo, 700, "only reachable sources count");
});

Deno.test("summarizeAssessments: a source 8 polls without a good sample is stuck", () => {
  const stuck = [cand({ selection: null, pollsSinceGoodSample: 8 })];
  assert.equal(
    summarizeAssessments(stuck, stuck.map((c) => assessCandidate(c, OPTS))).maxStuckReachSize,
    8,
  );
  // Without the count the register size stands in for it (chrony's rule).
  const plain = [cand({ selection: null })];
  assert.equal(
    summarizeAssessments(plain, plain.map((c) => assessCandidate(c, OPTS))).maxStuckReachSize,
    8,
  );
});

Deno.test("assessCandidate: nothing heard since added or reset is 's' (chrony's leap unsynchronised)", () => {
  const status = (c: SelectionCandidate) => assessCandidate(c, OPTS).status;
  // chronyd 4.3 after `reset sources`: "s 127.0.0.1 ... ?" (reachability 0, no statistics).
  assert.equal(status(cand({ selection: null, reachability: 0 })), "s");
  // Heard from, but not enough samples yet: missing statistics.
  assert.equal(status(cand({ selection: null, reachability: 1 })), "M");
  assert.equal(status(cand({ selection: null, reachability: 0, noselect: true })), "N");
});
