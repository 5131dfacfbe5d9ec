import assert from "node:assert/strict";
import {
  evaluateStages,
  planStages,
  SMOOTH_REFID,
  smoothedReference,
  Smoother,
} from "./smoothing.ts";

const S = 1_000_000_000n;

Deno.test("a 1 s leap with smoothtime 400 0.001024 leaponly: 62 500 s, peak 32 ppm at 31 250 s", () => {
  const stages = planStages(1, 0, 400e-6, 0.001024e-6);
  const total = stages.reduce((a, s) => a + s.length, 0);
  assert.ok(Math.abs(total - 62_500) < 1e-6, `${total}`);
  const mid = evaluateStages(stages, 1, 0, 31_250);
  assert.ok(Math.abs(mid.freq + 32e-6) < 1e-12, `${mid.freq}`);
  assert.ok(Math.abs(mid.offset - 0.5) < 1e-9, `${mid.offset}`);
  const end = evaluateStages(stages, 1, 0, 62_500);
  assert.equal(end.offset, 0);
  assert.equal(end.remaining, 0);
});

Deno.test("the frequency limit adds a coasting stage; offsets and frequency reach zero smoothly", () => {
  for (
    const [o, f] of [[1, 0], [-2, 1e-6], [0.3, -5e-5], [1e-3, 5e-5], [-1e-4, -2e-5], [0, 1e-5]]
  ) {
    const max = 10e-6, w = 0.01e-6;
    const stages = planStages(o, f, max, w);
    const total = stages.reduce((a, s) => a + s.length, 0);
    assert.ok(stages.every((s) => s.length >= 0), JSON.stringify(stages));
    let prev = evaluateStages(stages, o, f, 0);
    assert.ok(Math.abs(prev.offset - o) < 1e-12);
    const step = total / 2000;
    for (let k = 1; k <= 2000; k++) {
      const s = evaluateStages(stages, o, f, k * step);
      assert.ok(Math.abs(s.freq) <= Math.max(max, Math.abs(f)) + 1e-12, `freq ${s.freq}`);
      assert.ok(Math.abs(s.freq - prev.freq) <= w * step + 1e-12, "wander bound");
      assert.ok(Math.abs(s.offset - prev.offset) <= Math.max(max, Math.abs(f)) * step + 1e-9);
      prev = s;
    }
    const near = evaluateStages(stages, o, f, total - 1e-6);
    assert.ok(Math.abs(near.offset) < 1e-9, `[${o}, ${f}] ends at ${near.offset}`);
  }
});

Deno.test("Smoother keeps served time continuous across corrections and steps reset it", () => {
  const s = new Smoother({ maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly: false });
  assert.equal(s.report(0n).active, false);
  s.updateSkew(10n * S, 100); // 100 ppm / 10000 > 0.001: not yet
  assert.equal(s.report(10n * S).active, false);
  s.updateSkew(20n * S, 5);
  assert.equal(s.report(20n * S).active, true);
  const t = 100n * S;
  const before = s.serve(t);
  // The NTP clock moves 0.25 s forward: served time must not.
  s.applyClockChange({ when: t, dfreq: 0, doffset: 0.25, kind: "adjust" });
  assert.equal(s.serve(t + 250_000_000n), before);
  const r = s.report(t + 10n * S);
  assert.ok(r.offset < -0.2499 && r.freqPpm > 0 && r.remainingTime > 0, JSON.stringify(r));
  s.applyClockChange({ when: t + 20n * S, dfreq: 0, doffset: 3, kind: "step" });
  assert.equal(s.report(t + 20n * S).offset, 0);
});

Deno.test("leaponly: only the leap second is absorbed, at the UTC midnight announced", () => {
  const s = new Smoother({ maxFreqPpm: 400, maxWanderPpm: 0.001024, leapOnly: true });
  const midnight = 1_483_228_800n * S; // 2017-01-01T00:00:00Z
  s.observeLeap(midnight - 3600n * S, 1);
  s.applyClockChange({ when: midnight - 10n * S, dfreq: 0, doffset: 0.5, kind: "adjust" });
  assert.equal(s.offsetAt(midnight - 1n), 0);
  // At midnight the NTP clock goes back 1 s; the served time goes on.
  assert.equal(s.serve(midnight), midnight + S);
  const r = s.report(midnight + 31_250n * S);
  assert.ok(Math.abs(r.offset - 0.5) < 1e-6 && Math.abs(r.freqPpm + 32) < 1e-6, JSON.stringify(r));
  assert.ok(Math.abs(r.remainingTime - 31_250) < 1e-6);
  assert.equal(s.offsetAt(midnight + 62_501n * S), 0);
});

Deno.test("Smoother: served time keeps its rate through swings of offset and frequency", () => {
  // An NTP clock that starts on true time and is corrected every 64 s: ±0.1 s and ±1000 ppm
  // in turn (a reference swinging in a triangle). With a wander limit of 1e-6 ppm/s the
  // smoothing may move the served time by at most 1/2 · 1e-12 · t², so the served time
  // must stay on true time: every change exactly absorbed, on the new scale (chrony moves
  // last_update) and with the rate kept as (f - dfreq) / (1 + dfreq).
  const s = new Smoother({ maxFreqPpm: 1e4, maxWanderPpm: 1e-6, leapOnly: false });
  s.activate(0n);
  let cooked = 0; // cooked minus true time, s
  let rate = 0; // cooked rate error
  let lastTrue = 0;
  let worst = 0;
  for (let k = 1; k <= 150; k++) {
    const trueTime = k * 64;
    cooked += rate * (trueTime - lastTrue);
    lastTrue = trueTime;
    const when = BigInt(Math.round((trueTime + cooked) * 1e9));
    const served = Number(s.serve(when)) / 1e9 - trueTime;
    worst = Math.max(worst, Math.abs(served));
    const doffset = k % 2 === 0 ? 0.1 : -0.1;
    const dfreq = k % 2 === 0 ? 1e-3 : -1e-3 / (1 + 1e-3) + 2e-5 * Math.sin(k);
    s.applyClockChange({ when, dfreq, doffset, kind: "adjust" });
    cooked += doffset;
    rate = (1 + rate) * (1 + dfreq) - 1;
  }
  const bound = 0.5 * 1e-12 * (150 * 64) ** 2 + 1e-8;
  assert.ok(worst < bound, `served time left true time by ${worst} s (bound ${bound})`);
});

Deno.test("smoothedReference: refid 127.127.1.255 and shifted reference time while smoothing", () => {
  const state = {
    synchronised: true,
    leap: 1 as const,
    stratum: 2,
    refId: 0xc0000201,
    refTime: 100n * S,
    rootDelay: 0.01,
    rootDispersion: 0.001,
    dispersionRate: 0,
    precisionLog2: -20,
  };
  // Below the precision (2^-20 s): unchanged but for the leap in slew mode.
  const quiet = smoothedReference(state, 1e-7, true);
  assert.equal(quiet.refId, 0xc0000201);
  assert.equal(quiet.refTime, 100n * S);
  assert.equal(quiet.leap, 0);
  assert.equal(smoothedReference(state, 1e-7, false).leap, 1);
  const smoothing = smoothedReference(state, -0.25, false);
  assert.equal(smoothing.refId, SMOOTH_REFID);
  assert.equal(smoothing.refTime, 100n * S - 250_000_000n);
  assert.equal(smoothing.leap, 1);
  assert.equal(smoothedReference({ ...state, refTime: 0n }, 0.5, false).refTime, 0n);
});
