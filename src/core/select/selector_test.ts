import assert from "node:assert/strict";
import { seededRandom } from "../../../tests/helpers/random.ts";
import {
  allMessages,
  cand,
  NOW,
  OPTS,
  round,
  type Spec,
} from "../../../tests/helpers/selection.ts";
import { SourceSelector } from "./mod.ts";

/** 5 sources: true offset 0 ± jitter; falsetickers far apart from each other. */
function fiveSources(falsetickers: number, seed: number): Spec[] {
  const rand = seededRandom(seed);
  const specs: Spec[] = [];
  for (let i = 1; i <= 5; i++) {
    const isFalse = i <= falsetickers;
    specs.push({
      id: i,
      offset: isFalse ? 0.1 * i * (i % 2 ? 1 : -1) : (rand() - 0.5) * 2e-4,
      distance: 0.001 + rand() * 0.001,
    });
  }
  return specs;
}

Deno.test("1 or 2 falsetickers of 5: synchronised to a truechimer", () => {
  for (const f of [1, 2]) {
    const sel = new SourceSelector(OPTS);
    const specs = fiveSources(f, 10 + f);
    const r0 = round(sel, specs);
    assert.ok(r0.selectedId !== null && r0.selectedId > f, `selected ${r0.selectedId}`);
    // The reference is updated when the selected source has a new sample.
    const r = sel.select(NOW, specs.map(cand), r0.selectedId);
    for (let i = 1; i <= f; i++) assert.equal(r.status.get(i), "x");
    for (let i = f + 1; i <= 5; i++) assert.match(r.status.get(i)!, /[*+]/);
    assert.ok(r.combined !== null);
    assert.ok(Math.abs(r.combined.offset) < 2e-4);
    assert.equal(r.combined.combinedCount, 5 - f);
  }
});

Deno.test("3 of 5 falsetickers: 'only 2 of 5 sources agree', logged once", () => {
  const sel = new SourceSelector(OPTS);
  const msgs = allMessages(sel, fiveSources(3, 3), 5);
  const noMaj = msgs.filter((m) => m.startsWith("Can't synchronise"));
  assert.deepEqual(noMaj, ["Can't synchronise: no majority (only 2 of 5 sources agree)"]);
  const r = sel.select(NOW, fiveSources(3, 3).map(cand), 1);
  assert.equal(r.selectedId, null);
  assert.equal(r.combined, null);
  for (let i = 1; i <= 5; i++) assert.equal(r.status.get(i), "x");
});

Deno.test("4 of 5 falsetickers: 'no agreement among 5 sources'", () => {
  const sel = new SourceSelector(OPTS);
  const msgs = allMessages(sel, fiveSources(4, 4), 3);
  const noMaj = msgs.filter((m) => m.startsWith("Can't synchronise"));
  assert.deepEqual(noMaj, ["Can't synchronise: no majority (no agreement among 5 sources)"]);
});

Deno.test("losing the majority after selection unsynchronises and logs", () => {
  const sel = new SourceSelector(OPTS);
  const good = fiveSources(0, 5);
  const r1 = round(sel, good);
  assert.ok(r1.selectedId !== null);
  const r2 = round(sel, fiveSources(3, 5));
  assert.equal(r2.selectedId, null);
  const cs = fiveSources(3, 5).map(cand);
  sel.select(NOW, cs, 1);
  // The transition itself reported unsynchronise on the call that lost the majority.
  const sel2 = new SourceSelector(OPTS);
  round(sel2, good);
  const lost = sel2.select(NOW, fiveSources(3, 5).map(cand), 1);
  assert.equal(lost.unsynchronise, true);
  assert.match(lost.message!, /no majority \(only 2 of 5 sources agree\)/);
});

Deno.test("trust: trusted sources win the intersection; others must lie inside (T)", () => {
  const sel = new SourceSelector(OPTS);
  const specs: Spec[] = [
    { id: 1, offset: 0, distance: 0.001, trust: true },
    { id: 2, offset: 0.0005, distance: 0.001, trust: true },
    { id: 3, offset: 0.5, distance: 0.001 },
    { id: 4, offset: 0.5, distance: 0.001 },
    { id: 5, offset: 0.5, distance: 0.001 },
    { id: 6, offset: 0.0002, distance: 0.01 },
  ];
  const r = round(sel, specs);
  assert.ok(r.selectedId === 1 || r.selectedId === 2);
  assert.equal(r.status.get(3), "x");
  assert.equal(r.status.get(6), "T");
});

Deno.test("prefer restricts the choice (P); noselect is N", () => {
  const sel = new SourceSelector(OPTS);
  const r = round(sel, [
    { id: 1, offset: 0, distance: 0.0005 },
    { id: 2, offset: 0, distance: 0.002, prefer: true },
    { id: 3, offset: 0, distance: 0.0005, noselect: true },
  ]);
  assert.equal(r.selectedId, 2);
  assert.equal(r.status.get(1), "P");
  assert.equal(r.status.get(3), "N");
});

