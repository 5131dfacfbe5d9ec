/**
 * The reference: clock discipline from the selected (combined) estimate (chrony's
 * reference.c). It combines the new frequency estimate with the old one by their skews,
 * slews (or steps, with makestep) the offset, guards with maxchange and maxupdateskew, runs
 * leap seconds, the drift values and fallback drifts, the local reference, the kernel sync
 * status, and produces the tracking report and the reference state the server answers from.
 *
 * Signs follow time.ts: offsets are reference minus local, frequencies in the tempus sense.
 *
 * @module
 */
import type { Config, LocalConfig } from "../config/model.ts";
import { FallbackDrifts } from "./fallback_drift.ts";
import { effectiveLeap, isCloseToLeap, LEAP_SECOND_CLOSE, leapInstant } from "./leap.ts";
import type { LocalClock } from "./local_clock.ts";
import type { ClockDriver, LogPort, TimerHandle, TimerPort } from "./ports.ts";
import type { LeapStatus, TrackingReport } from "./reports.ts";
import type { Instant } from "./time.ts";
import { adjustForClockChange, type ClockChangeEvent, type ReferenceState } from "./types.ts";

/** Reference ID of the local reference (127.127.1.1). */
export const LOCAL_REFERENCE_ID = 0x7f7f0101;
/** Reference ID of manual input ("MANU"). */
export const MANUAL_REFERENCE_ID = 0x4d414e55;
/** Initial skew without a driftfile, ppm (chrony: 1.0, "rather bad"). */
export const INITIAL_SKEW_PPM = 1e6;
/** Shortest slew of an offset as a fraction of the update interval (tempus addition). */
export const MIN_SLEW_FRACTION = 0.5;
/**
 * Longest update interval the minimum slew is taken from, seconds (tempus addition): after a
 * long gap (an intermittent reference) the first offset is a real, well-measured drift, and
 * slewing it over half of a gap of hours would keep the clock wrong for hours.
 */
export const MIN_SLEW_MAX_INTERVAL = 1024;
/** Largest root dispersion announced, seconds (NTP_MAX_DISPERSION). */
const MAX_DISPERSION = 16;

/** One estimate handed to the reference by selection (chrony REF_SetReference arguments). */
export interface ReferenceUpdate {
  /** Stratum of the selected source (we become stratum + 1). */
  stratum: number;
  /** The sources' leap vote. */
  leap: LeapStatus;
  /** Number of combined sources. */
  combinedCount: number;
  /** Reference ID of the selected source. */
  refId: number;
  /** Address of the selected source, or null. */
  refAddress: string | null;
  /** Cooked time the estimate refers to. */
  refTime: Instant;
  /** Offset at refTime, seconds (reference minus local). */
  offset: number;
  /** Standard deviation of the offset, seconds. */
  offsetSd: number;
  /** Residual frequency relative to the current one, ppm (tempus sense). */
  frequencyPpm: number;
  /** Its standard deviation, ppm. */
  frequencySdPpm: number;
  /** Skew of the estimate, ppm. */
  skewPpm: number;
  /** Root delay, seconds. */
  rootDelay: number;
  /** Root dispersion, seconds. */
  rootDispersion: number;
}

/** What an update did. */
export type ReferenceOutcome = "slewed" | "stepped" | "ignored";

/** The part of Config the reference uses. */
export type ReferenceConfig = Pick<
  Config,
  | "makeStep"
  | "maxChange"
  | "maxUpdateSkew"
  | "corrTimeRatio"
  | "maxClockError"
  | "fallbackDrift"
  | "leapSecMode"
  | "local"
  | "rtcSync"
  | "driftFileInterval"
  | "logChange"
>;

/** Dependencies of the reference. */
export interface ReferenceDeps {
  /** The disciplined clock. */
  clock: LocalClock;
  /** The driver, for leap and kernel sync status. */
  driver: ClockDriver;
  /** Timers (leap seconds, fallback drifts). */
  timers: TimerPort;
  /** Log lines. */
  log: LogPort;
}

