/**
 * A reference clock as a `Source` (chrony's refclock.c instance): it sends nothing; its
 * driver (outside core) hands it raw samples through `addSample`, which go into chrony's
 * refclock median filter, and at each poll `timeout` shifts the reachability register (set
 * when a sample arrived since the last poll), takes one filtered sample and hands it to the
 * source's statistics, so that selection takes it like an NTP source.
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
import type { Source, SourceContext, SourceMode, SourceOutcome } from "./source.ts";

/** chrony's combine ratio of the refclock filter. */
export const REFCLOCK_COMBINE_RATIO = 0.6;

/** Largest |offset| chrony takes from a driver (UTI_IsTimeOffsetSane's bound), seconds. */
export const MAX_REFCLOCK_OFFSET = 2 ** 31 - 1;

/** A refid text as the 32-bit reference ID (ASCII, NUL padded). */
export function refIdFromText(text: string): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v = (v << 8) | (i < text.length ? text.charCodeAt(i) & 0xff : 0);
  return v >>> 0;
}

/** A sample as a driver delivers it. */
export interface RefclockRawSample {
  /** Cooked local time at which the reference time was taken. */
  time: Instant;
  /** Reference minus local time at `time`, seconds (before the `offset` option). */
  offset: number;
  /** Leap indicator from the device: 0 none, 1 insert, 2 delete (others drop the sample). */
  leap: number;
}

/** A sample as refclocks.log shows it (see io/log_files.ts RefclockLogRecord). */
export interface RefclockSampleLog {
  /** Cooked time of the sample. */
  time: Instant;
  /** Refid text. */
  refId: string;
  /** Samples since the last poll (raw sample), or null (filtered sample). */
  count: number | null;
  /** Leap status. */
  leap: number;
  /** Offset from the driver after the clock correction, seconds (raw samples). */
  rawOffset: number;
  /** Offset with the `offset` option applied, seconds. */
  offset: number;
  /** Dispersion, seconds. */
  dispersion: number;
}

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
}

/** A reference clock source. */
export class RefclockSource implements Source {
  /** Engine id. */
  readonly id: number;
  /** Always "refclock". */
  readonly type = "refclock" as const;
  /** Pseudo-address: the refid. */
  readonly address: SocketAddress;
  /** No name. */
  readonly name: null = null;
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
  readonly #reach = new Reachability();
  #reached = 0;
  #leap: LeapStatus = 0;
  #running = false;
  #lastSampleTime: Instant | null = null;
  #lastOffset = 0;
  #lastDispersion = 0;
  readonly #counters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };

