/**
 * chrony's simulation pass criteria (test.common `check_sync`) over per-second records:
 * sync time is the first second after which |offset| <= timeMax and |freq error| <= freqMax
 * for the rest of the run; statistics (max and RMS offset and frequency error) are reset at
 * maxSyncTime and taken from there to the end.
 *
 * @module
 */

/** Pass thresholds of one scenario (chrony's names in comments). */
export interface SyncLimits {
  /** time_max_limit, seconds. */
  timeMax: number;
  /** freq_max_limit, fraction. */
  freqMax: number;
  /** time_rms_limit, seconds. */
  timeRms: number;
  /** freq_rms_limit, fraction. */
  freqRms: number;
  /** min_sync_time, seconds. */
  minSyncTime: number;
  /** max_sync_time, seconds (statistics reset here). */
  maxSyncTime: number;
}

/** chrony's default limits (test.common). */
export const CHRONY_DEFAULT_LIMITS: Readonly<SyncLimits> = Object.freeze({
  timeMax: 1e-3,
  freqMax: 5e-4,
  timeRms: 3e-4,
  freqRms: 1e-5,
  minSyncTime: 120,
  maxSyncTime: 210,
});

/** What check_sync measures. */
export interface SyncMetrics {
  /** Sync time in seconds, or null if the clock is out of limits at the end. */
  syncTime: number | null;
  /** Maximum |offset| from maxSyncTime to the end, seconds. */
  maxOffset: number;
  /** Maximum |frequency error| from maxSyncTime to the end, fraction. */
  maxFreq: number;
  /** RMS offset from maxSyncTime to the end, seconds. */
  rmsOffset: number;
  /** RMS frequency error from maxSyncTime to the end, fraction. */
  rmsFreq: number;
}

/**
 * Computes check_sync's figures from offsets and frequency errors recorded every tick
 * (index = tick, index 0 = start; `ticksPerSecond` ticks per second, default 1). `lastSecond`
 * limits the records used (a tick index; default: all). Times are returned in seconds.
 */
export function computeSyncMetrics(
  offsets: Float64Array,
  freqErrors: Float64Array,
  limits: SyncLimits,
  lastSecond = offsets.length - 1,
  ticksPerSecond = 1,
): SyncMetrics {
  let syncTime: number | null = 0;
  for (let k = lastSecond; k >= 0; k--) {
    if (Math.abs(offsets[k]) > limits.timeMax || Math.abs(freqErrors[k]) > limits.freqMax) {
      syncTime = k === lastSecond ? null : (k + 1) / ticksPerSecond;
      break;
    }
  }
  const from = Math.min(Math.max(0, Math.ceil(limits.maxSyncTime * ticksPerSecond)), lastSecond);
  const offset = windowStats(offsets, from, lastSecond);
  const freq = windowStats(freqErrors, from, lastSecond);
  return {
    syncTime,
    maxOffset: offset.max,
    maxFreq: freq.max,
    rmsOffset: offset.rms,
    rmsFreq: freq.rms,
  };
}

/** The check_sync verdict: an empty list when every limit holds, else what failed. */
export function checkSync(m: SyncMetrics, limits: SyncLimits): string[] {
  const failures: string[] = [];
  if (m.syncTime === null) failures.push("never synchronised (out of limits at the end)");
  else if (m.syncTime < limits.minSyncTime || m.syncTime > limits.maxSyncTime) {
    failures.push(
      `sync time ${m.syncTime} s outside [${limits.minSyncTime}, ${limits.maxSyncTime}]`,
    );
  }
  const bounds: [string, number, number][] = [
    ["max offset", m.maxOffset, limits.timeMax],
    ["max freq", m.maxFreq, limits.freqMax],
    ["RMS offset", m.rmsOffset, limits.timeRms],
    ["RMS freq", m.rmsFreq, limits.freqRms],
  ];
  for (const [what, value, limit] of bounds) {
    if (!(value <= limit)) failures.push(`${what} ${value.toExponential(2)} > ${limit}`);
  }
  return failures;
}

/**
 * Seconds from second `from` until |offset| stays within `limit` up to second `to`
 * (inclusive, default the end); null if it is still out at `to`.
 */
export function recoveryTime(
  offsets: Float64Array,
  from: number,
  limit: number,
  to = offsets.length - 1,
): number | null {
  for (let k = to; k >= from; k--) {
    if (Math.abs(offsets[k]) > limit) return k === to ? null : k + 1 - from;
  }
  return 0;
}

/** Max and RMS of |values| over seconds [from, to] (inclusive). */
export function windowStats(
  values: Float64Array,
  from: number,
  to = values.length - 1,
): { max: number; rms: number } {
  let max = 0, sum = 0, n = 0;
  for (let k = Math.max(0, from); k <= Math.min(to, values.length - 1); k++) {
    const v = Math.abs(values[k]);
    if (v > max) max = v;
    sum += v * v;
    n++;
  }
  return { max, rms: n > 0 ? Math.sqrt(sum / n) : NaN };
}

/**
 * Seconds after `from` until the RMS of |offset| over a sliding window of `window` seconds
 * first falls to `limit` or below, searching from the largest |offset| after `from` (the
 * peak of a disturbance); null if it never does. Noise-robust "time to get back under".
 */
export function settleTime(
  offsets: Float64Array,
  from: number,
  limit: number,
  window = 300,
): number | null {
  let peak = from;
  for (let k = from; k < offsets.length; k++) {
    if (Math.abs(offsets[k]) > Math.abs(offsets[peak])) peak = k;
  }
  let sum = 0;
  const end = offsets.length;
  if (peak + window > end) return null;
  for (let k = peak; k < peak + window; k++) sum += offsets[k] * offsets[k];
  for (let k = peak; k + window <= end; k++) {
    if (Math.sqrt(Math.max(0, sum) / window) <= limit) return k - from;
    if (k + window < end) sum += offsets[k + window] ** 2 - offsets[k] ** 2;
  }
  return null;
}
