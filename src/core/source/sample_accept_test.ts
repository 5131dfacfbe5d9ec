import assert from "node:assert/strict";
import { addSeconds, type Instant } from "../../base/time.ts";
import { SourceStats } from "../sourcestats.ts";
import type { NtpSample } from "../types.ts";
import { acceptSample } from "./sample_accept.ts";
import { MedianFilter } from "./sample_filter.ts";

const T0: Instant = 1_700_000_000n * 1_000_000_000n;

function stats(): SourceStats {
  return new SourceStats({
    minSamples: 6,
    maxSamples: 0,
    asymmetry: null,
    precision: 1e-7,
    maxClockError: 1,
  });
}

function sample(i: number, offset: number): NtpSample {
  return {
    time: addSeconds(T0, 16 * i),
    offset,
    peerDelay: 1e-3,
    peerDispersion: 1e-6,
    rootDelay: 1e-3,
    rootDispersion: 1e-5,
    stratum: 2,
    leap: 0,
  };
}

Deno.test("without filter every sample goes into the statistics", () => {
  const s = stats();
  const filter = new MedianFilter();
  for (let i = 0; i < 4; i++) {
    const taken = acceptSample(sample(i, 1e-3), filter, null, s, 9);
    assert.ok(taken !== null);
    assert.equal(taken.sample.offset, 1e-3);
    assert.ok(Number.isFinite(taken.pollAdjust));
  }
  assert.equal(s.sampleCount, 4);
});

Deno.test("filter 3 holds samples back and releases their median", () => {
  const s = stats();
  const filter = new MedianFilter();
  assert.equal(acceptSample(sample(0, 3e-3), filter, 3, s, 9), null);
  assert.equal(acceptSample(sample(1, 1e-3), filter, 3, s, 9), null);
  assert.equal(s.sampleCount, 0);
  const taken = acceptSample(sample(2, 2e-3), filter, 3, s, 9);
  assert.ok(taken !== null);
  assert.equal(taken.sample.offset, 2e-3);
  assert.equal(s.sampleCount, 1);
});

Deno.test("a sample far from the prediction asks for a shorter poll than one on it", () => {
  const onLine = stats();
  const off = stats();
  const f1 = new MedianFilter();
  const f2 = new MedianFilter();
  let a = null;
  let b = null;
  for (let i = 0; i < 8; i++) {
    a = acceptSample(sample(i, 1e-3), f1, null, onLine, 9);
    b = acceptSample(sample(i, i === 7 ? 0.5 : 1e-3), f2, null, off, 9);
  }
  assert.ok(a !== null && b !== null);
  assert.ok(b.pollAdjust < a.pollAdjust, `${b.pollAdjust} < ${a.pollAdjust}`);
});
