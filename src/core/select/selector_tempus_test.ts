import assert from "node:assert/strict";
import { cand, NOW, OPTS, round } from "../../../tests/helpers/selection.ts";
import { SourceSelector } from "./mod.ts";

// The rules tempus adds to chrony's, through the selector's API (tempus_rules.ts, startup.ts).

Deno.test("a source silent for 4 polls is stale (S) while a comparable source answers", () => {
  const silent = { id: 1, offset: 0, distance: 0.001, reachability: 0xf0, lastAgo: 5000 };
  const live = { id: 2, offset: 0, distance: 0.0015, firstAgo: 20000, lastAgo: 10 };
  const dead = { ...silent, firstAgo: 20000 };
  let r = round(new SourceSelector(OPTS), [dead, live]);
  assert.equal(r.status.get(1), "S");
  assert.equal(r.selectedId, 2);
  // Three missed polls are not enough.
  r = round(new SourceSelector(OPTS), [{ ...dead, reachability: 0xf8 }, live]);
  assert.notEqual(r.status.get(1), "S");
  // A much more distant live source (chrony's 150 scenario) does not replace it.
  r = round(new SourceSelector(OPTS), [dead, { ...live, distance: 0.5 }]);
  assert.notEqual(r.status.get(1), "S");
  // Alone, or with every source silent, nothing changes.
  r = round(new SourceSelector(OPTS), [dead]);
  assert.notEqual(r.status.get(1), "S");
  r = round(new SourceSelector(OPTS), [dead, { ...live, reachability: 0xf0 }]);
  assert.notEqual(r.status.get(1), "S");
});

Deno.test("a source still collecting samples is not reported before the first selection", () => {
  // Reachable for 8 polls but without statistics yet (selectOk false).
  const collecting = (polls: number) => ({
    ...cand({ id: 1, offset: 0, selectOk: false }),
    pollsSinceGoodSample: polls,
  });
  const sel = new SourceSelector(OPTS);
  const quiet = sel.select(NOW, [collecting(2)], 1);
  assert.equal(quiet.selectedId, null);
  assert.deepEqual(quiet.messages.map((m) => m.text), []);
  // Eight polls without a good sample (e.g. every reply over maxdelay): reported once.
  const stuck = sel.select(NOW, [collecting(8)], 1);
  assert.deepEqual(stuck.messages.map((m) => m.text), [
    "Can't synchronise: no selectable sources (0 unreachable sources)",
  ]);
  assert.deepEqual(sel.select(NOW, [collecting(9)], 1).messages, []);
  // Without the field (reference clocks, older callers) the full register counts, as in chrony.
  const plain = new SourceSelector(OPTS);
  assert.equal(
    plain.select(NOW, [cand({ id: 1, offset: 0, selectOk: false })], 1).messages.length,
    1,
  );
});

Deno.test("an overdue selected source that still answers lets a combined source update", () => {
  // Source 1 (nearest) is selected; then only source 2 gets new samples.
  const specs = (polls1: number, reach1: number, distance2 = 0.0015) => [
    {
      ...cand({ id: 1, offset: 1e-4, distance: 0.001, reachability: reach1 }),
      pollsSinceGoodSample: polls1,
    },
    { ...cand({ id: 2, offset: 2e-4, distance: distance2 }), pollsSinceGoodSample: 0 },
  ];
  const sel = new SourceSelector(OPTS);
  const first = specs(0, 0xff);
  sel.select(NOW, first, 1);
  sel.select(NOW, first, 2);
  assert.equal(sel.select(NOW, first, 1).selectedId, 1);
  // One poll without a good sample: chrony's rule, no update from source 2.
  assert.equal(sel.select(NOW, specs(1, 0xff), 2).combined, null);
  // Two polls whose replies all failed the tests: source 2's sample updates.
  const overdue = sel.select(NOW, specs(2, 0xff), 2);
  assert.equal(overdue.selectedId, 1);
  assert.ok(overdue.combined);
  assert.equal(overdue.combined.combinedCount, 2);
  // Silent (last poll unanswered): no update, as in chrony.
  assert.equal(sel.select(NOW, specs(3, 0xfe), 2).combined, null);
  // Without the count (reference clocks) never overdue.
  const plain = specs(5, 0xff).map(({ pollsSinceGoodSample: _, ...c }) => c);
  assert.equal(sel.select(NOW, plain, 2).combined, null);
});

Deno.test("an overdue update is dropped when the new sample's source is not combined", () => {
  const sel = new SourceSelector(OPTS);
  // Source 2 is far (distance 10 times the selected one): selectable but not combined.
  const specs = (polls1: number) => [
    { ...cand({ id: 1, offset: 1e-4, distance: 0.001 }), pollsSinceGoodSample: polls1 },
    { ...cand({ id: 2, offset: 2e-4, distance: 0.01 }), pollsSinceGoodSample: 0 },
  ];
  sel.select(NOW, specs(0), 1);
  sel.select(NOW, specs(0), 2);
  assert.equal(sel.select(NOW, specs(0), 1).selectedId, 1);
  assert.equal(sel.select(NOW, specs(4), 2).combined, null);
});
