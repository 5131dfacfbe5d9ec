/**
 * A reference clock as a `Source` (chrony's refclock.c instance): it sends nothing; its
 * driver (outside core) hands it raw samples through `addSample`, which go into chrony's
 * refclock median filter, and at each poll `timeout` shifts the reachability register (set
 * when a sample arrived since the last poll), takes one filtered sample and hands it to the
 * source's statistics, so that selection takes it like an NTP source. Pulses (a PPS driver,
 * or any driver under the `pps` option) go through `addPulse`: their seconds come from the
 * `lock` refclock or the synchronised clock (refclock_pulse.ts). A `local` refclock locks
 * its pulses to itself and asks, after each filtered sample, for the clock change that keeps
 * the system clock on it (refclock_local.ts).
 *
 * @module
 */
import type { RefclockConfig, SourceParams } from "../../config/model.ts";
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import type { SocketAddress } from "../../base/ports.ts";
import type { LeapStatus, NtpDataReport } from "../reports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";
import { Reachability } from "./reachability.ts";
import { RefclockFilter } from "./refclock_filter.ts";
import {
  followLocal,
  localEstimate,
  localPulse,
  pulseOptions,
  wholeSecondCorrection,
} from "./refclock_local.ts";
import {
  lockedPulse,
  type LockSample,
  type PulseResult,
  pulseSecond,
  unlockedPulse,
  unlockedPulseStratum,
} from "./refclock_pulse.ts";
import type { Source, SourceContext, SourceOutcome } from "./source.ts";
import { SilentSource } from "./silent_source.ts";
import {
  MAX_REFCLOCK_OFFSET,
  REFCLOCK_COMBINE_RATIO,
  refclockNtpData,
  type RefclockRawSample,
  type RefclockSampleLog,
  taiMinusUtc,
} from "./refclock_types.ts";
import { refIdFromAscii } from "../../ntp/packet.ts";

/** Construction options of a refclock source. */
export interface RefclockSourceOptions {
  /** Engine id. */
  id: number;
  /** The refclock's configuration. */
  config: RefclockConfig;
  /** Its refid text (configured or chrony's default). */
  refId: string;
  /** The source's statistics. */
  stats: SourceStats;
  /** Precision of the local clock, seconds. */
  precision: number;
  /** The refclock with refid text `refId` (for `lock` and the PPS stratum). */
  lookup?: (refId: string | number) => RefclockSource | null;
  /** TAI - UTC at a cooked time, or null when unknown (the `tai` option). */
  taiOffset?: (t: Instant) => number | null;
}

/** A reference clock source. */
export class RefclockSource extends SilentSource implements Source {
  /** Engine id. */
  readonly id: number;
  /** Always "refclock". */
  readonly type = "refclock" as const;
  /** Pseudo-address: the refid. */
  readonly address: SocketAddress;
  /** The source's statistics. */
  readonly stats: SourceStats;
  /** The refclock configuration. */
  readonly config: RefclockConfig;
  /** Reference ID (from the refid text). */
  readonly refId: number;
  /** Called with every accepted raw sample and every filtered sample (refclocks.log). */
  onSampleLog: ((r: RefclockSampleLog) => void) | null = null;
  readonly #params: SourceParams;
  readonly #filter: RefclockFilter;
  readonly #precision: number;
  #reached = 0;
  #leap: LeapStatus = 0;
  #running = false;
  #lastSampleTime: Instant | null = null;
  #lastOffset = 0;
  #lastDispersion = 0;
  readonly #counters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };
  readonly #lookup: (refId: string | number) => RefclockSource | null;
  readonly #taiOffset: (t: Instant) => number | null;
  #ppsActive = false;

