/**
 * The reference: clock discipline from the selected (combined) estimate (chrony's
 * reference.c). It combines the new frequency estimate with the old one by their skews,
 * slews (or steps, with makestep) the offset, guards with maxchange and maxupdateskew, runs
 * leap seconds, the drift values and fallback drifts, the local reference (local_reference.ts),
 * the kernel sync status, and produces the tracking report and the reference state the server
 * answers from (reference_report.ts).
 *
 * Signs follow time.ts: offsets are reference minus local, frequencies in the tempus sense.
 *
 * @module
 */
import type { LocalConfig } from "../config/model.ts";
import { LocalReference } from "./local_reference.ts";
import type {
  ReferenceConfig,
  ReferenceDeps,
  ReferenceOutcome,
  ReferenceUpdate,
} from "./reference_types.ts";
import { FallbackDrifts } from "./fallback_drift.ts";
import { FallbackSchedule } from "./fallback_schedule.ts";
import { clockEstimates, correctionRate, MakeStep, MaxChange } from "./reference_guards.ts";
import { ReferenceAdjustments } from "./reference_adjust.ts";
import { effectiveLeap } from "./leap.ts";
import { LeapControl } from "./leap_control.ts";
import {
  MANUAL_REFERENCE_ID,
  type ReferenceSnapshot,
  referenceState,
  trackingReport,
} from "./reference_report.ts";
import type { LocalClock } from "./local_clock.ts";
import type { ClockDriver, LogPort } from "../base/ports.ts";
import type { LeapStatus, TrackingReport } from "./reports.ts";
import { type Instant, secondsBetween } from "../base/time.ts";
import {
  adjustForClockChange,
  type ClockChangeEvent,
  NTP_MAX_DISPERSION,
  type ReferenceState,
} from "./types.ts";

/** Initial skew without a driftfile, ppm (chrony: 1.0, "rather bad"). */
export const INITIAL_SKEW_PPM = 1e6;

/**
 * The clock discipline. Call `update` with each selected estimate, `setUnsynchronised`
 * when selection finds nothing, `setManualReference` for settime input.
 */
export class Reference {
  readonly #clock: LocalClock;
  readonly #driver: ClockDriver;
  readonly #log: LogPort;
  readonly #cfg: ReferenceConfig;

  readonly #makeStep: MakeStep;
  readonly #maxChange: MaxChange;
  #maxUpdateSkew: number;
  readonly #local: LocalReference;
  readonly #adjustments: ReferenceAdjustments;

  /**
   * A leap-second table (leapsectz, leapseclist; set by the daemon): the leap status it
   * schedules for the day of `now`. Consulted when the sources' vote is normal, as chrony.
   */
  leapTable: ((now: Instant) => LeapStatus) | null = null;

  #synchronised = false;
  #everSynchronised = false;
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

