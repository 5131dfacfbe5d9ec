/**
 * Server time smoothing (chrony's `smoothtime`): the time served to NTP clients is the NTP
 * clock plus a smoothing offset that absorbs the clock's corrections and then decays to zero
 * along a quadratic spline: the offset's frequency changes at most `maxWander` per second and
 * never exceeds `maxFreq`. With `leaponly`, only leap seconds are absorbed (a leap smear:
 * `leapsecmode slew` + `smoothtime 400 0.001024 leaponly` spreads a leap second over
 * sqrt(4 / wander) = 62 500 s with a peak frequency of 32 ppm).
 *
 * Signs as chronyc `smoothing` shows them: offset > 0 means clients get time ahead of the NTP
 * clock; frequency < 0 means the served time runs slower. Pure: instants come from the caller.
 *
 * @module
 */
import type { SmoothTimeConfig } from "../config/model.ts";
import type { Instant } from "../base/time.ts";
import type { ClockChangeEvent, ReferenceState } from "./types.ts";

/** chronyc `smoothing`. */
export interface SmoothingReport {
  /** Smoothing is active (absorbing corrections). */
  active: boolean;
  /** leaponly mode. */
  leapOnly: boolean;
  /** Current offset of the served time, seconds (> 0: clients get time ahead). */
  offset: number;
  /** Current frequency offset, ppm (< 0: served time runs slower). */
  freqPpm: number;
  /** Current wander, ppm per second. */
  wanderPpm: number;
  /** Seconds since the last update of the process. */
  lastUpdateAgo: number;
  /** Seconds until offset and frequency reach zero without further updates. */
  remainingTime: number;
}

/** One stage of the plan: constant wander for a length of time. */
export interface Stage {
  /** Wander during the stage, fraction per second. */
  wander: number;
  /** Length, seconds. */
  length: number;
}

/** The three-stage plan (accelerate, coast, decelerate) that brings `offset` and `freq` to 0. */
export function planStages(
  offset: number,
  freq: number,
  maxFreq: number,
  maxWander: number,
): Stage[] {
  if (offset === 0 && freq === 0) return [];
  const W = maxWander;
  // Direction of the peak frequency: against the offset, unless already moving towards zero
  // fast enough to overshoot, then the other way (see docs/operations.md).
  let d = offset > 0 ? -1 : offset < 0 ? 1 : (freq > 0 ? -1 : 1);
  let peak2 = (freq * freq - 2 * d * W * offset) / 2;
  if (d * freq > 0 && Math.sqrt(Math.max(0, peak2)) < d * freq) {
    d = -d;
    peak2 = (freq * freq - 2 * d * W * offset) / 2;
  }
  let peak = d * Math.sqrt(Math.max(0, peak2));
  let coast = 0;
  if (Math.abs(peak) > maxFreq) {
    peak = d * maxFreq;
    const l1 = Math.abs(peak - freq) / W;
    const l3 = Math.abs(peak) / W;
    const moved = (freq + peak) / 2 * l1 + peak / 2 * l3;
    coast = Math.max(0, (-offset - moved) / peak);
  }
  const l1 = Math.abs(peak - freq) / W;
  return [
    { wander: peak >= freq ? W : -W, length: l1 },
    { wander: 0, length: coast },
    { wander: peak > 0 ? -W : W, length: Math.abs(peak) / W },
  ];
}

/** Offset, frequency and wander `elapsed` seconds into a plan that started at (offset, freq). */
export function evaluateStages(
  stages: Stage[],
  offset: number,
  freq: number,
  elapsed: number,
): { offset: number; freq: number; wander: number; remaining: number } {
  let o = offset, f = freq, wander = 0, left = elapsed, total = 0;
  for (const s of stages) total += s.length;
  for (const s of stages) {
    if (left <= 0) {
      wander = wander === 0 ? s.wander : wander;
      break;
    }
    const l = Math.min(s.length, left);
    o += f * l + s.wander * l * l / 2;
    f += s.wander * l;
    left -= l;
    wander = l < s.length ? s.wander : 0;
  }
  if (left > 0) {
    o += f * left;
    wander = 0;
  }
  if (elapsed >= total) {
    o = 0;
    f = 0;
  }
  return { offset: o, freq: f, wander, remaining: Math.max(0, total - elapsed) };
}

/** The smoothing process. */
export class Smoother {
  /** The configuration. */
  readonly config: SmoothTimeConfig;
  #active: boolean;
  #offset = 0;
  #freq = 0;
  #last: Instant = 0n;
  #stages: Stage[] = [];
  #pendingLeap: { at: Instant; shift: number } | null = null;

  /** A smoother; `activeAtStart` for leaponly (chrony activates it when the skew is small). */
  constructor(config: SmoothTimeConfig) {
    this.config = config;
    this.#active = config.leapOnly;
  }

