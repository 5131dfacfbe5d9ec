/**
 * trimrtc against a simulated RTC that is 3 s fast and gains 15 ppm: after tracking, the trim
 * sets the RTC to the system seconds, the fast relock measures the new (sub-second) offset,
 * and the coefficients written to the rtcfile keep the learned gain rate, so the RTC keeps
 * predicting true time.
 */
import assert from "node:assert/strict";
import { RtcTracking } from "../../src/core/rtc_tracking.ts";
import { addSeconds, type Instant, instantFromParts, secondsBetween } from "../../src/base/time.ts";
import { SimRtc } from "../../src/sim/sim_rtc.ts";

Deno.test("trimrtc with a simulated RTC 3 s fast: relock keeps the gain rate", () => {
  const t0: Instant = instantFromParts(1_700_000_000, 250_000_000);
  const rtc = new SimRtc({ start: t0, offsetSeconds: 3, driftPpm: 15 });
  const tracker = new RtcTracking();
  let t = t0;
  while (t < addSeconds(t0, 7200)) {
    const u = rtc.nextUpdate(t);
    tracker.addSample(u.rtcSeconds, u.trueTime);
    t = addSeconds(u.trueTime, tracker.measurementPeriod());
  }
  assert.ok(Math.abs(tracker.secondsFast - rtc.errorAt(t)) < 0.01);
  const now = addSeconds(t, 0.37);
  const trim = tracker.trim(now);
  assert.ok(trim !== null);
  rtc.set(trim.setRtcTo, now);
  assert.equal(tracker.mode, "aftertrim");
  let written = null;
  t = now;
  for (let i = 0; i < 20 && written === null; i++) {
    const u = rtc.nextUpdate(t);
    const e = tracker.addSample(u.rtcSeconds, u.trueTime);
    if (e.kind === "relocked") written = e.coefficients;
    t = u.trueTime;
  }
  assert.ok(written !== null);
  console.log(
    `rtc trim: RTC error after set ${(rtc.errorAt(t) * 1e3).toFixed(1)} ms, ` +
      `relocked fast ${(written.secondsFast * 1e3).toFixed(1)} ms, rate ${
        written.gainRatePpm.toFixed(3)
      } ppm`,
  );
  assert.ok(Math.abs(rtc.errorAt(t)) < 1, "the RTC is within a second after the trim");
  assert.ok(Math.abs(written.gainRatePpm - 15) < 0.05);
  // A day later the saved coefficients still predict true time from the RTC.
  const later = rtc.nextUpdate(addSeconds(t, 86400));
  const predicted = addSeconds(
    instantFromParts(later.rtcSeconds),
    -(written.secondsFast + (later.rtcSeconds - written.refTime) * written.gainRatePpm * 1e-6),
  );
  assert.ok(Math.abs(secondsBetween(predicted, later.trueTime)) < 0.005);
});
