import assert from "node:assert/strict";
import {
  boundAt,
  dissentingSamples,
  ERROR_BOUND_DRIFT_PPM,
  errorBoundSnapshot,
  selectedSample,
  StepWatch,
} from "./error_bound.ts";
import { LOCAL_REFERENCE_ID } from "./reference_report.ts";
import type { SelectDataReport, SourceReport, TrackingReport } from "./reports.ts";

const S = 1_000_000_000n;

function tracking(over: Partial<TrackingReport> = {}): TrackingReport {
  return {
    refId: 0xc0a87b01,
    refAddress: "192.168.123.1",
    stratum: 2,
    leapStatus: 0,
    refTime: 1000n * S,
    systemTimeOffset: 2e-6,
    lastOffset: 1e-6,
    rmsOffset: 1e-6,
    freqPpm: 10,
    residualFreqPpm: 0.01,
    skewPpm: 0.05,
    rootDelay: 2e-4,
    rootDispersion: 3e-5,
    lastUpdateInterval: 64,
    synchronised: true,
    ...over,
  };
}

const params = { maxClockErrorPpm: 1, precision: 1e-8, maxSlewRatePpm: 83333 };
const sample = { offset: -5e-6, error: 1.5e-4, age: 10 };

Deno.test("maxError = |offset + slewing| + sample error + age * rate + precision + extra", () => {
  const s = errorBoundSnapshot(tracking(), sample, 2000n * S, 50n * S, params, 1e-6);
  const rate = (0.05 + 0.01 + ERROR_BOUND_DRIFT_PPM) * 1e-6;
  assert.equal(s.status, "synchronised");
  assert.ok(s.growthRate > rate && s.growthRate < rate * 1.1);
  const expected = 3e-6 + 1.5e-4 + 10 * s.growthRate + 1e-8 + 1e-6;
  assert.ok(Math.abs(s.maxError - expected) < 1e-15, `${s.maxError} vs ${expected}`);
});

Deno.test("no bound when unsynchronised, local, without a sample, or not finite", () => {
  for (
    const [t, smp] of [
      [tracking({ synchronised: false }), sample],
      [tracking({ refId: LOCAL_REFERENCE_ID }), sample],
      [tracking({ leapStatus: 3 }), sample],
      [tracking({ refTime: 0n }), sample],
      [tracking(), null],
      [tracking({ systemTimeOffset: NaN }), sample],
    ] as const
  ) {
    const s = errorBoundSnapshot(t, smp, 1n, 1n, params);
    assert.equal(s.status, "unsynchronised");
    assert.equal(s.maxError, Infinity);
    assert.equal(boundAt(s, 1n, 1n), null);
  }
});

Deno.test("boundAt grows with monotonic age, widens by any step, expires", () => {
  const s = errorBoundSnapshot(tracking(), sample, 2000n * S, 50n * S, params);
  const at0 = boundAt(s, 2000n * S, 50n * S)!;
  assert.equal(at0.latest - 2000n * S, 2000n * S - at0.earliest);
  const later = boundAt(s, 2005n * S, 55n * S)!;
  assert.ok(Math.abs(later.maxError - (s.maxError + 5 * s.growthRate)) < 1e-12);
  // The realtime clock was stepped 0.25 s since: the bound widens by exactly that.
  const stepped = boundAt(s, 2005n * S + 250_000_000n, 55n * S)!;
  assert.ok(Math.abs(stepped.maxError - later.maxError - 0.25) < 1e-9);
  assert.equal(boundAt(s, 2100n * S, 150n * S), null, "stale after 10 s");
  assert.equal(boundAt(s, 2000n * S, 49n * S), null, "monotonic went back: another boot");
});

Deno.test("StepWatch: outside steps count until the next update, own steps never", () => {
  const w = new StepWatch();
  assert.equal(w.observe(1000n * S, 10n * S, 5n), 0);
  w.ownStep(0.5);
  assert.equal(w.observe(1001n * S + 500_000_000n, 11n * S, 5n), 0, "own step");
  assert.equal(w.observe(1102n * S + 500_000_000n, 12n * S, 5n), 100, "outside +100 s");
  assert.equal(w.observe(1103n * S + 500_000_000n, 13n * S, 5n), 100, "until an update");
  assert.equal(w.observe(1104n * S + 500_000_000n, 14n * S, 6n), 0, "update seen");
});

Deno.test("selectedSample takes the selected source's last sample", () => {
  const row = (state: SourceReport["state"], offset: number): SourceReport => ({
    id: 1,
    address: "a",
    name: null,
    poll: 6,
    stratum: 1,
    state,
    mode: "client",
    reachability: 255,
    sinceSample: 3,
    origLatestOffset: offset,
    latestOffset: offset,
    latestError: 1e-4,
  });
  assert.equal(selectedSample([row("unselected", 1)]), null);
  assert.deepEqual(selectedSample([row("unselected", 1), row("selected", 2)]), {
    offset: 2,
    error: 1e-4,
    age: 3,
  });
});

Deno.test("dissentingSamples: prefer/trust falsetickers only; the bound covers them", () => {
  const row = (id: number, state: SourceReport["state"], offset: number): SourceReport => ({
    id,
    address: `192.168.123.${id}`,
    name: null,
    poll: 6,
    stratum: 1,
    state,
    mode: "client",
    reachability: 255,
    sinceSample: 2,
    origLatestOffset: offset,
    latestOffset: offset,
    latestError: 0.6,
  });
  const select = (id: number, options: number): SelectDataReport => ({
    id,
    address: `192.168.123.${id}`,
    refId: 0,
    stateChar: "x",
    authenticated: false,
    leap: 0,
    configuredOptions: options,
    effectiveOptions: options,
    lastSampleAgo: 2,
    score: 1,
    lowLimit: 0,
    highLimit: 0,
  });
  // chrony's 120-selectoptions prefer: following server 1 (1 s wrong), the preferred server
  // 3 (truthful) is seen 1 s away and rejected, as is server 2 (2 s wrong, no options).
  const sources = [row(1, "selected", 0), row(2, "falseticker", 1), row(3, "falseticker", -1)];
  const selectData = [select(1, 0), select(2, 0), select(3, 2)];
  const dissent = dissentingSamples(sources, selectData);
  assert.deepEqual(dissent, [{ offset: -1, error: 0.6, age: 2 }]);
  assert.deepEqual(dissentingSamples(sources, [select(1, 0), select(2, 0), select(3, 8)]), []);
  assert.equal(dissentingSamples(sources, [select(1, 0), select(2, 4), select(3, 0)]).length, 1);
  const agreeing = [row(1, "selected", 0), row(3, "unselected", -1e-3)];
  assert.deepEqual(dissentingSamples(agreeing, selectData), []);
  const t = tracking({ systemTimeOffset: 0 });
  const sel = selectedSample(sources)!;
  const narrow = errorBoundSnapshot(t, sel, 2000n * S, 50n * S, params);
  const wide = errorBoundSnapshot(t, sel, 2000n * S, 50n * S, params, 0, dissent);
  assert.ok(narrow.maxError < 0.61, `${narrow.maxError}`);
  // True time 1 s from the clock (the preferred server right) is inside the widened bound.
  assert.ok(wide.maxError > 1.6 && wide.maxError < 1.61, `${wide.maxError}`);
});