  readonly #leap: LeapControl;
  readonly #fallback: FallbackSchedule | null;
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
    this.#log = deps.log;
    this.#makeStep = new MakeStep(cfg.makeStep);
    this.#maxChange = new MaxChange(cfg.maxChange);
    this.#maxUpdateSkew = cfg.maxUpdateSkew;
    this.#local = new LocalReference(cfg.local);
    this.#skewPpm = initialDrift ? Math.max(initialDrift.skewPpm, 1e-6) : INITIAL_SKEW_PPM;
    const fb = cfg.fallbackDrift;
    this.#fallback = fb === null ? null : new FallbackSchedule(new FallbackDrifts(fb.min, fb.max), {
      ...deps,
      // chrony measures the fallback steps from the last reference update, synchronised
      // (holdover) or not; a step that comes due sets the reference unsynchronised.
      sinceUpdate: () =>
        Math.max(0, secondsBetween(this.#clock.cookedNow(), this.#lastUpdate ?? this.#unsyncSince)),
      onStep: () => this.setUnsynchronised(),
    });
    this.#unsyncSince = this.#clock.cookedNow();
    this.#adjustments = new ReferenceAdjustments(this.#unsyncSince);
    this.#leap = new LeapControl({
      ...deps,
      mode: cfg.leapSecMode,
      synchronised: () => this.#synchronised,
    });
  }

  /** `makestep THRESHOLD LIMIT` at run time. */
  modifyMakeStep(threshold: number, limit: number): void {
    this.#makeStep.modify(threshold, limit);
  }

  /** `maxupdateskew PPM` at run time. */
  modifyMaxUpdateSkew(ppm: number): void {
    this.#maxUpdateSkew = ppm;
  }

  /** Enables (with settings) or disables the local reference. */
  setLocal(local: LocalConfig | null): void {
    this.#local.config = local;
  }

  /** True when samples taken at `t` must be dropped because a leap second is close. */
  isLeapSecondClose(t: Instant): boolean {
    return this.#leap.isClose(t);
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
      leap: this.#local.config ? 0 : 3,
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
    const verdict = this.#maxChange.check(offset);
    if (verdict.ok) return true;
    this.#log.log("warning", verdict.message);
    if (verdict.fatal) this.onFatal?.(verdict.message);
    return false;
  }

  #update(u: ReferenceUpdate, manual: boolean): ReferenceOutcome {
    const values = [u.offset, u.offsetSd, u.frequencyPpm, u.skewPpm, u.rootDelay, u.rootDispersion];
    if (!values.every(Number.isFinite)) {
      this.#log.log("warning", "Ignoring a reference update with invalid values");
      return "ignored";
    }
    const now = this.#clock.cookedNow();
    const interval = this.#lastUpdate === null
      ? 0
      : Math.max(0, secondsBetween(now, this.#lastUpdate));

    if (!this.#isOffsetOk(u.offset)) return "ignored";

    const offset = u.offset + secondsBetween(now, u.refTime) * u.frequencyPpm * 1e-6;

    const est = clockEstimates(
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

    // leapsectz/leapseclist (dropin): a table's leap second when the sources say "normal".
    const vote = u.leap === 0 && this.leapTable !== null ? this.leapTable(now) : u.leap;
    this.#leap.update(effectiveLeap(vote, now), now);

    const remaining = this.#clock.remainingCorrection();
    const step = this.#makeStep.shouldStep(offset, remaining);
    const rate = correctionRate(this.#cfg.corrTimeRatio, offset, u.offsetSd, interval, manual);

    if (Math.abs(offset) >= this.#cfg.logChange) {
      this.#log.log(
        "warning",
        `System clock wrong by ${offset.toFixed(6)} seconds${step ? "" : ", adjustment started"}`,
      );
    }
    // Set before correcting the clock: the clock-change observer then moves it with the clock.
    this.#refTime = u.refTime;
    if (step) {
      this.#clock.accumulateFrequencyAndOffset(est.freqPpm, 0, rate);
      this.#clock.step(offset);
      this.#log.log("warning", `System clock was stepped by ${offset.toFixed(6)} seconds`);
    } else {
      this.#clock.accumulateFrequencyAndOffset(est.freqPpm, offset, rate);
    }

    this.#skewPpm = Math.max(est.skewPpm, 1e-6);
    this.#residualFreqPpm = est.residualPpm;
    this.#lastOffset = offset;
    this.#offsetSd = u.offsetSd;
    this.#adjustments.referenceUpdated();
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
    this.#synchronised = this.#leap.status !== 3;
    if (this.#synchronised) {
      this.#everSynchronised = true;
      this.#local.noteSynchronisedUpdate(u.rootDelay / 2 + u.rootDispersion);
    }

    this.#fallback?.reset();
    if (!manual) this.#fallback?.drifts.update(this.#clock.freqPpm, interval);
    // chrony update_fb_drifts + schedule_fb_drift: the first step is armed while synchronised,
    // so that a holdover longer than 2^min s hands the clock to the fallback drifts.
    if (this.#synchronised && !manual) this.#fallback?.schedule();
    this.#maybeWriteDrift(now);
    this.#updateKernelStatus();
    return step ? "stepped" : "slewed";
  }

  /**
   * chrony REF_AdjustReference: changes the frequency by `dfreq` (fraction, > 0: faster) and
   * slews `doffset` seconds without telling the clock's observers - the caller (a `local`
   * refclock) moves what must follow. Returns the change made, or null.
   */
  adjustReference(doffset: number, dfreq: number): ClockChangeEvent | null {
    if (!Number.isFinite(doffset) || !Number.isFinite(dfreq)) return null;
    const rate = this.#adjustments.nextRate(this.#clock.cookedNow(), doffset, {
      corrTimeRatio: this.#cfg.corrTimeRatio,
      offsetSd: this.#offsetSd,
      lastUpdateInterval: this.#lastUpdateInterval,
    });
    return this.#clock.accumulateQuietly(dfreq * 1e6, doffset, rate);
  }

  #maybeWriteDrift(now: Instant): void {
    if (this.onDriftUpdate === null) return;
    if (this.#lastDriftWrite === null) {
      this.#lastDriftWrite = now;
      return;
    }
    if (secondsBetween(now, this.#lastDriftWrite) >= this.#cfg.driftFileInterval) {
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
    this.#driver.setSyncStatus(sync && this.#cfg.rtcSync, est, sync ? max : NTP_MAX_DISPERSION);
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
    this.#adjustments.applyClockChange(change);
    if (change.kind === "step") this.#leap.afterStep(this.#clock.cookedNow());
  }

  /**
   * The clock was stepped by something else: the next update is treated as the first one
   * (update interval 0, so its offset is corrected as fast as allowed), and the reference no
   * longer vouches for the clock (chrony's handle_slew on LCL_ChangeUnknownStep).
   */
  handleUnknownStep(): void {
    this.#lastUpdate = null;
    this.setUnsynchronised();
  }

  /**
   * The majority of sources was lost (or the clock jumped, or a fallback drift took over):
   * become unsynchronised (keeps frequency; the fallback drifts go on). Losing every source
   * is not a reason: the engine keeps the reference in holdover then, as chrony does.
   */
  setUnsynchronised(): void {
    const now = this.#clock.cookedNow();
    if (this.#synchronised) this.#unsyncSince = now;
    this.#synchronised = false;
    if (this.#leap.status !== 3) this.#leap.update(3, now);
    this.#leap.status = 3;
    this.#updateKernelStatus();
    // chrony schedule_fb_drift: keeps a pending step, else arms the next one.
    if (!this.#fallback?.pending) this.#fallback?.schedule();
  }

  #dispersionRate(): number {
    return (this.#skewPpm + Math.abs(this.#residualFreqPpm) + this.#cfg.maxClockError) * 1e-6;
  }

  #rootDispersionAt(now: Instant): number {
    if (this.#refTime === 0n) return NTP_MAX_DISPERSION;
    const age = Math.max(0, secondsBetween(now, this.#refTime));
    return this.#rootDispersion + age * this.#dispersionRate();
  }

  #snapshot(): ReferenceSnapshot {
    const now = this.#clock.cookedNow();
    const rootDispersionNow = this.#rootDispersionAt(now);
    const localActive = this.#local.active({
      synchronised: this.#synchronised,
      rootDistance: this.#rootDelay / 2 + rootDispersionNow,
      sinceUpdate: this.#lastUpdate === null ? Infinity : secondsBetween(now, this.#lastUpdate),
      sinceUnsync: secondsBetween(now, this.#unsyncSince),
    });
    return {
      now,
      synchronised: this.#synchronised,
      localActive,
      localStratum: this.#local.config?.stratum ?? 0,
      localAnchor: this.#unsyncSince,
      leap: this.#leap.status,
      stratum: this.#stratum,
      refId: this.#refId,
      refAddress: this.#refAddress,
      refTime: this.#refTime,
      rootDelay: this.#rootDelay,
      rootDispersion: this.#rootDispersion,
      rootDispersionNow,
      dispersionRate: this.#dispersionRate(),
      precision: this.#clock.precision,
      precisionLog2: this.#clock.precisionLog2,
      maxClockError: this.#cfg.maxClockError,
      tracking: () => ({
        systemTimeOffset: this.#clock.remainingCorrection(),
        lastOffset: this.#lastOffset,
        rmsOffset: Math.sqrt(this.#avg2Offset),
        freqPpm: this.#clock.freqPpm,
        residualFreqPpm: this.#residualFreqPpm,
        skewPpm: this.#skewPpm,
        lastUpdateInterval: this.#lastUpdateInterval,
      }),
    };
  }

  /** The reference state the NTP server answers from. */
  state(): ReferenceState {
    return referenceState(this.#snapshot());
  }

  /** chronyc `tracking`. */
  trackingReport(): TrackingReport {
    return trackingReport(this.#snapshot());
  }

  /** Cancels timers (leap, fallback). */
  stop(): void {
    this.#fallback?.cancel();
    this.#leap.stop();
  }
}
