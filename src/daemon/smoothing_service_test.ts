import assert from "node:assert/strict";
import { defaultConfig } from "../config/defaults.ts";
import type { TrackingReport } from "../core/reports.ts";
import type { ReferenceState } from "../core/types.ts";
import { startSmoothing } from "./smoothing_service.ts";

const engine = {
  clock: { cookedNow: () => 1_000_000_000_000_000_000n, addObserver: () => {} },
  tracking: () => ({ leapStatus: 1, skewPpm: 0.01 } as TrackingReport),
};

Deno.test("no smoothtime: no service; with leapsecmode slew the leap indicator is not served", () => {
  assert.equal(startSmoothing(defaultConfig(), engine), null);
  const s = startSmoothing(
    {
      ...defaultConfig(),
      leapSecMode: "slew",
      smoothTime: { maxFreqPpm: 400, maxWanderPpm: 0.001024, leapOnly: true },
    },
    engine,
  );
  assert.ok(s);
  try {
    const ref = { leap: 1, synchronised: true } as ReferenceState;
    assert.equal(s.reference(ref).leap, 0);
    assert.equal(s.reference({ ...ref, leap: 3 }).leap, 3);
    assert.equal(s.report().active, true);
    assert.equal(s.report().leapOnly, true);
    assert.deepEqual(s.smoothTime("reset"), { ok: true });
    assert.equal(s.serve(5n), 5n);
  } finally {
    s.close();
  }
  const plain = startSmoothing(
    { ...defaultConfig(), smoothTime: { maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly: false } },
    engine,
  )!;
  try {
    // leapsecmode system: the leap is announced (chrony suppresses it only in slew mode).
    assert.equal(plain.reference({ leap: 1 } as ReferenceState).leap, 1);
  } finally {
    plain.close();
  }
  const slewing = startSmoothing(
    {
      ...defaultConfig(),
      leapSecMode: "slew",
      smoothTime: { maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly: false },
    },
    engine,
  )!;
  try {
    assert.equal(slewing.reference({ leap: 2 } as ReferenceState).leap, 0, "not leaponly too");
  } finally {
    slewing.close();
  }
});