  /** Creates the source (no wake-ups before `start`). */
  constructor(o: RefclockSourceOptions) {
    super();
    this.id = o.id;
    this.config = o.config;
    this.stats = o.stats;
    this.address = { address: o.refId, port: 0 };
    this.refId = refIdFromAscii(o.refId);
    this.#precision = Math.max(o.precision, o.config.precision);
    this.#lookup = o.lookup ?? (() => null);
    this.#taiOffset = o.taiOffset ?? (() => null);
    const c = o.config;
    this.#params = {
      ...DEFAULT_SOURCE_PARAMS,
      minPoll: c.poll,
      maxPoll: c.poll,
      prefer: c.prefer,
      noselect: c.noselect,
      trust: c.trust,
      require: c.require,
      minSamples: c.minSamples,
      maxSamples: c.maxSamples,
      maxUnreach: c.maxUnreach,
      offset: c.offset,
      filter: c.filter,
    };
    this.#filter = new RefclockFilter({
      minSamples: 1,
      maxSamples: c.filter,
      maxDispersion: c.maxDispersion,
      combineRatio: REFCLOCK_COMBINE_RATIO,
      precision: o.precision,
    });
  }

  /** The selection options (and poll) as SourceParams. */
  get params(): Readonly<SourceParams> {
    return this.#params;
  }
  /** Poll exponent. */
  get poll(): number {
    return this.config.poll;
  }
  /** Time of the newest filtered sample. */
  get lastSampleTime(): Instant | null {
    return this.#lastSampleTime;
  }
  /** Counters: rx = samples from the driver, validRx = accepted, goodRx = filtered. */
  get counters(): { tx: number; rx: number; validRx: number; goodRx: number } {
    return { ...this.#counters };
  }
  /** True between start and stop. */
  get running(): boolean {
    return this.#running;
  }
  /** Samples waiting in the filter. */
  get pendingSamples(): number {
    return this.#filter.size;
  }
  /** Leap status of the newest sample. */
  get leapStatus(): LeapStatus {
    return this.#leap;
  }
  /** True when the newest sample was a pulse timed by the clock itself (no lock). */
  get unlockedPulseActive(): boolean {
    return this.#ppsActive && this.config.lock === null && !this.config.local;
  }
  /** The newest sample that went into the filter, as a lock for pulses (null: none). */
  get lockSample(): LockSample | null {
    const last = this.#filter.lastSample;
    if (last === null) return null;
    return {
      time: last.time,
      offset: last.offset,
      dispersion: last.rootDispersion + this.#filter.averageDispersion,
      leap: this.#leap,
    };
  }

  /** chrony's valid_sample_time: not in the future, not older than two polls. */
  #validTime(t: Instant, ctx: SourceContext): boolean {
    const age = Number(ctx.now - t) / 1e9;
    return age >= -1e-3 && age <= 2 ** (this.config.poll + 1);
  }

  /** A drop worth a debug line. */
  #drop(why: string): SourceOutcome[] {
    return [{ kind: "log", level: "debug", message: `${this.addressText}: ${why}` }];
  }

  #wake(): SourceOutcome {
    return { kind: "wake", delay: 2 ** this.config.poll, fromLastTx: false, separation: 0 };
  }

  /** Adds a driver sample or pulse to the filter, with the configured delay; false if refused. */
  #addToFilter(time: Instant, offset: number, dispersion: number): boolean {
    const delay = this.config.delay;
    return this.#filter.add({
      time,
      offset,
      peerDelay: delay,
      rootDelay: delay,
      peerDispersion: dispersion,
      rootDispersion: dispersion,
    });
  }

  /** Starts polling. */
  start(_ctx: SourceContext): SourceOutcome[] {
    if (this.#running) return [];
    this.#running = true;
    return [this.#wake()];
  }

  /** Stops polling. */
  stop(): void {
    this.#running = false;
  }

  /**
   * A sample from the driver (chrony RCL_AddSample). Returns a log outcome when it is
   * dropped for a reason worth telling; bad device data never throws.
   */
  addSample(s: RefclockRawSample, ctx: SourceContext): SourceOutcome[] {
    this.#counters.rx++;
    if (!this.#running) return [];
    if (!Number.isFinite(s.offset) || Math.abs(s.offset) > MAX_REFCLOCK_OFFSET) {
      return this.#drop("insane offset dropped");
    }
    if (this.config.pps || this.config.local) {
      return this.addPulse(s.time, pulseSecond(s.time, s.offset), ctx);
    }
    if (!this.#validTime(s.time, ctx)) return this.#drop("sample time not valid");
    if (s.leap !== 0 && s.leap !== 1 && s.leap !== 2) return this.#drop(`bad leap ${s.leap}`);
    if (ctx.isLeapSecondClose(s.time)) return [];
    let offset = s.offset + this.#params.offset;
    if (this.config.tai) {
      const tai = taiMinusUtc(s.time, offset, this.#taiOffset);
      if (tai === null) return this.#drop("unknown TAI offset");
      offset -= tai;
    }
    // chrony counts the source reached even when the filter refuses the sample's time.
    this.#reached++;
    this.#leap = s.leap as LeapStatus;
    this.#ppsActive = false;
    const dispersion = this.#precision;
    const ok = this.#addToFilter(s.time, offset, dispersion);
    if (ok) {
      this.#counters.validRx++;
      this.onSampleLog?.({
        time: s.time,
        refId: this.addressText,
        count: this.#reached - 1,
        leap: this.#leap,
        rawOffset: s.offset,
        offset,
        dispersion,
      });
    }
    return [];
  }

  /**
   * A pulse (chrony RCL_AddCookedPulse): the local clock read `second` past a pulse-interval
   * boundary at cooked time `time`. Timed by the `lock` refclock's newest sample, or
   * without a lock by the synchronised clock.
   */
  addPulse(time: Instant, second: number, ctx: SourceContext): SourceOutcome[] {
    if (!this.#running) return [];
    if (!Number.isFinite(second) || !this.#validTime(time, ctx)) {
      return this.#drop("pulse time not valid");
    }
    const dispersion = this.#precision;
    const local = this.config.local;
    const o = pulseOptions(this.config, this.#params.offset);
    let r: PulseResult;
    if (local) {
      const p = localPulse(time, second, dispersion, this.lockSample, this.#filter, o);
      if (p === "lost") return this.#lostLock();
      r = p;
    } else if (this.config.lock !== null) {
      const lock = this.#lookup(this.config.lock);
      r = lockedPulse(time, second, dispersion, lock?.lockSample ?? null, o);
    } else {
      r = unlockedPulse(second, ctx.reference(), time, o);
      if (!r.ok && r.dropFilter) this.#filter.clear();
    }
    // chrony counts the source reached only for pulses that get past the lock checks.
    if (!r.ok) return this.#drop(`pulse dropped: ${r.reason}`);
    this.#reached++;
    const ok = this.#addToFilter(time, r.offset, dispersion);
    if (!ok) return [];
    this.#counters.validRx++;
    this.#leap = local ? 3 : r.leap === 3 ? 0 : r.leap;
    this.#ppsActive = true;
    this.onSampleLog?.({
      time,
      refId: this.addressText,
      count: this.#reached - 1,
      leap: this.#leap,
      rawOffset: r.offset - this.#params.offset,
      offset: r.offset,
      dispersion,
      pulse: true,
    });
    return [];
  }

  /** chrony: a local refclock that lost its lock starts over (filter, statistics, reach). */
  #lostLock(): SourceOutcome[] {
    this.#filter.clear();
    this.stats.reset();
    this.reach = new Reachability();
    return [{ kind: "log", level: "warning", message: "Local refclock lost lock" }];
  }

  /** The stratum of a filtered sample (chrony: pps_stratum for an unlocked pulse source). */
  #sampleStratum(ctx: SourceContext): number {
    if (!this.unlockedPulseActive) return this.config.stratum;
    return unlockedPulseStratum(
      ctx.reference(),
      this.refId,
      (refId) => this.#lookup(refId)?.unlockedPulseActive ?? false,
    );
  }

  /** A poll: reachability, then one filtered sample to the statistics. */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (!this.#running) return [];
    const reached = this.#reached > 0;
    this.#reached = 0;
    this.reach.shift(reached ? 1 : 0);
    const out: SourceOutcome[] = [{ kind: "reachability", reachable: reached }];
    const f = this.#filter.filtered();
    if (f !== null) {
      this.reach.pollsSinceGoodSample = 0;
      this.#counters.goodRx++;
      const sample = { ...f, stratum: this.#sampleStratum(ctx), leap: this.#leap };
      const before = this.config.local ? localEstimate(this.stats) : null;
      this.stats.accumulate(sample);
      this.stats.regress();
      this.#lastSampleTime = f.time;
      this.#lastOffset = f.offset;
      this.#lastDispersion = f.peerDispersion;
      out.push({ kind: "sample", sample });
      if (this.config.local) out.push(...this.#followLocal(before));
      this.onSampleLog?.({
        time: f.time,
        refId: this.addressText,
        count: null,
        leap: this.#leap,
        rawOffset: f.offset,
        offset: f.offset,
        dispersion: f.peerDispersion,
      });
    }
    out.push(this.#wake());
    return out;
  }

  /**
   * chrony follow_local: the clock change that undoes what moved since `before` (asked of the
   * engine, which applies it to this source alone), and whole seconds off the offsets.
   */
  #followLocal(before: ReturnType<typeof localEstimate>): SourceOutcome[] {
    const after = localEstimate(this.stats);
    const adjust = followLocal(before, after);
    if (adjust === null || after === null) return [];
    const whole = wholeSecondCorrection(after.offset);
    if (whole !== 0) {
      this.stats.correctOffset(whole);
      this.#filter.correctOffset(whole);
    }
    return [{ kind: "adjust-clock", doffset: adjust.doffset, dfreq: adjust.dfreq }];
  }

  /** Only `offset` can change at run time (chrony's modify offset). */
  modify(field: keyof SourceParams, value: number): boolean {
    if (field !== "offset" || !Number.isFinite(value)) return false;
    this.#params.offset = value;
    return true;
  }
  /** Drops the filter's samples. */
  resetHistory(): void {
    this.#filter.clear();
  }
  /** Moves the filter's samples onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#filter.applyClockChange(change);
    if (this.#lastSampleTime !== null && change.kind !== "unknown") {
      const age = Number(this.#lastSampleTime - change.when) / 1e9;
      this.#lastSampleTime += BigInt(Math.round((change.doffset + age * change.dfreq) * 1e9));
    }
  }
  /** chronyc `ntpdata` makes no sense for a refclock; the fields it shows are filled in. */
  ntpData(_now: Instant): NtpDataReport {
    return refclockNtpData({
      refIdText: this.addressText,
      refId: this.refId,
      leap: this.#leap,
      stratum: this.config.stratum,
      poll: this.config.poll,
      precision: this.#precision,
      delay: this.config.delay,
      dispersion: this.#lastDispersion,
      lastSampleTime: this.#lastSampleTime,
      offset: this.#lastOffset,
      counters: this.#counters,
    });
  }
}