  #state(now: Instant) {
    return evaluateStages(
      this.#stages,
      this.#offset,
      this.#freq,
      Math.max(0, Number(now - this.#last) / 1e9),
    );
  }

  #rebase(now: Instant, offset: number, freq: number): void {
    this.#offset = offset;
    this.#freq = freq;
    this.#last = now;
    this.#stages = planStages(
      offset,
      freq,
      this.config.maxFreqPpm * 1e-6,
      this.config.maxWanderPpm * 1e-6,
    );
  }

  /** The offset to add to the NTP clock at `now` (cooked), seconds. */
  offsetAt(now: Instant): number {
    this.#applyLeap(now);
    return this.#active ? this.#state(now).offset : 0;
  }

  /** Served time for the NTP clock reading `now`. */
  serve(now: Instant): Instant {
    const o = this.offsetAt(now);
    return o === 0 ? now : now + BigInt(Math.round(o * 1e9));
  }

  /**
   * Follows a change of the NTP clock so the served time stays continuous. Steps reset the
   * process (as chrony); leaponly ignores everything but leap seconds.
   */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind !== "adjust") {
      this.reset(change.when);
      return;
    }
    if (!this.#active || this.config.leapOnly) return;
    const s = this.#state(change.when);
    // served = cooked + offset: cooked moved by doffset (and its rate by dfreq). The plan
    // restarts at the same instant on the new scale (`when` + doffset, as chrony moves
    // last_update): from the old-scale `when` the plan would run doffset seconds too far
    // (or too short) and the served time would jump by doffset times the smoothing frequency.
    // The served rate, cooked rate times (1 + freq), is kept exactly: the cooked rate was
    // multiplied by (1 + dfreq). (freq - dfreq alone leaves -dfreq² per change, which the
    // swings of a wandering reference accumulate into a frequency error of the served time.)
    const at = change.when + BigInt(Math.round(change.doffset * 1e9));
    this.#rebase(at, s.offset - change.doffset, (s.freq - change.dfreq) / (1 + change.dfreq));
  }

  /**
   * Tells the smoother the reference's leap status (1 insert, 2 delete) at `now`: at the next
   * UTC midnight the NTP clock repeats (or skips) a second, which is absorbed here.
   */
  observeLeap(now: Instant, leapStatus: number): void {
    if (leapStatus !== 1 && leapStatus !== 2) {
      const p = this.#pendingLeap;
      // The reference clears its status at the leap, when the NTP clock has just gone back
      // (or forward) a second: within 2 s of midnight that is the leap itself.
      if (p !== null && now >= p.at - 2_000_000_000n) this.#applyLeap(p.at);
      else this.#pendingLeap = null; // cancelled before midnight
      return;
    }
    const day = 86_400_000_000_000n;
    const at = (now / day + 1n) * day;
    this.#pendingLeap = { at, shift: leapStatus === 1 ? 1 : -1 };
  }

  #applyLeap(now: Instant): void {
    const p = this.#pendingLeap;
    if (p === null || now < p.at - (p.shift > 0 ? 0n : 1_000_000_000n)) return;
    this.#pendingLeap = null;
    if (!this.#active) return;
    const s = this.#state(p.at);
    // An inserted second sets the NTP clock back by 1 s: the served time keeps going.
    this.#rebase(p.at, s.offset + p.shift, s.freq);
  }

  /**
   * chrony's automatic activation: once 1/10000 of the clock's skew is below the maximum
   * wander, corrections start being absorbed.
   */
  updateSkew(now: Instant, skewPpm: number): void {
    if (!this.#active && skewPpm / 10_000 < this.config.maxWanderPpm) this.activate(now);
  }

  /** `smoothtime activate`. */
  activate(now: Instant): void {
    if (this.#active) return;
    this.#active = true;
    this.#rebase(now, 0, 0);
  }

  /** `smoothtime reset` (and steps): offset and frequency back to zero. */
  reset(now: Instant): void {
    this.#rebase(now, 0, 0);
  }

  /** chronyc `smoothing`. */
  report(now: Instant): SmoothingReport {
    this.#applyLeap(now);
    const s = this.#state(now);
    return {
      active: this.#active,
      leapOnly: this.config.leapOnly,
      offset: this.#active ? s.offset : 0,
      freqPpm: this.#active ? s.freq * 1e6 : 0,
      wanderPpm: this.#active ? s.wander * 1e6 : 0,
      lastUpdateAgo: this.#last === 0n ? 0 : Math.max(0, Number(now - this.#last) / 1e9),
      remainingTime: this.#active ? s.remaining : 0,
    };
  }
}

/** The reference ID chronyd serves while smoothing (127.127.1.255, its NTP_REFID_SMOOTH). */
export const SMOOTH_REFID = 0x7f7f01ff;

/**
 * The reference state a smoothing server announces (chrony's ntp_core.c): while the
 * smoothing offset is larger than the clock's precision, reference ID 127.127.1.255 (so
 * clients can tell smoothed time from unsmoothed, RFC 8633) and the reference time moved by
 * the offset; with `leapsecmode slew` no leap second announced (the smoothing carries it).
 */
export function smoothedReference(
  state: ReferenceState,
  smoothingOffset: number,
  leapSlew: boolean,
): ReferenceState {
  let out = state;
  if (leapSlew && (state.leap === 1 || state.leap === 2)) out = { ...out, leap: 0 };
  if (Math.abs(smoothingOffset) > 2 ** state.precisionLog2) {
    out = {
      ...out,
      refId: SMOOTH_REFID,
      refTime: state.refTime === 0n
        ? 0n
        : state.refTime + BigInt(Math.round(smoothingOffset * 1e9)),
    };
  }
  return out;
}
