import assert from "node:assert/strict";
import { seededRandom } from "../../tests/helpers/random.ts";
import {
  chronyDelayWeights,
  delaySteepness,
  MAX_STEEPNESS,
  MIN_STEEPNESS_SAMPLES,
  steepWeights,
} from "./delay_weights.ts";

Deno.test("chrony weights: 1 up to min + precision, (1 + excess/sd)² above", () => {
  // min 10 ms, median 11.4 ms: sd = 1.4 ms / 0.7 = 2 ms.
  const d = [0.010, 0.0114, 0.012, 0.011, 0.0114];
  const w = chronyDelayWeights(d, 1e-6);
  assert.equal(w.minDistance, 0.010);
  assert.ok(Math.abs(w.sd - 0.002) < 1e-12);
  assert.equal(w.threshold, 0.010 + 1e-6);
  assert.equal(w.weights[0], 1);
  const e = (0.012 - 0.010 - 1e-6) / 0.002;
  assert.ok(Math.abs(w.weights[2] - (1 + e) ** 2) < 1e-12);
  // sd is clamped to [precision, min distance].
  assert.equal(chronyDelayWeights([1e-3, 1, 1], 1e-6).sd, 1e-3);
  assert.equal(chronyDelayWeights([1e-3, 1e-3, 1e-3], 1e-6).sd, 1e-6);
});

Deno.test("steep weights: k scales the excess, k = 1 is chrony's", () => {
  const base = chronyDelayWeights([0.01, 0.012, 0.014], 0);
  assert.deepEqual(steepWeights([0.01, 0.012, 0.014], base.threshold, base.sd, 1), base.weights);
  const w = steepWeights([0.01, 0.012, 0.014], 0.01, 0.002, 4);
  assert.deepEqual(w, [1, 25, 81]);
});

Deno.test("steepness: residuals proportional to the excess steepen to the cap", () => {
  const rand = seededRandom(7);
  const excess: number[] = [];
  const resid: number[] = [];
  for (let i = 0; i < 20; i++) {
    const e = 0.004 * rand();
    excess.push(e);
    resid.push(e * rand()); // uniform in [0, e]: the offset error of an Exp-jitter path
  }
  assert.equal(delaySteepness(excess, resid, 0.003), MAX_STEEPNESS);
});

Deno.test("steepness: residuals that do not grow with the delay keep chrony's weights", () => {
  const rand = seededRandom(11);
  const excess = Array.from({ length: 30 }, () => 0.004 * rand());
  const resid = Array.from({ length: 30 }, () => 0.001 * rand());
  assert.equal(delaySteepness(excess, resid, 0.003), 1);
  // Decreasing with the excess: 1.
  assert.equal(delaySteepness(excess, excess.map((e) => 0.005 - e), 0.003), 1);
});

Deno.test("steepness: a floor of noise bounds k at b·sd/a", () => {
  // |r| = 1e-4 + 0.1·excess exactly: k = 0.1 · 2e-3 / 1e-4 = 2.
  const excess = Array.from({ length: 10 }, (_, i) => i * 1e-4);
  const resid = excess.map((e) => 1e-4 + 0.1 * e);
  assert.ok(Math.abs(delaySteepness(excess, resid, 2e-3) - 2) < 1e-9);
});

Deno.test("steepness: too few samples, mismatched or degenerate input give 1", () => {
  const few = Array.from({ length: MIN_STEEPNESS_SAMPLES - 1 }, (_, i) => i * 1e-3);
  assert.equal(delaySteepness(few, few, 1e-3), 1);
  const ok = Array.from({ length: 12 }, (_, i) => i * 1e-3);
  assert.equal(delaySteepness(ok, ok.slice(1), 1e-3), 1);
  assert.equal(delaySteepness(ok, ok, 0), 1);
  assert.equal(delaySteepness(ok.map(() => 0.001), ok, 1e-3), 1);
  assert.equal(delaySteepness(ok, ok.map(() => 1e-4), 1e-3), 1);
});

Deno.test("fuzz: steepness is finite and within [1, MAX_STEEPNESS] for random input", () => {
  const rand = seededRandom(3);
  for (let trial = 0; trial < 2000; trial++) {
    const n = Math.floor(rand() * 40);
    const pick = () => {
      const r = rand();
      return r < 0.05 ? 0 : r < 0.1 ? 1e300 : r < 0.15 ? -rand() : rand() * 10 ** (-rand() * 9);
    };
    const k = delaySteepness(
      Array.from({ length: n }, pick),
      Array.from({ length: n }, pick),
      pick(),
    );
    assert.ok(k >= 1 && k <= MAX_STEEPNESS, `k ${k}`);
  }
});
