import assert from "node:assert/strict";
import { type FilterSample, RefclockFilter } from "./refclock_filter.ts";

const T0 = 1_750_000_000_000_000_000n;

function sample(i: number, offset: number, disp = 1e-6): FilterSample {
  return {
    time: T0 + BigInt(i) * 1_000_000_000n,
    offset,
    peerDelay: 1e-9,
    rootDelay: 1e-9,
    peerDispersion: disp,
    rootDispersion: disp,
  };
}

function filter(max = 64, maxDispersion = 0) {
  return new RefclockFilter({
    minSamples: 1,
    maxSamples: max,
    maxDispersion,
    combineRatio: 0.6,
    precision: 1e-7,
  });
}

Deno.test("refclock filter: outliers around the median are dropped, one sample per poll", () => {
  const f = filter();
  const offsets = [0.001, 0.0011, 0.0009, 0.5, 0.001, -0.4, 0.00105, 0.00095, 0.001, 0.001];
  offsets.forEach((o, i) => assert.ok(f.add(sample(i, o))));
  const out = f.filtered();
  assert.ok(out !== null);
  // The two wild samples are outside the central 60%: the result stays at 1 ms.
  assert.ok(Math.abs(out.offset - 0.001) < 5e-5, `offset ${out.offset}`);
  assert.ok(out.peerDispersion < 1e-3, `dispersion ${out.peerDispersion}`);
  assert.equal(f.size, 0);
  assert.equal(f.filtered(), null, "an empty poll gives nothing");
});

Deno.test("refclock filter: a single sample passes with the average dispersion", () => {
  const f = filter();
  f.add(sample(0, -0.25));
  const out = f.filtered()!;
  assert.equal(out.offset, -0.25);
  assert.equal(out.time, sample(0, 0).time);
  assert.ok(out.peerDispersion >= 1e-6);
});

Deno.test("refclock filter: the result time is the mean time of the combined samples", () => {
  const f = filter();
  for (let i = 0; i < 3; i++) f.add(sample(i, 0.01 * i));
  const out = f.filtered()!;
  // Three samples: the lowest and highest are dropped, the middle one stays.
  assert.equal(out.offset, 0.01);
  assert.equal(out.time, sample(1, 0).time);
});

Deno.test("refclock filter: non-increasing sample times are refused", () => {
  const f = filter();
  assert.ok(f.add(sample(5, 0)));
  assert.ok(!f.add(sample(5, 0)));
  assert.ok(!f.add(sample(4, 0)));
  assert.equal(f.size, 1);
});

Deno.test("refclock filter: the ring keeps the newest `filter` samples", () => {
  const f = filter(4);
  for (let i = 0; i < 10; i++) f.add(sample(i, i));
  assert.equal(f.size, 4);
  const out = f.filtered()!;
  // Samples 6..9 remain; the central two (7, 8) are combined.
  assert.equal(out.offset, 7.5);
});

Deno.test("refclock filter: maxdispersion drops a poll whose samples scatter too much", () => {
  const f = filter(64, 1e-3);
  for (let i = 0; i < 10; i++) f.add(sample(i, (i % 2) * 0.1));
  assert.equal(f.filtered(), null);
  const g = filter(64, 1e-3);
  for (let i = 0; i < 10; i++) g.add(sample(i, 1e-5 * (i % 2)));
  assert.ok(g.filtered() !== null);
});

Deno.test("refclock filter: a clock step moves held samples, an unknown step drops them", () => {
  const f = filter();
  f.add(sample(0, 0.5));
  f.applyClockChange({ when: T0, dfreq: 0, doffset: 0.5, kind: "step" });
  const out = f.filtered()!;
  assert.ok(Math.abs(out.offset) < 1e-12);
  f.add(sample(10, 1));
  f.applyClockChange({ when: T0, dfreq: 0, doffset: 0, kind: "unknown" });
  assert.equal(f.size, 0);
});

Deno.test("refclock filter fuzz: random samples never throw and results are finite", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 300; round++) {
    const f = filter(1 + Math.floor(rnd() * 20), rnd() < 0.3 ? rnd() : 0);
    const n = Math.floor(rnd() * 30);
    for (let i = 0; i < n; i++) {
      f.add(sample(i, (rnd() - 0.5) * 10 ** (rnd() * 6 - 4), rnd() * 1e-3));
    }
    const out = f.filtered();
    if (out !== null) {
      assert.ok(Number.isFinite(out.offset) && Number.isFinite(out.peerDispersion));
      assert.ok(out.peerDispersion > 0);
    }
  }
});
