import assert from "node:assert/strict";
import { addSeconds, type Instant } from "../../base/time.ts";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import { SourceStats } from "../sourcestats.ts";
import type { NtpSample } from "../types.ts";
import {
  GATE_MIN_SAMPLES,
  GATE_REPLIES,
  MAX_GATE_SPAN,
  RATE_CHANGE_MAX_POLL,
  RATE_CHANGE_POLL_ADJ,
  SampleIntake,
  sourceMeasureContext,
} from "./sample_intake.ts";
import type { SourceContext } from "./source.ts";

const T0: Instant = 1_700_000_000n * 1_000_000_000n;

function sample(time: Instant, offset: number, delay: number): NtpSample {
  return {
    time,
    offset,
    peerDelay: delay,
    peerDispersion: 1e-6,
    rootDelay: delay,
    rootDispersion: 1e-5,
    stratum: 2,
    leap: 0,
  };
}

/**
 * A source's statistics (chrony's defaults, 0.1 µs precision; `delayGated` as a delaygate
 * source's) and its intake.
 */
function newIntake(delayGated = false): { stats: SourceStats; intake: SampleIntake } {
  const stats = new SourceStats({
    minSamples: 6,
    maxSamples: 0,
    asymmetry: null,
    precision: 1e-7,
    maxClockError: 1,
    delayGated,
  });
  return { stats, intake: new SampleIntake(stats) };
}

Deno.test("the delay gate: the newest replies' shortest delay, within MAX_GATE_SPAN only", () => {
  const { stats, intake } = newIntake();
  const params = { ...DEFAULT_SOURCE_PARAMS, delayGate: true };
  let t = T0;
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    t = addSeconds(T0, i);
    // Without a regression the gate stands aside.
    if (i < 3) assert.equal(intake.delayTestData(t, params)?.gateDelay, undefined);
    delays.push(1e-3 + 1e-4 * (i % 4));
    assert.ok(intake.accept(sample(t, 1e-4 * (i % 3), delays[i]), params, 2));
  }
  const newest = Math.min(...delays.slice(-GATE_REPLIES));
  assert.equal(intake.delayTestData(addSeconds(t, 1), params)?.gateDelay, newest);
  assert.equal(intake.delayTestData(addSeconds(t, MAX_GATE_SPAN - 0.5), params)?.gateDelay, newest);
  const late = intake.delayTestData(addSeconds(t, MAX_GATE_SPAN + 0.5), params);
  assert.ok(late !== null && late.gateDelay === undefined);
  // A held-back reply asks for the poll adjustment a taken one would, is not taken, and
  // counts among the newest replies: GATE_REPLIES slow ones in a row raise the gate to theirs.
  for (let i = 1; i <= GATE_REPLIES; i++) {
    const adj = intake.gated(sample(addSeconds(t, i), 0, 5e-3 + i * 1e-4), params);
    assert.ok(Number.isFinite(adj));
  }
  assert.equal(stats.sampleCount, 10);
  assert.equal(intake.lastSampleTime, t);
  assert.equal(intake.delayTestData(addSeconds(t, 5), params)?.gateDelay, 5.1e-3);
  // Reset forgets them: the gate waits for GATE_REPLIES replies again.
  intake.reset();
  for (let i = 0; i < GATE_REPLIES - 1; i++) {
    intake.accept(sample(addSeconds(t, 6 + i), 0, 1e-3), params, 2);
  }
  assert.equal(intake.delayTestData(addSeconds(t, 10), params)?.gateDelay, undefined);
});

Deno.test("the delay gate acts only for a source with the delaygate option", () => {
  const { intake } = newIntake();
  const params = { ...DEFAULT_SOURCE_PARAMS };
  for (let i = 0; i < 10; i++) {
    intake.accept(sample(addSeconds(T0, i), 1e-4 * (i % 3), 1e-3 + 1e-4 * (i % 4)), params, 2);
  }
  const ctx = {
    now: addSeconds(T0, 10),
    selected: true,
    reference: () => ({ synchronised: false }),
    isLeapSecondClose: () => false,
  } as unknown as SourceContext;
  const t = addSeconds(T0, 10);
  const chrony = sourceMeasureContext(params, intake, 1e-7, 1, ctx);
  assert.equal(chrony.delayTestData(t)?.gateDelay, undefined);
  const gated = sourceMeasureContext({ ...params, delayGate: true }, intake, 1e-7, 1, ctx);
  assert.equal(gated.delayTestData(t)?.gateDelay, 1e-3);
  // Otherwise the same data: chrony's tests see what they would without the option.
  assert.deepEqual({ ...gated.delayTestData(t), gateDelay: undefined }, {
    ...chrony.delayTestData(t),
    gateDelay: undefined,
  });
});

Deno.test("the delay gate waits for GATE_MIN_SAMPLES samples in the regression", () => {
  const { stats, intake } = newIntake();
  const params = { ...DEFAULT_SOURCE_PARAMS, delayGate: true };
  for (let i = 0; i < GATE_MIN_SAMPLES; i++) {
    const t = addSeconds(T0, i);
    // Enough replies seen and a regression from the third sample, but too few samples.
    if (i >= 3) {
      assert.ok(stats.regressionOk && stats.sampleCount < GATE_MIN_SAMPLES);
      assert.equal(intake.delayTestData(addSeconds(t, 0.5), params)?.gateDelay, undefined);
    }
    intake.accept(sample(t, 1e-5 * (i % 3), 1e-3 + 1e-4 * (i % 4)), params, 2);
  }
  assert.equal(stats.sampleCount, GATE_MIN_SAMPLES);
  const last = addSeconds(T0, GATE_MIN_SAMPLES - 1);
  assert.equal(intake.delayTestData(addSeconds(last, 0.5), params)?.gateDelay, 1e-3);
});

Deno.test("a delaygate source polls at minpoll once its regression finds a rate change", () => {
  const cases = [
    { delayGate: true, poll: 2, drops: true },
    { delayGate: true, poll: RATE_CHANGE_MAX_POLL + 1, drops: false },
    { delayGate: false, poll: 2, drops: false },
  ];
  for (const { delayGate, poll, drops } of cases) {
    const { stats, intake } = newIntake(delayGate);
    const params = { ...DEFAULT_SOURCE_PARAMS, delayGate };
    const when = (i: number) => addSeconds(T0, 2 ** poll * i);
    // 20 samples one poll apart on a steady line (±2 µs of noise): no change, chrony's rule.
    const noise = (i: number) => 1e-6 * (((i * 7) % 5) - 2);
    let i = 0;
    for (; i < 20; i++) {
      const r = intake.accept(sample(when(i), noise(i), 1e-3), params, poll)!;
      if (i >= 3) assert.equal(stats.rateChanged, false, `sample ${i}`);
      assert.ok(r.pollAdjust > -1, `sample ${i}: ${r.pollAdjust}`);
    }
    // Then the offset turns by 30 µs a poll.
    let found: number | null = null;
    for (let k = 1; k <= 6 && found === null; k++, i++) {
      const r = intake.accept(sample(when(i), noise(i) + 30e-6 * k, 1e-3), params, poll)!;
      if (stats.rateChanged) {
        found = k;
        // Only a delaygate source at a short poll drops to minpoll; chrony's rule otherwise
        // (a small step: the offsets are well within the peer distance).
        if (drops) assert.equal(r.pollAdjust, RATE_CHANGE_POLL_ADJ);
        else assert.ok(Math.abs(r.pollAdjust) < 0.5, `poll ${poll}: ${r.pollAdjust}`);
      }
    }
    assert.ok(found !== null && found <= 3, `rate change found after ${found} samples`);
  }
});
