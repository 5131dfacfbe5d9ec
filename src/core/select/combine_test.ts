import assert from "node:assert/strict";
import { NOW } from "../../../tests/helpers/selection.ts";
import { type CombineInput, combineSources, tooDistant } from "./combine.ts";
import type { TrackingData } from "./types.ts";

const SETTINGS = { combineLimit: 3, maxClockError: 1, selectedMargin: 0 };

function tracking(offset: number, over: Partial<TrackingData> = {}): TrackingData {
  return {
    refTime: NOW,
    offset,
    offsetSd: 1e-4,
    frequencyPpm: 0,
    frequencySdPpm: 0.01,
    skewPpm: 0.05,
    rootDelay: 0.001,
    rootDispersion: 0.0005,
    ...over,
  };
}

function input(tr: TrackingData | null, distance: number, distant = 0): CombineInput {
  return { tracking: tr, distance, reachabilitySize: 8, distant };
}

Deno.test("combineSources: one survivor is the estimate as it stands", () => {
  const base = tracking(1e-3);
  const r = combineSources([input(base, 0.001, 3)], 0, base, SETTINGS);
  assert.equal(r.estimate, base);
  assert.equal(r.combinedCount, 1);
  assert.deepEqual(r.distant, [3]);
  assert.deepEqual(r.outcome, [null]);
});

Deno.test("combineSources: offsets weighted by the inverse distance", () => {
  const base = tracking(1e-3);
  const r = combineSources(
    [input(base, 0.001), input(tracking(4e-3), 0.002)],
    0,
    base,
    SETTINGS,
  );
  // Weights 1000 and 500: (1000·1 + 500·4) / 1500 ms = 2 ms.
  assert.ok(Math.abs(r.estimate.offset - 2e-3) < 1e-12, `${r.estimate.offset}`);
  assert.equal(r.combinedCount, 2);
  assert.deepEqual(r.outcome, ["+", "+"]);
  // Equal frequency SDs: the frequency SD shrinks by √2.
  assert.ok(Math.abs(r.estimate.frequencySdPpm - 0.01 / Math.SQRT2) < 1e-12);
});

Deno.test("combineSources: a far or disagreeing survivor becomes distant (D)", () => {
  const base = tracking(0);
  const r = combineSources(
    [
      input(base, 0.001),
      input(tracking(0), 0.0031),
      input(tracking(0, { frequencyPpm: 4 }), 0.001),
      { ...input(tracking(0), 0.01), reachabilitySize: 5 },
      input(null, 0.001, 7),
    ],
    0,
    base,
    SETTINGS,
  );
  assert.deepEqual(r.outcome, ["+", "D", "D", "D", null]);
  assert.deepEqual(r.distant, [0, 32, 32, 1, 7], "a smaller penalty while the register fills");
  assert.equal(r.combinedCount, 1);
  assert.equal(r.estimate.offset, 0);
});

Deno.test("combineSources: the distant count runs down once the survivor is close again", () => {
  const base = tracking(0);
  const r = combineSources([input(base, 0.001), input(tracking(0), 0.001, 2)], 0, base, SETTINGS);
  assert.deepEqual(r.distant, [0, 1]);
  assert.deepEqual(r.outcome, ["+", "D"]);
  const last = combineSources(
    [input(base, 0.001), input(tracking(0), 0.001, 1)],
    0,
    base,
    SETTINGS,
  );
  assert.deepEqual(last.outcome, ["+", "+"]);
  assert.equal(last.combinedCount, 2);
});

Deno.test("tooDistant: combinelimit times the selected distance, or the skews", () => {
  const base = tracking(0);
  assert.equal(tooDistant(tracking(0), 0.003, base, 0.001, SETTINGS), false);
  assert.equal(tooDistant(tracking(0), 0.0031, base, 0.001, SETTINGS), true);
  // |Δf| > 3 · (0.05 + 0.05 + 1) ppm
  assert.equal(tooDistant(tracking(0, { frequencyPpm: 3.3 }), 0.001, base, 0.001, SETTINGS), false);
  assert.equal(tooDistant(tracking(0, { frequencyPpm: 3.31 }), 0.001, base, 0.001, SETTINGS), true);
});
