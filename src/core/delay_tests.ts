/**
 * chrony's delay tests B and C for an NTP sample (ntp_core.c check_delay_ratio and
 * check_delay_dev_ratio), as pure functions over the source statistics' delay-test data.
 *
 * @module
 */

/** What the delay tests need from the statistics (SourceStats.delayTestData). */
export interface DelayTestInput {
  /** Minimum round-trip delay in the history, seconds. */
  minDelay: number;
  /** Standard deviation of the offsets, seconds. */
  delaySd: number;
  /**
   * The delay gate's reference, seconds: the shortest round-trip delay of the source's newest
   * replies (SampleIntake), which a reply must not exceed by more than the prediction's growth
   * to be taken; absent while the gate stands aside.
   */
  gateDelay?: number;
  /** Seconds from the regression reference time to the sample. */
  lastSampleAgo: number;
  /** Skew, ppm. */
  skewPpm: number;
  /** Offset predicted for the sample time, seconds (tempus sign). */
  predictedOffset: number;
}

/** Growth of the allowed delay with time: |ago| x (skew + maxclockerror). */
function growth(d: DelayTestInput, maxClockErrorPpm: number): number {
  return Math.abs(d.lastSampleAgo) * (d.skewPpm + maxClockErrorPpm) * 1e-6;
}

/**
 * Test B (maxdelayratio, off below 1): the delay must not exceed the minimum delay times
 * the ratio, plus the growth allowed by the skew since the reference time.
 */
export function delayRatioOk(
  d: DelayTestInput | null,
  delay: number,
  maxDelayRatio: number,
  maxClockErrorPpm: number,
): boolean {
  if (d === null || !(maxDelayRatio >= 1)) return true;
  return delay <= d.minDelay * maxDelayRatio + growth(d, maxClockErrorPpm);
}

/**
 * Test C (maxdelaydevratio): half the increase of the delay over the minimum must not exceed
 * the offset standard deviation times the ratio (plus growth) - unless the offset moved
 * from the prediction by clearly more than that increase: a real clock change is not
 * congestion.
 */
export function delayDevRatioOk(
  d: DelayTestInput | null,
  offset: number,
  delay: number,
  maxDelayDevRatio: number,
  maxClockErrorPpm: number,
): boolean {
  if (d === null) return true;
  return extraDelayOk(d, offset, delay, d.delaySd * maxDelayDevRatio + growth(d, maxClockErrorPpm));
}

/**
 * Test C's rule for an allowance `maxDelta`: half the delay over the minimum within it, or an
 * offset that moved from the prediction by clearly more than that extra delay explains.
 */
function extraDelayOk(d: DelayTestInput, offset: number, delay: number, maxDelta: number): boolean {
  const delta = (delay - d.minDelay) / 2;
  if (delta <= maxDelta) return true;
  const errorInEstimate = Math.abs(offset - d.predictedOffset);
  return errorInEstimate - delta > maxDelta;
}

/**
 * tempus's delay gate (ntpd's clock-filter rule on chrony's test C): half the increase of the
 * delay over the minimum must not exceed half that of the gate's reference delay, plus the
 * growth allowed by the skew since the reference time - unless the offset moved from the
 * prediction by clearly more than that, as in test C. True when the gate stands aside.
 */
export function delayGateOk(
  d: DelayTestInput | null,
  offset: number,
  delay: number,
  maxClockErrorPpm: number,
): boolean {
  if (d === null || d.gateDelay === undefined) return true;
  const maxDelta = Math.max(0, d.gateDelay - d.minDelay) / 2 + growth(d, maxClockErrorPpm);
  return extraDelayOk(d, offset, delay, maxDelta);
}