/**
 * The clock discipline. Call `update` with each selected estimate, `setUnsynchronised`
 * when selection finds nothing, `setManualReference` for settime input.
 */
export class Reference {
  readonly #clock: LocalClock;
  readonly #driver: ClockDriver;
  readonly #timers: TimerPort;
  readonly #log: LogPort;
  readonly #cfg: ReferenceConfig;

  #makeStepThreshold: number;
  #makeStepLimit: number;
  #maxUpdateSkew: number;
  #maxChangeDelay: number;
  #maxChangeIgnore: number;
  #local: LocalConfig | null;

  /**
   * A leap-second table (leapsectz, leapseclist; set by the daemon): the leap status it
   * schedules for the day of `now`. Consulted when the sources' vote is normal, as chrony.
   */
  leapTable: ((now: Instant) => LeapStatus) | null = null;

  #synchronised = false;
  #everSynchronised = false;
  #leap: LeapStatus = 3;
  #stratum = 0;
  #refId = 0;
  #refAddress: string | null = null;
  #refTime: Instant = 0n;
  #rootDelay = 0;
  #rootDispersion = 0;
  #skewPpm: number;
  #residualFreqPpm = 0;
  #lastOffset = 0;
  #avg2Offset = 0;
  #avg2Moving = false;
  #offsetSd = 0;
  #lastUpdate: Instant | null = null;
  #lastUpdateInterval = 0;
  #unsyncSince: Instant;
  #updates = 0;

  #leapTimer: TimerHandle | null = null;
  #leapAt: Instant | null = null;
  #fallback: FallbackDrifts | null;
  #fallbackTimer: TimerHandle | null = null;
  #fallbackApplied = -Infinity;
  /** The root distance has been below `local activate` at least once. */
  #localActivated = false;
  #lastDriftWrite: Instant | null = null;

  /** Called with (absolute freq ppm tempus sense, skew ppm), at most every driftfile interval. */
  onDriftUpdate: ((freqPpm: number, skewPpm: number) => void) | null = null;
  /** Called when maxchange runs out of ignores: the daemon should exit with this message. */
  onFatal: ((message: string) => void) | null = null;

  /** Creates the reference; `initialDrift` comes from the driftfile (applied by the caller). */
  constructor(
    cfg: ReferenceConfig,
    deps: ReferenceDeps,
    initialDrift: { freqPpm: number; skewPpm: number } | null = null,
  ) {
    this.#cfg = cfg;
    this.#clock = deps.clock;
    this.#driver = deps.driver;
    this.#timers = deps.timers;
    this.#log = deps.log;
    this.#makeStepThreshold = cfg.makeStep?.threshold ?? 0;
    this.#makeStepLimit = cfg.makeStep?.limit ?? 0;
    this.#maxUpdateSkew = cfg.maxUpdateSkew;
    this.#maxChangeDelay = cfg.maxChange ? cfg.maxChange.start : -1;
    this.#maxChangeIgnore = cfg.maxChange ? cfg.maxChange.ignore : 0;
    this.#local = cfg.local;
    this.#skewPpm = initialDrift ? Math.max(initialDrift.skewPpm, 1e-6) : INITIAL_SKEW_PPM;
    this.#fallback = cfg.fallbackDrift
      ? new FallbackDrifts(cfg.fallbackDrift.min, cfg.fallbackDrift.max)
      : null;
    this.#unsyncSince = this.#clock.cookedNow();
  }

  /** True when synchronised to a source (not counting the local reference). */
  get synchronised(): boolean {
    return this.#synchronised;
  }

  /** Skew of the current frequency, ppm. */
  get skewPpm(): number {
    return this.#skewPpm;
  }

  /** Number of reference updates so far. */
  get updateCount(): number {
    return this.#updates;
  }

  /** Our stratum as announced (16 when unsynchronised). */
  get stratum(): number {
    return this.state().stratum;
  }

