import assert from "node:assert/strict";
import { formatRatioInterval, ratioInterval, verdictAgainst } from "./ratio_interval.ts";

Deno.test("ratio interval: geometric mean and a t interval over log ratios", () => {
  // Ratios 0.5 and 2: geometric mean 1; log sd ln 2 · √2, t(1) 12.706 → e^(±12.706·ln 2).
  const two = ratioInterval([0.5, 2])!;
  assert.ok(Math.abs(two.geometricMean - 1) < 1e-12);
  assert.ok(Math.abs(Math.log(two.high) - 12.706 * Math.LN2) < 1e-9);
  assert.ok(Math.abs(Math.log(two.low) + 12.706 * Math.LN2) < 1e-9);
  // Identical ratios: a zero-width interval at the ratio.
  const same = ratioInterval([0.7, 0.7, 0.7])!;
  assert.ok(Math.abs(same.low - 0.7) < 1e-12 && Math.abs(same.high - 0.7) < 1e-12);
  // Four ratios: t(3) = 3.182 on the standard error of the logs.
  const four = ratioInterval([0.6, 0.7, 0.8, 0.9])!;
  const logs = [0.6, 0.7, 0.8, 0.9].map(Math.log);
  const m = logs.reduce((a, b) => a + b) / 4;
  const se = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / 3 / 4);
  assert.ok(Math.abs(Math.log(four.high) - (m + 3.182 * se)) < 1e-12);
  // Beyond 31 ratios the normal's 1.96.
  const many = ratioInterval(Array.from({ length: 40 }, (_, i) => (i % 2 ? 0.5 : 2)))!;
  const s = Math.LN2 * Math.sqrt(40 / 39);
  assert.ok(Math.abs(Math.log(many.high) - 1.96 * s / Math.sqrt(40)) < 1e-12);
});

Deno.test("ratio interval: bad ratios are left out; one ratio has no interval", () => {
  assert.equal(ratioInterval([]), null);
  assert.equal(ratioInterval([NaN, 0, -1, Infinity]), null);
  const one = ratioInterval([0.5, NaN])!;
  assert.equal(one.n, 1);
  assert.ok(Number.isNaN(one.high));
  assert.equal(formatRatioInterval(one), "0.50");
  assert.equal(formatRatioInterval(null), "-");
});

Deno.test("ratio interval: a bar is met, not met or undecided", () => {
  const low = ratioInterval([0.5, 0.55, 0.6, 0.52])!;
  assert.equal(verdictAgainst(low, 0.8), "met");
  const high = ratioInterval([1.5, 1.4, 1.6, 1.45])!;
  assert.equal(verdictAgainst(high, 0.8), "not met");
  const wide = ratioInterval([0.1, 2.4, 0.3, 0.9])!;
  assert.equal(verdictAgainst(wide, 0.8), "undecided");
  assert.match(formatRatioInterval(wide), /^gm 0\.\d\d \(95 % CI 0\.\d\d–\d+\.\d\d\)$/);
});