  /** Creates the source (no wake-ups before `start`). */
  constructor(o: RefclockSourceOptions) {
    this.id = o.id;
    this.config = o.config;
    this.stats = o.stats;
    this.address = { address: o.refId, port: 0 };
    this.refId = refIdFromText(o.refId);
    this.#precision = Math.max(o.precision, o.config.precision);
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

  /** Address as text: the refid. */
  get addressText(): string {
    return this.address.address;
  }
  /** The selection options (and poll) as SourceParams. */
  get params(): Readonly<SourceParams> {
    return this.#params;
  }
  /** Poll exponent. */
  get poll(): number {
    return this.config.poll;
  }
  /** Reachability register. */
  get reachability(): number {
    return this.#reach.register;
  }
  /** Polls in the register (0..8). */
  get reachabilitySize(): number {
    return this.#reach.size;
  }
  /** Consecutive polls without samples while the register is zero. */
  get unreachableRun(): number {
    return this.#reach.unreachableRun;
  }
  /** Polls since the last filtered sample. */
  get pollsSinceGoodSample(): number {
    return this.#reach.pollsSinceGoodSample;
  }
  /** Always online. */
  get mode(): SourceMode {
    return "online";
  }
  /** Never denied. */
  get denied(): boolean {
    return false;
  }
  /** Time of the newest filtered sample. */
  get lastSampleTime(): Instant | null {
    return this.#lastSampleTime;
  }
  /** A refclock transmits nothing. */
  get lastTransmit(): Instant | null {
    return null;
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

  #wake(): SourceOutcome {
    return { kind: "wake", delay: 2 ** this.config.poll, fromLastTx: false, separation: 0 };
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
      return [{
        kind: "log",
        level: "debug",
        message: `${this.addressText}: insane offset dropped`,
      }];
    }
    if (s.leap !== 0 && s.leap !== 1 && s.leap !== 2) {
      return [{ kind: "log", level: "debug", message: `${this.addressText}: bad leap ${s.leap}` }];
    }
    if (ctx.isLeapSecondClose(s.time)) return [];
    // chrony counts the source reached even when the filter refuses the sample's time.
    this.#reached++;
    this.#leap = s.leap as LeapStatus;
    const offset = s.offset + this.#params.offset;
    const dispersion = this.#precision;
    const ok = this.#filter.add({
      time: s.time,
      offset,
      peerDelay: this.config.delay,
      rootDelay: this.config.delay,
      peerDispersion: dispersion,
      rootDispersion: dispersion,
    });
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

  /** A poll: reachability, then one filtered sample to the statistics. */
  timeout(_ctx: SourceContext): SourceOutcome[] {
    if (!this.#running) return [];
    const reached = this.#reached > 0;
    this.#reached = 0;
    this.#reach.shift(reached ? 1 : 0);
    const out: SourceOutcome[] = [{ kind: "reachability", reachable: reached }];
    const f = this.#filter.filtered();
    if (f !== null) {
      this.#reach.pollsSinceGoodSample = 0;
      this.#counters.goodRx++;
      const sample = {
        time: f.time,
        offset: f.offset,
        peerDelay: f.peerDelay,
        peerDispersion: f.peerDispersion,
        rootDelay: f.rootDelay,
        rootDispersion: f.rootDispersion,
        stratum: this.config.stratum,
        leap: this.#leap,
      };
      this.stats.accumulate(sample);
      this.stats.regress();
      this.#lastSampleTime = f.time;
      this.#lastOffset = f.offset;
      this.#lastDispersion = f.peerDispersion;
      out.push({ kind: "sample", sample });
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

  /** Nothing is ever sent. */
  sent(): SourceOutcome[] {
    return [];
  }
  /** Nothing is ever sent. */
  transmitted(): void {}
  /** Nothing is ever sent. */
  sendFailed(): SourceOutcome[] {
    return [];
  }
  /** A refclock gets no replies. */
  receive(): SourceOutcome[] {
    return [];
  }
  /** No requests outstanding. */
  expects(): boolean {
    return false;
  }
  /** A refclock is always online (chrony: online/offline apply to NTP sources only). */
  setOnline(): SourceOutcome[] {
    return [];
  }
  /** No bursts for refclocks. */
  burst(): SourceOutcome[] {
    return [];
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
    return {
      remoteAddress: this.addressText,
      remotePort: 0,
      localAddress: "0.0.0.0",
      leap: this.#leap,
      version: 0,
      mode: 0,
      stratum: this.config.stratum,
      poll: this.config.poll,
      precision: Math.round(Math.log2(this.#precision)),
      rootDelay: this.config.delay,
      rootDispersion: this.#lastDispersion,
      refId: this.refId,
      refTime: this.#lastSampleTime ?? 0n,
      offset: this.#lastOffset,
      peerDelay: this.config.delay,
      peerDispersion: this.#lastDispersion,
      responseTime: 0,
      jitterAsymmetry: 0,
      tests: 0,
      interleaved: false,
      authenticated: false,
      totalTx: 0,
      totalRx: this.#counters.rx,
      totalValidRx: this.#counters.validRx,
      totalGoodRx: this.#counters.goodRx,
    };
  }
}