Deno.test("require and minsources give W", () => {
  const sel = new SourceSelector(OPTS);
  const r = round(sel, [
    { id: 1, offset: 0 },
    { id: 2, offset: 0 },
    { id: 3, offset: 0.5, require: true },
  ]);
  assert.equal(r.selectedId, null);
  assert.equal(r.status.get(1), "W");
  assert.equal(r.status.get(3), "x");
  const sel2 = new SourceSelector({ ...OPTS, minSources: 3 });
  const r2 = round(sel2, [{ id: 1, offset: 0 }, { id: 2, offset: 0 }]);
  assert.equal(r2.selectedId, null);
  assert.equal(r2.status.get(1), "W");
  // setMinSources (the NTS bootstrap quorum) takes effect at the next selection.
  const sel3 = new SourceSelector(OPTS);
  sel3.setMinSources(2);
  assert.equal(round(sel3, [{ id: 1, offset: 0 }]).selectedId, null);
  sel3.setMinSources(1);
  assert.equal(round(sel3, [{ id: 1, offset: 0 }]).selectedId, 1);
});

Deno.test("maxdistance, maxjitter, leap, stratum, stale and missing statistics", () => {
  const sel = new SourceSelector({ ...OPTS, maxDistance: 0.5, maxJitter: 0.01 });
  const r = round(sel, [
    { id: 1, offset: 0 },
    { id: 2, offset: 0, distance: 0.6 },
    { id: 3, offset: 0, stdDev: 0.02 },
    { id: 4, offset: 0, leap: 3 },
    { id: 5, offset: 0, stratum: 16 },
    { id: 6, offset: 0, reachability: 0, lastAgo: 5000, firstAgo: 6000 },
    { id: 7, offset: 0, selectOk: null },
    // Stale data: 2·last − first = 2·0.3e6 − 0.4e6 s at 1 ppm adds 0.2 s of distance.
    { id: 8, offset: 0, distance: 0.4, lastAgo: 3e5, firstAgo: 4e5 },
  ]);
  assert.equal(r.selectedId, 1);
  assert.equal(r.status.get(2), "d");
  assert.equal(r.status.get(3), "~");
  assert.equal(r.status.get(4), "s");
  assert.equal(r.status.get(5), "r");
  assert.equal(r.status.get(6), "S");
  assert.equal(r.status.get(7), "M");
  assert.equal(r.status.get(8), "d");
});

Deno.test("a new source waits for an update (U) and start-up waits for statistics (w)", () => {
  const sel = new SourceSelector(OPTS);
  const cs = [cand({ id: 1, offset: 0 }), cand({ id: 2, offset: 0 })];
  const r = sel.select(NOW, cs, null);
  assert.equal(r.selectedId, null);
  assert.equal(r.status.get(1), "U");
  const sel2 = new SourceSelector(OPTS);
  const early = [
    { ...cand({ id: 1, offset: 0 }), reachability: 0b111, reachabilitySize: 3 },
    { ...cand({ id: 2, offset: 0, selectOk: false }), reachability: 0b11, reachabilitySize: 3 },
  ];
  const w = sel2.select(NOW, early, 1);
  assert.equal(w.status.get(1), "w");
  assert.equal(w.selectedId, null);
});

Deno.test("hysteresis keeps the current source when scores are close", () => {
  const sel = new SourceSelector(OPTS);
  const a: Spec = { id: 1, offset: 0, distance: 0.0010 };
  const b: Spec = { id: 2, offset: 0, distance: 0.0012 };
  const r1 = sel.select(NOW, [cand(a)], 1);
  assert.equal(r1.selectedId, 1);
  // Now b is slightly better than a (by less than reselectdist): a stays selected.
  const close = [cand({ ...a, distance: 0.00105 }), cand({ ...b, distance: 0.00100 })];
  for (let i = 0; i < 200; i++) {
    const r = sel.select(NOW, close, (i % 2) + 1);
    assert.equal(r.selectedId, 1, `round ${i}`);
  }
  // A much better source takes over once its score exceeds 10.
  const far = [cand({ ...a, distance: 0.002 }), cand({ ...b, distance: 0.0005 })];
  let switched = -1;
  for (let i = 0; i < 20 && switched < 0; i++) {
    const r = sel.select(NOW, far, (i % 2) + 1);
    if (r.selectedId === 2) {
      switched = i;
      assert.equal(r.message, "Selected source 10.0.0.2");
    }
  }
  assert.ok(switched > 0, "switched after a few updates, not at once");
});