  /** `makestep THRESHOLD LIMIT` at run time. */
  modifyMakeStep(threshold: number, limit: number): void {
    this.#makeStepThreshold = threshold;
    this.#makeStepLimit = limit;
  }

  /** `maxupdateskew PPM` at run time. */
  modifyMaxUpdateSkew(ppm: number): void {
    this.#maxUpdateSkew = ppm;
  }

  /** Enables (with settings) or disables the local reference. */
  setLocal(local: LocalConfig | null): void {
    this.#local = local;
  }

  /** The local reference settings, or null. */
  get local(): LocalConfig | null {
    return this.#local;
  }

  /** True when samples taken at `t` must be dropped because a leap second is close. */
  isLeapSecondClose(t: Instant): boolean {
    return this.#leapAt !== null && isCloseToLeap(t, this.#leapAt);
  }

  /**
   * Frequency gain and new skew from the previous skew e and the measured skew m
   * (chrony get_clock_estimates). Exported through the class for tests.
   */
  static clockEstimates(
    manual: boolean,
    measuredFreqPpm: number,
    measuredSkewPpm: number,
    previousSkewPpm: number,
    maxUpdateSkewPpm: number,
  ): { gain: number; freqPpm: number; skewPpm: number; residualPpm: number } {
    const e = previousSkewPpm;
    const m = measuredSkewPpm;
    let gain: number;
    if (manual) gain = 1;
    else if (m > maxUpdateSkewPpm) gain = 0;
    else gain = (3 * e * e) / (3 * e * e + m * m);
    if (!(gain >= 0)) gain = 0;
    if (gain > 1) gain = 1;
    const freq = gain * measuredFreqPpm;
    const residual = measuredFreqPpm - freq;
    const extra = Math.sqrt(freq * freq * (1 - gain) + residual * residual * gain);
    const skew = e + gain * (m - e) + extra;
    return { gain, freqPpm: freq, skewPpm: skew, residualPpm: residual };
  }

  /** Applies one estimate from selection. */
  update(u: ReferenceUpdate): ReferenceOutcome {
    return this.#update(u, false);
  }

