import assert from "node:assert/strict";
import { type ScoreInput, scoreSources, shouldReselect, stratumDistance } from "./score.ts";

const SETTINGS = { minStratum: 1, stratumWeight: 1e-3, reselectDist: 1e-4 };

function input(distance: number, over: Partial<ScoreInput> = {}): ScoreInput {
  return { eligible: true, distance, stratum: 1, isNtp: true, score: 1, updated: false, ...over };
}

Deno.test("stratumDistance: stratumweight per stratum above the lowest", () => {
  assert.equal(stratumDistance(0.01, 3, 1, 1e-3), 0.012);
  assert.equal(stratumDistance(0.01, 1, 1, 1e-3), 0.01);
});

Deno.test("scoreSources: without a selected source, the inverse distance; best is the nearest", () => {
  const r = scoreSources(
    [input(0.0099), input(0.0049, { isNtp: false }), input(0.001, { eligible: false })],
    null,
    SETTINGS,
  );
  assert.ok(Math.abs(r.scores[0] - 100) < 1e-9, `${r.scores[0]} (reselectdist added)`);
  assert.ok(Math.abs(r.scores[1] - 1 / 0.0049) < 1e-9, "no reselectdist for a refclock");
  assert.equal(r.scores[2], 1);
  assert.deepEqual(r.penalised, [false, false, true]);
  assert.equal(r.best, 1);
  assert.equal(r.maxScore, r.scores[1]);
});

Deno.test("scoreSources: with a selected source, scores grow only on an update", () => {
  const current = { distance: 0.0202, updated: false };
  const inputs = [input(0.01, { score: 2 }), input(0.04, { score: 1.5, updated: true })];
  const r = scoreSources(inputs, current, SETTINGS);
  assert.equal(r.scores[0], 2, "neither it nor the selected source was updated");
  assert.equal(r.scores[1], 1, "0.0202 / 0.0401 · 1.5 < 1: held at 1");
  const both = scoreSources(inputs, { ...current, updated: true }, SETTINGS);
  assert.ok(Math.abs(both.scores[0] - 4) < 1e-9, `${both.scores[0]}`);
  assert.equal(both.best, 0);
});

Deno.test("scoreSources: ties go to the first; no eligible source, no best", () => {
  const r = scoreSources([input(0.01), input(0.01)], null, SETTINGS);
  assert.equal(r.best, 0);
  const none = scoreSources([input(0.01, { eligible: false })], null, SETTINGS);
  assert.equal(none.best, null);
  assert.equal(none.maxScore, 0);
});

Deno.test("shouldReselect: lost, or beaten by more than the score limit", () => {
  assert.equal(shouldReselect(false, true, 1), true);
  assert.equal(shouldReselect(true, true, 100), false);
  assert.equal(shouldReselect(true, false, 10), false);
  assert.equal(shouldReselect(true, false, 10.01), true);
});