Deno.test("combining: weights, distant sources (D), leap vote", () => {
  const sel = new SourceSelector(OPTS);
  const specs: Spec[] = [
    { id: 1, offset: 0.0001, distance: 0.001, leap: 1 },
    { id: 2, offset: 0.0003, distance: 0.001, leap: 1 },
    { id: 3, offset: 0.0002, distance: 0.02, leap: 0 },
    { id: 4, offset: 0.0002, distance: 0.001, freqPpm: 5, leap: 0 },
  ];
  const r0 = round(sel, specs);
  const r = sel.select(NOW, specs.map(cand), r0.selectedId);
  assert.ok(r.combined);
  assert.equal(r.status.get(3), "D");
  assert.equal(r.status.get(4), "D");
  assert.equal(r.combined.combinedCount, 2);
  assert.ok(Math.abs(r.combined.offset - 0.0002) < 1e-9, `offset ${r.combined.offset}`);
  // 2 of 4 vote insert: not more than half.
  assert.equal(r.combined.leapVote, 0);
  const sel2 = new SourceSelector(OPTS);
  const r2 = sel2.select(
    NOW,
    specs.slice(0, 3).map(cand),
    round(sel2, specs.slice(0, 3)).selectedId,
  );
  assert.equal(r2.combined!.leapVote, 1);
});

Deno.test("no sources and forgetting the selected source", () => {
  const sel = new SourceSelector(OPTS);
  const r = sel.select(NOW, [cand({ id: 1, offset: 0 })], 1);
  assert.equal(r.selectedId, 1);
  const none = sel.select(NOW, [], null);
  assert.equal(none.selectedId, null);
  assert.equal(none.message, "Can't synchronise: no sources");
});

Deno.test("bad sources are reported for replacement and logged after 4 updates", () => {
  const sel = new SourceSelector({ ...OPTS, maxDistance: 0.5 });
  const specs: Spec[] = [
    { id: 1, offset: 0 },
    { id: 2, offset: 0 },
    { id: 3, offset: 0, distance: 0.8 },
  ];
  const cs = specs.map(cand);
  const replaced: number[] = [];
  const texts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = sel.select(NOW, cs, 3);
    replaced.push(...r.replaceIds);
    texts.push(...r.messages.map((m) => m.text));
  }
  assert.deepEqual(replaced, [3]);
  assert.ok(texts.includes("Root distance of 10.0.0.3 exceeds maxdistance of 0.500 seconds"));
});

Deno.test("maxunreach makes an unreachable source stale (S)", () => {
  const sel = new SourceSelector(OPTS);
  const a = cand({ id: 1, offset: 0 });
  const b = { ...cand({ id: 2, offset: 0, reachability: 0, lastAgo: 5, firstAgo: 2000 }) };
  let r = sel.select(NOW, [a, b], 1);
  assert.notEqual(r.status.get(2), "S");
  r = sel.select(NOW, [a, { ...b, unreachableRun: 200_000 }], 1);
  assert.equal(r.status.get(2), "S");
});

Deno.test("orphan mode: sources at the orphan stratum are O; the smallest refid is selected", () => {
  const sel = new SourceSelector({ ...OPTS, orphanStratum: 5, localRefId: 0x7f7f0101 });
  const o1 = { ...cand({ id: 1, offset: 0, stratum: 5 }), refId: 0x0a000002 };
  const o2 = { ...cand({ id: 2, offset: 0, stratum: 5 }), refId: 0x0a000001 };
  const r = sel.select(NOW, [o1, o2], 2);
  assert.equal(r.selectedId, 2);
  assert.equal(r.status.get(1), "O");
  const sel2 = new SourceSelector({ ...OPTS, orphanStratum: 5, localRefId: 0x01000000 });
  const r2 = sel2.select(NOW, [o1, o2], 2);
  assert.equal(r2.selectedId, null);
});

Deno.test("fuzz: random candidates give valid statuses and at most one selected source", () => {
  const rand = seededRandom(2024);
  const valid = new Set("N M s r d ~ w S O T x W P U D + *".split(" "));
  const sel = new SourceSelector(OPTS);
  for (let round = 0; round < 300; round++) {
    const n = Math.floor(rand() * 7);
    const specs: Spec[] = [];
    for (let i = 1; i <= n; i++) {
      specs.push({
        id: i,
        offset: (rand() - 0.5) * (rand() < 0.3 ? 2 : 1e-3),
        distance: rand() < 0.1 ? 5 : rand() * 0.01,
        stdDev: rand() < 0.1 ? 2 : 1e-4,
        leap: rand() < 0.1 ? 3 : rand() < 0.1 ? 1 : 0,
        prefer: rand() < 0.2,
        trust: rand() < 0.2,
        require: rand() < 0.1,
        noselect: rand() < 0.1,
        reachability: rand() < 0.2 ? 0 : 0xff,
        selectOk: rand() < 0.1 ? null : rand() > 0.1,
      });
    }
    const r = sel.select(NOW, specs.map(cand), n > 0 ? 1 + Math.floor(rand() * n) : null);
    let stars = 0;
    for (const [, c] of r.status) {
      assert.ok(valid.has(c), `status ${c}`);
      if (c === "*") stars++;
    }
    assert.ok(stars <= 1);
    if (r.selectedId !== null) assert.equal(r.status.get(r.selectedId), "*");
    if (r.combined !== null) assert.ok(Number.isFinite(r.combined.offset));
  }
});
