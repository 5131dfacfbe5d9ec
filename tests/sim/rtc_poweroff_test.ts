/**
 * An RTC 20 ppm fast across a simulated power-off of 10 hours. With the drift learned by
 * tracking the RTC for a few hours before power-off (and saved in the rtcfile), the `-s`
 * boot-time decision sets the clock within 10 ms of true time; with the drift unknown (gain
 * rate 0 in the file) the error is the full 20 ppm × 10 h = 720 ms.
 */
import assert from "node:assert/strict";
import { parseRtcFile, serializeRtcFile } from "../../src/core/rtc_file.ts";
import { preInitDecision, RtcTracking } from "../../src/core/rtc_tracking.ts";
import { addSeconds, type Instant, instantFromParts, secondsBetween } from "../../src/base/time.ts";
import { SimRtc } from "../../src/sim/sim_rtc.ts";

const T0: Instant = instantFromParts(1_700_000_000, 123_456_789);

/** Tracks the RTC against a synchronised system clock (system = true time) for `hours`. */
function track(rtc: SimRtc, hours: number): { tracker: RtcTracking; end: Instant } {
  const tracker = new RtcTracking();
  let t = T0;
  const end = addSeconds(T0, hours * 3600);
  while (t < end) {
    const u = rtc.nextUpdate(t);
    tracker.addSample(u.rtcSeconds, u.trueTime, true);
    t = addSeconds(u.trueTime, tracker.measurementPeriod());
  }
  return { tracker, end: t };
}

Deno.test("RTC 20 ppm fast over a 10 h power-off: -s within 10 ms with the learned drift", () => {
  const rtc = new SimRtc({ start: T0, offsetSeconds: 0.3, driftPpm: 20 });
  const { tracker, end } = track(rtc, 4);
  assert.ok(Math.abs(tracker.gainRate * 1e6 - 20) < 0.05, `rate ${tracker.gainRate * 1e6}`);
  const fileText = serializeRtcFile(tracker.coefficients()!);
  const parsed = parseRtcFile(fileText);
  assert.ok(parsed.ok);

  const boot = addSeconds(end, 10 * 3600);
  const tick = rtc.nextUpdate(boot);
  const bootSystem = instantFromParts(1_000_000_000); // an unset clock at boot
  const learned = preInitDecision({
    rtcSeconds: tick.rtcSeconds,
    atUpdateEdge: true,
    coefficients: parsed.coefficients,
    now: bootSystem,
    driftFileMtime: end,
  });
  assert.equal(learned.step, true);
  const learnedError = secondsBetween(learned.newTime, tick.trueTime);

  const unlearned = preInitDecision({
    rtcSeconds: tick.rtcSeconds,
    atUpdateEdge: true,
    coefficients: { ...parsed.coefficients, gainRatePpm: 0 },
    now: bootSystem,
    driftFileMtime: end,
  });
  const unlearnedError = secondsBetween(unlearned.newTime, tick.trueTime);
  console.log(
    `rtc power-off 10 h at 20 ppm: -s error with learned drift ${
      (learnedError * 1e3).toFixed(3)
    } ms, ` +
      `without ${(unlearnedError * 1e3).toFixed(1)} ms (rtcfile "${fileText.trim()}")`,
  );
  assert.ok(Math.abs(learnedError) < 0.010, `learned ${learnedError}`);
  assert.ok(Math.abs(Math.abs(unlearnedError) - 0.72) < 0.01, `unlearned ${unlearnedError}`);

  // After boot the initial fast sampling measures what is left and slews it away.
  const after = new RtcTracking({ fileCoefficients: parsed.coefficients, initial: true });
  let t = tick.trueTime;
  let event = null;
  for (let i = 0; i < 20 && event === null; i++) {
    const u = rtc.nextUpdate(t);
    const system = addSeconds(u.trueTime, learnedError); // the clock as set by -s
    const e = after.addSample(u.rtcSeconds, system);
    if (e.kind === "initialTrim") event = e;
    t = u.trueTime;
  }
  assert.ok(event !== null && event.offset !== null);
  assert.ok(Math.abs(event.offset + learnedError) < 1e-3, `slew ${event.offset}`);
});