  /**
   * Manual input (settime): `offset` seconds, `freqPpm` relative frequency change and its
   * skew; gain 1, refid MANU, leap unsynchronised unless the local reference is enabled.
   */
  setManualReference(offset: number, freqPpm: number, skewPpm: number): ReferenceOutcome {
    return this.#update({
      stratum: 0,
      leap: this.#local ? 0 : 3,
      combinedCount: 1,
      refId: MANUAL_REFERENCE_ID,
      refAddress: null,
      refTime: this.#clock.cookedNow(),
      offset,
      offsetSd: 0,
      frequencyPpm: freqPpm,
      frequencySdPpm: 0,
      skewPpm,
      rootDelay: 0,
      rootDispersion: 0,
    }, true);
  }

  #isOffsetOk(offset: number): boolean {
    const mc = this.#cfg.maxChange;
    if (mc === null || this.#maxChangeDelay < 0) return true;
    if (this.#maxChangeDelay > 0) {
      this.#maxChangeDelay--;
      return true;
    }
    if (Math.abs(offset) <= mc.offset) return true;
    const exiting = this.#maxChangeIgnore === 0;
    const message = `Adjustment of ${offset.toFixed(3)} seconds exceeds the allowed maximum of ${
      mc.offset.toFixed(3)
    } seconds (${exiting ? "exiting" : "ignored"})`;
    this.#log.log("warning", message);
    if (exiting) this.onFatal?.(message);
    else if (this.#maxChangeIgnore > 0) this.#maxChangeIgnore--;
    return false;
  }

  #isStepLimitReached(offset: number, remaining: number): boolean {
    if (this.#makeStepLimit === 0) return false;
    if (this.#makeStepLimit > 0) this.#makeStepLimit--;
    return Math.abs(offset + remaining) > this.#makeStepThreshold;
  }

  #update(u: ReferenceUpdate, manual: boolean): ReferenceOutcome {
    const numbers = [
      u.offset,
      u.offsetSd,
      u.frequencyPpm,
      u.skewPpm,
      u.rootDelay,
      u.rootDispersion,
    ];
    if (!numbers.every(Number.isFinite)) {
      this.#log.log("warning", "Ignoring a reference update with invalid values");
      return "ignored";
    }
    const now = this.#clock.cookedNow();
    const interval = this.#lastUpdate === null
      ? 0
      : Math.max(0, Number(now - this.#lastUpdate) / 1e9);

    if (!this.#isOffsetOk(u.offset)) return "ignored";

    const elapsed = Number(now - u.refTime) / 1e9;
    const offset = u.offset + elapsed * u.frequencyPpm * 1e-6;

    const est = Reference.clockEstimates(
      manual,
      u.frequencyPpm,
      u.skewPpm,
      this.#skewPpm,
      this.#maxUpdateSkew,
    );
    if (!manual && u.skewPpm > this.#maxUpdateSkew) {
      // chrony logs this at debug level: it is routine during the first updates.
      this.#log.log(
        "debug",
        `Skew ${u.skewPpm.toFixed(3)} too large to track, offset=${offset.toFixed(6)}`,
      );
    }

    this.#lastUpdate = now;
    this.#lastUpdateInterval = interval;
    this.#updates++;

    // leapsectz/leapseclist (dropin): a table's leap second when the sources say "normal".
    const vote = u.leap === 0 && this.leapTable !== null ? this.leapTable(now) : u.leap;
    this.#updateLeap(effectiveLeap(vote, now), now);

    const remaining = this.#clock.remainingCorrection();
    const step = this.#isStepLimitReached(offset, remaining);
    let correctionRate = this.#cfg.corrTimeRatio * 0.5 * u.offsetSd * interval;
    // tempus deviation from chrony: an offset is never slewed out in less than half the
    // update interval. chrony's rate alone slews an offset of 20 standard deviations in
    // about a second, a frequency excursion of ~1000 ppm per ms; spreading it over half the
    // interval keeps the frequency smooth (117: 8.4e-4 -> 1.7e-4) at no cost in offset, and
    // the correction is still done before the next update. Not for manual input or the first
    // update (interval 0), which correct as fast as allowed.
    if (!manual) {
      const span = Math.min(interval, MIN_SLEW_MAX_INTERVAL);
      correctionRate = Math.max(correctionRate, Math.abs(offset) * span * MIN_SLEW_FRACTION);
    }

    if (Math.abs(offset) >= this.#cfg.logChange) {
      this.#log.log(
        "warning",
        `System clock wrong by ${offset.toFixed(6)} seconds${step ? "" : ", adjustment started"}`,
      );
    }
    // Set before correcting the clock: the clock-change observer then moves it with the clock.
    this.#refTime = u.refTime;
    if (step) {
      this.#clock.accumulateFrequencyAndOffset(est.freqPpm, 0, correctionRate);
      this.#clock.step(offset);
      this.#log.log("warning", `System clock was stepped by ${offset.toFixed(6)} seconds`);
    } else {
      this.#clock.accumulateFrequencyAndOffset(est.freqPpm, offset, correctionRate);
    }

    this.#skewPpm = Math.max(est.skewPpm, 1e-6);
    this.#residualFreqPpm = est.residualPpm;
    this.#lastOffset = offset;
    this.#offsetSd = u.offsetSd;
    if (this.#avg2Moving) this.#avg2Offset += 0.1 * (offset * offset - this.#avg2Offset);
    else {
      if (this.#avg2Offset > 0 && this.#avg2Offset < offset * offset) this.#avg2Moving = true;
      this.#avg2Offset = offset * offset;
    }

    this.#stratum = u.stratum + 1;
    this.#refId = u.refId >>> 0;
    this.#refAddress = u.refAddress;
    this.#rootDelay = u.rootDelay;
    this.#rootDispersion = u.rootDispersion;
    this.#synchronised = this.#leap !== 3;
    if (this.#synchronised) this.#everSynchronised = true;
    const activate = this.#local?.activate ?? 0;
    if (this.#synchronised && activate > 0 && u.rootDelay / 2 + u.rootDispersion < activate) {
      this.#localActivated = true;
    }

    this.#cancelFallback();
    this.#fallbackApplied = -Infinity;
    if (this.#fallback && !manual) this.#fallback.update(this.#clock.freqPpm, interval);
    this.#maybeWriteDrift(now);
    this.#updateKernelStatus();
    return step ? "stepped" : "slewed";
  }

  #maybeWriteDrift(now: Instant): void {
    if (this.onDriftUpdate === null) return;
    if (this.#lastDriftWrite === null) {
      this.#lastDriftWrite = now;
      return;
    }
    if (Number(now - this.#lastDriftWrite) / 1e9 >= this.#cfg.driftFileInterval) {
      this.#lastDriftWrite = now;
      this.onDriftUpdate(this.#clock.freqPpm, this.#skewPpm);
    }
  }

  /** The current drift values (absolute frequency ppm tempus sense, skew ppm). */
  driftValues(): { freqPpm: number; skewPpm: number } {
    return { freqPpm: this.#clock.freqPpm, skewPpm: this.#skewPpm };
  }

  /** Hands the final drift values to onDriftUpdate (on shutdown), if ever synchronised. */
  flushDrift(): void {
    if (this.#everSynchronised) this.onDriftUpdate?.(this.#clock.freqPpm, this.#skewPpm);
  }

  #updateKernelStatus(): void {
    const sync = this.#synchronised;
    const est = Math.abs(this.#offsetSd);
    const max = this.#rootDelay / 2 + this.#rootDispersion;
    this.#driver.setSyncStatus(sync && this.#cfg.rtcSync, est, sync ? max : MAX_DISPERSION);
  }

  /**
   * Keeps the stored cooked instants (reference time, last update, unsynchronised-since,
   * last drift write) on the clock's scale after a slew or step, and re-arms a pending leap
   * timer after a step (chrony reference.c handle_slew).
   */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") return;
    const move = (t: Instant) => adjustForClockChange(t, change).instant;
    if (this.#refTime !== 0n) this.#refTime = move(this.#refTime);
    if (this.#lastUpdate !== null) this.#lastUpdate = move(this.#lastUpdate);
    this.#unsyncSince = move(this.#unsyncSince);
    if (this.#lastDriftWrite !== null) this.#lastDriftWrite = move(this.#lastDriftWrite);
    if (
      change.kind === "step" && this.#leapTimer !== null && (this.#leap === 1 || this.#leap === 2)
    ) {
      this.#armLeap(this.#leap, this.#clock.cookedNow());
    }
  }

  /**
   * The clock was stepped by something else: the next update is treated as the first one
   * (update interval 0, so its offset is corrected as fast as allowed).
   */
  handleUnknownStep(): void {
    this.#lastUpdate = null;
  }

  /** No usable source: become unsynchronised (keeps frequency; starts fallback drifts). */
  setUnsynchronised(): void {
    const now = this.#clock.cookedNow();
    if (this.#synchronised) this.#unsyncSince = this.#lastUpdate ?? now;
    const was = this.#synchronised;
    this.#synchronised = false;
    if (this.#leap !== 3) this.#updateLeap(3, now);
    this.#leap = 3;
    this.#updateKernelStatus();
    if (was || this.#fallbackTimer === null) this.#scheduleFallback();
  }

  #cancelFallback(): void {
    if (this.#fallbackTimer !== null) this.#timers.cancelTimer(this.#fallbackTimer);
    this.#fallbackTimer = null;
  }

  #scheduleFallback(): void {
    this.#cancelFallback();
    if (this.#fallback === null || this.#synchronised) return;
    const unsyncedFor = Math.max(0, Number(this.#clock.cookedNow() - this.#unsyncSince) / 1e9);
    const next = this.#fallback.next(unsyncedFor, this.#fallbackApplied);
    if (next === null) return;
    this.#fallbackTimer = this.#timers.setTimer(next.delay, () => {
      this.#fallbackTimer = null;
      if (this.#synchronised) return;
      const freq = this.#fallback?.get(next.index);
      this.#fallbackApplied = next.index;
      if (freq !== null && freq !== undefined) {
        this.#clock.setAbsoluteFrequency(freq);
        this.#log.log(
          "info",
          `Fallback drift ${next.index} active: ${(-freq).toFixed(3)} ppm`,
        );
      }
      this.#scheduleFallback();
    });
  }

  #updateLeap(leap: LeapStatus, now: Instant): void {
    const pending = leap === 1 || leap === 2;
    const wasPending = this.#leap === 1 || this.#leap === 2;
    if (pending && (!wasPending || leap !== this.#leap)) {
      this.#armLeap(leap, now);
    } else if (!pending && wasPending) {
      this.#disarmLeap();
    }
    this.#leap = leap;
  }

  #armLeap(leap: LeapStatus, now: Instant): void {
    this.#disarmLeap();
    const mode = this.#leapMode();
    const at = leapInstant(leap, now);
    this.#leapAt = at;
    if (mode === "ignore") return;
    if (mode === "system") this.#driver.setLeap(leap === 1 ? "insert" : "delete");
    this.#log.log("info", `Leap second ${leap === 1 ? "insertion" : "deletion"} scheduled`);
    // In system mode the kernel inserts the second itself; the flag is cleared a few
    // seconds later, so that it cannot be disarmed just before the kernel acts.
    const settle = mode === "system" ? LEAP_SECOND_CLOSE : 0;
    const delay = Math.max(0, Number(at - now) / 1e9 + settle);
    const shift = leap === 1 ? -1 : 1;
    this.#leapTimer = this.#timers.setTimer(delay, () => {
      this.#leapTimer = null;
      if (mode === "system") {
        this.#clock.applyLeap(shift, "kernel");
        this.#driver.setLeap("none");
      } else {
        this.#clock.applyLeap(shift, mode === "step" ? "step" : "slew");
      }
      this.#log.log("warning", `Leap second ${leap === 1 ? "inserted" : "deleted"}`);
      if (this.#leap === 1 || this.#leap === 2) this.#leap = this.#synchronised ? 0 : 3;
      // Keep #leapAt so samples right after the leap are still dropped.
    });
  }

  /** leapsecmode, with system falling back to step when the driver cannot do it (-x). */
  #leapMode(): Config["leapSecMode"] {
    const mode = this.#cfg.leapSecMode;
    return mode === "system" && this.#driver.canSystemLeap === false ? "step" : mode;
  }

  #disarmLeap(): void {
    if (this.#leapTimer !== null) {
      this.#timers.cancelTimer(this.#leapTimer);
      this.#leapTimer = null;
      // Once the leap moment has passed the kernel has done (or is doing) the leap and
      // clears its flag itself; only a leap cancelled before midnight is disarmed.
      const before = this.#leapAt === null || this.#clock.cookedNow() < this.#leapAt;
      if (this.#leapMode() === "system" && before) this.#driver.setLeap("none");
    }
    this.#leapAt = null;
  }

  /** True when the local reference is serving now. */
  /**
   * True when the local reference is serving now: enabled, activated (with `activate D`,
   * only once the root distance has been below D), and either synchronised with a root
   * distance above `distance` for `waitsynced` s since the last update, or unsynchronised
   * for `waitunsynced` s.
   */
  #localActive(now: Instant): boolean {
    const local = this.#local;
    if (local === null) return false;
    if (local.activate > 0 && !this.#localActivated) return false;
    if (this.#synchronised) {
      const distance = this.#rootDelay / 2 + this.#rootDispersionAt(now);
      if (distance <= local.distance) return false;
      const sinceUpdate = this.#lastUpdate === null
        ? Infinity
        : Number(now - this.#lastUpdate) / 1e9;
      return sinceUpdate >= local.waitSynced;
    }
    const since = Number(now - this.#unsyncSince) / 1e9;
    return since >= local.waitUnsynced;
  }

  #dispersionRate(): number {
    return (this.#skewPpm + Math.abs(this.#residualFreqPpm) + this.#cfg.maxClockError) * 1e-6;
  }

  #rootDispersionAt(now: Instant): number {
    if (this.#refTime === 0n) return MAX_DISPERSION;
    const age = Math.max(0, Number(now - this.#refTime) / 1e9);
    return this.#rootDispersion + age * this.#dispersionRate();
  }

  /** The reference state the NTP server answers from. */
  state(): ReferenceState {
    const now = this.#clock.cookedNow();
    const precisionLog2 = this.#clock.precisionLog2;
    if (this.#synchronised && !this.#localActive(now)) {
      return {
        synchronised: true,
        leap: this.#leap,
        stratum: Math.min(this.#stratum, 16),
        refId: this.#refId,
        refTime: this.#refTime,
        rootDelay: this.#rootDelay,
        rootDispersion: this.#rootDispersion,
        dispersionRate: this.#dispersionRate(),
        precisionLog2,
      };
    }
    if (this.#local !== null && this.#localActive(now)) {
      // The reference time of the local reference is refreshed every 64 s.
      const ref = now - ((now % 64_000_000_000n) + 64_000_000_000n) % 64_000_000_000n;
      return {
        synchronised: true,
        leap: 0,
        stratum: this.#local.stratum,
        refId: LOCAL_REFERENCE_ID,
        refTime: ref,
        rootDelay: 0,
        rootDispersion: this.#clock.precision,
        dispersionRate: this.#cfg.maxClockError * 1e-6,
        precisionLog2,
      };
    }
    return {
      synchronised: false,
      leap: 3,
      stratum: 16,
      refId: 0,
      refTime: this.#refTime,
      rootDelay: this.#rootDelay,
      rootDispersion: this.#rootDispersionAt(now),
      dispersionRate: this.#dispersionRate(),
      precisionLog2,
    };
  }

  /** chronyc `tracking`. */
  trackingReport(): TrackingReport {
    const now = this.#clock.cookedNow();
    const base = {
      systemTimeOffset: this.#clock.remainingCorrection(),
      lastOffset: this.#lastOffset,
      rmsOffset: Math.sqrt(this.#avg2Offset),
      freqPpm: this.#clock.freqPpm,
      residualFreqPpm: this.#residualFreqPpm,
      skewPpm: this.#skewPpm,
      lastUpdateInterval: this.#lastUpdateInterval,
    };
    if (this.#synchronised && !this.#localActive(now)) {
      return {
        ...base,
        refId: this.#refId,
        refAddress: this.#refAddress,
        stratum: this.#stratum,
        leapStatus: this.#leap,
        refTime: this.#refTime,
        rootDelay: this.#rootDelay,
        rootDispersion: this.#rootDispersionAt(now),
        synchronised: true,
      };
    }
    if (this.#local !== null && this.#localActive(now)) {
      return {
        ...base,
        refId: LOCAL_REFERENCE_ID,
        refAddress: null,
        stratum: this.#local.stratum,
        leapStatus: 0,
        refTime: now,
        rootDelay: 0,
        rootDispersion: this.#clock.precision,
        synchronised: true,
      };
    }
    return {
      ...base,
      refId: this.#refId === MANUAL_REFERENCE_ID ? MANUAL_REFERENCE_ID : 0,
      refAddress: null,
      stratum: this.#refId === MANUAL_REFERENCE_ID ? this.#stratum : 0,
      leapStatus: 3,
      refTime: this.#refId === MANUAL_REFERENCE_ID ? this.#refTime : 0n,
      rootDelay: this.#rootDelay,
      rootDispersion: this.#rootDispersionAt(now),
      synchronised: false,
    };
  }

  /** Cancels timers (leap, fallback). */
  stop(): void {
    this.#cancelFallback();
    if (this.#leapTimer !== null) this.#timers.cancelTimer(this.#leapTimer);
    this.#leapTimer = null;
  }
}
