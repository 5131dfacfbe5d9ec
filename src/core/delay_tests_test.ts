import assert from "node:assert/strict";
import { delayDevRatioOk, delayGateOk, delayRatioOk, type DelayTestInput } from "./delay_tests.ts";

const data: DelayTestInput = {
  minDelay: 1e-3,
  delaySd: 1e-5,
  lastSampleAgo: 0,
  skewPpm: 0,
  predictedOffset: 0,
};

Deno.test("test B: delay within minimum x ratio; off below 1 or without data", () => {
  assert.equal(delayRatioOk(data, 1.9e-3, 2, 1), true);
  assert.equal(delayRatioOk(data, 2.1e-3, 2, 1), false);
  assert.equal(delayRatioOk(data, 1, 0, 1), true);
  assert.equal(delayRatioOk(null, 1, 2, 1), true);
  // The allowance grows with time since the reference: 1000 s x (9 + 1) ppm = 10 ms.
  assert.equal(delayRatioOk({ ...data, lastSampleAgo: 1000, skewPpm: 9 }, 11e-3, 2, 1), true);
});

Deno.test("test C: congestion is rejected, a real clock change is not", () => {
  // sd 10 µs x ratio 10 = 100 µs allowed; a 1 ms delay increase (500 µs one way) fails...
  assert.equal(delayDevRatioOk(data, 0, 2e-3, 10, 1), false);
  // ...unless the offset moved clearly more than the delay increase explains.
  assert.equal(delayDevRatioOk(data, 0.01, 2e-3, 10, 1), true);
  assert.equal(delayDevRatioOk(data, 0, 1.1e-3, 10, 1), true);
  assert.equal(delayDevRatioOk(null, 0, 1, 10, 1), true);
});

Deno.test("delay gate: no slower than the newest replies' shortest, plus growth", () => {
  // Newest replies' shortest 1.2 ms over a 1 ms minimum: up to 1.2 ms passes, 1.3 ms does not.
  const gate = { ...data, delaySd: 1e-3, gateDelay: 1.2e-3 };
  assert.equal(delayGateOk(gate, 0, 1.2e-3, 1), true);
  assert.equal(delayGateOk(gate, 0, 1.3e-3, 1), false);
  // 10 s after the reference at skew 9 ppm (+1 maxclockerror) the allowance grows 2 x 100 µs.
  assert.equal(delayGateOk({ ...gate, lastSampleAgo: 10, skewPpm: 9 }, 0, 1.35e-3, 1), true);
  // An offset that moved clearly more than the extra delay explains passes, as in test C.
  assert.equal(delayGateOk(gate, 0.01, 1.3e-3, 1), true);
  // A gate reference under the minimum counts as the minimum; no reference: the gate is open.
  assert.equal(delayGateOk({ ...gate, gateDelay: 0.9e-3 }, 0, 1.0e-3, 1), true);
  assert.equal(delayGateOk({ ...gate, gateDelay: 0.9e-3 }, 0, 1.01e-3, 1), false);
  assert.equal(delayGateOk(data, 0, 1, 1), true);
  assert.equal(delayGateOk(null, 0, 1, 1), true);
});
