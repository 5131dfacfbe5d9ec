import assert from "node:assert/strict";
import { seededRandom } from "../../tests/helpers/random.ts";
import { minimaxLine } from "./minimax_line.ts";

/** The largest excess of |y − a − b·x| over h for the line (a, b). */
function excessOf(x: number[], y: number[], h: number[], a: number, b: number): number {
  let e = -Infinity;
  for (let i = 0; i < x.length; i++) e = Math.max(e, Math.abs(y[i] - a - b * x[i]) - h[i]);
  return e;
}

Deno.test("minimax line: exact points give their line back", () => {
  const x = [-30, -20, -10, 0];
  const y = x.map((v) => 0.002 + 5e-6 * v);
  const line = minimaxLine(x, y, [0, 0, 0, 0]);
  assert.ok(line);
  assert.ok(Math.abs(line.intercept - 0.002) < 1e-15);
  assert.ok(Math.abs(line.slope - 5e-6) < 1e-15);
  assert.ok(Math.abs(line.excess) < 1e-15);
});

Deno.test("minimax line: the Chebyshev alternation of three points", () => {
  // Residuals −0.5, +0.5, −0.5 about y = 0.5: no line does better than 0.5.
  const line = minimaxLine([0, 1, 2], [0, 1, 0], [0, 0, 0]);
  assert.ok(line);
  assert.ok(Math.abs(line.slope) < 1e-12);
  assert.ok(Math.abs(line.intercept - 0.5) < 1e-12);
  assert.ok(Math.abs(line.excess - 0.5) < 1e-12);
});

Deno.test("minimax line: bounds widen a point's allowance", () => {
  // The middle point's bound covers its offset from the line through the other two.
  const line = minimaxLine([0, 1, 2], [0, 1, 0], [0, 1, 0]);
  assert.ok(line);
  assert.ok(Math.abs(line.slope) < 1e-12 && Math.abs(line.intercept) < 1e-12);
  assert.ok(line.excess <= 1e-12);
});

Deno.test("minimax line: a stretch of optimal slopes resolves to its middle", () => {
  // Through (0, 0) exactly; (10, 0) ± 1 allows slopes −0.1…0.1 at zero excess.
  const line = minimaxLine([0, 10], [0, 0], [0, 1]);
  assert.ok(line);
  assert.ok(Math.abs(line.slope) < 1e-12, `${line.slope}`);
  assert.ok(Math.abs(line.intercept) < 1e-12);
});

Deno.test("minimax line: null without two distinct x or with mismatched arrays", () => {
  assert.equal(minimaxLine([], [], []), null);
  assert.equal(minimaxLine([1], [1], [0]), null);
  assert.equal(minimaxLine([2, 2, 2], [0, 1, 2], [0, 0, 0]), null);
  assert.equal(minimaxLine([0, 1], [0, 1], [0]), null);
});

Deno.test("minimax line: no line of random points does better (500 trials)", () => {
  const rand = seededRandom(71);
  for (let trial = 0; trial < 500; trial++) {
    const n = 2 + Math.floor(rand() * 30);
    const x = Array.from({ length: n }, () => -1000 * rand());
    const y = x.map((v) => 1e-3 * (rand() - 0.5) + 1e-5 * v * (rand() - 0.5));
    const h = x.map(() => (rand() < 0.3 ? 0 : 1e-4 * rand()));
    const line = minimaxLine(x, y, h);
    if (line === null) continue;
    const own = excessOf(x, y, h, line.intercept, line.slope);
    assert.ok(Math.abs(own - line.excess) < 1e-12, `trial ${trial}: reported excess`);
    for (let k = 0; k < 40; k++) {
      const a = line.intercept + 1e-4 * (rand() - 0.5) * (k < 20 ? 1 : 0.01);
      const b = line.slope + 1e-7 * (rand() - 0.5) * (k < 20 ? 1 : 0.01);
      assert.ok(
        excessOf(x, y, h, a, b) >= own - 1e-12,
        `trial ${trial}: (${a}, ${b}) beats the minimax line`,
      );
    }
  }
});

Deno.test("minimax line: bounded errors about a line keep it inside every bound", () => {
  // Offsets off by a random share of half their extra delay: the true line is feasible, so
  // the fitted one must be too, and it lies near the truth.
  const rand = seededRandom(72);
  for (let trial = 0; trial < 200; trial++) {
    const x = Array.from({ length: 24 }, (_, i) => i - 23);
    const extra = x.map(() => -2e-3 * Math.log(1 - rand()));
    const y = x.map((v, i) => 0.01 - 3e-6 * v + extra[i] * (rand() - 0.5));
    const h = extra.map((e) => e / 2);
    const line = minimaxLine(x, y, h);
    assert.ok(line);
    assert.ok(line.excess <= 1e-15, `trial ${trial}: excess ${line.excess}`);
    assert.ok(Number.isFinite(line.intercept) && Number.isFinite(line.slope));
  }
});
