import assert from "node:assert/strict";
import { correctionRateOf, ReferenceAdjustments } from "./reference_adjust.ts";

const S = 1_000_000_000n;

Deno.test("reference adjustments: chrony's correction rate, shared since the last update", () => {
  assert.equal(correctionRateOf(3, 0.002, 10), 0.03);
  const a = new ReferenceAdjustments(0n);
  const ctx = { corrTimeRatio: 3, offsetSd: 1e-4, lastUpdateInterval: 64 };
  // The first adjustment, 4 s after the start: max(3 x 0.5 x 1e-6 x 4, 3 x 0.5 x 1e-4 x 64).
  assert.ok(Math.abs(a.nextRate(4n * S, 1e-6, ctx) - 9.6e-3) < 1e-15);
  // The second shares the update's rate by two.
  assert.ok(Math.abs(a.nextRate(8n * S, 1e-6, ctx) - 4.8e-3) < 1e-15);
  assert.equal(a.count, 2);
  // A large offset over a long time wins.
  assert.ok(Math.abs(a.nextRate(108n * S, 0.01, ctx) - 1.5) < 1e-12);
  a.referenceUpdated();
  assert.equal(a.count, 0);
  a.applyClockChange({ when: 0n, dfreq: 0, doffset: 10, kind: "step" });
  // The stored instant moved 10 s forward: 108 + 10 - 108 = ... 0 s since the last one.
  assert.ok(Math.abs(a.nextRate(118n * S, 1, ctx) - 9.6e-3) < 1e-15);
});
