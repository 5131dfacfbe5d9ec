/**
 * What a client source (ntp_client.ts) and a symmetric peer (peer.ts) share: the poll
 * schedule with online/offline/burst modes, the reachability register, the sample intake and
 * its poll adjustments, the counters and last measurement behind chronyc `ntpdata`, and the
 * accounting after each transmission. Subclasses send their own packets and measure the
 * replies; every effect is still returned as a `SourceOutcome`.
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import type { NtpPacket } from "../../ntp/packet.ts";
import {
  BAD_RESPONSE_ADJ,
  MAX_LAN_PEER_DELAY,
  NO_RESPONSE_ADJ,
  NO_RESPONSE_SELECTED_ADJ,
  SYNC_LOOP_ADJ,
} from "../poll.ts";
import type { SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { NtpSample } from "../types.ts";
import { type ReplyVerdict, TestBit } from "./measure.ts";
import { type LastMeasurement, ntpDataReport, type SourceCounters } from "./ntp_data.ts";
import type { PollSchedule } from "./ntp_schedule.ts";
import { ReachableSource } from "./reachable_source.ts";
import { SampleIntake } from "./sample_intake.ts";
import type { SourceKey } from "./source_key.ts";
import type { NtpClientOptions } from "./ntp_client.ts";
import {
  logOutcome as log,
  type SourceContext,
  type SourceMode,
  type SourceOutcome,
} from "./source.ts";

/** A measured reply that passed tests 1, 2, 3 and 5. */
export type ValidVerdict = Extract<ReplyVerdict, { kind: "valid" }>;

/** What a polled source is built from: a client's identity and statistics, and these. */
export interface PolledSourceParts
  extends Pick<NtpClientOptions, "id" | "address" | "name" | "stats"> {
  /** The poll schedule, holding the options in force. */
  schedule: PollSchedule;
  /** The source's key (or none). */
  key: SourceKey;
  /** Replies are authenticated (a key or NTS), as `ntpdata` reports. */
  authenticated: boolean;
}

/** The state and behaviour shared by the NTP client and symmetric peer sources. */
export abstract class PolledSource extends ReachableSource {
  /** Engine id. */
  readonly id: number;
  /** Remote address. */
  readonly address: SocketAddress;
  /** Configured name (or null). */
  readonly name: string | null;
  /** The source's statistics. */
  readonly stats: SourceStats;
  /** The poll schedule and the options in force. */
  protected readonly schedule: PollSchedule;
  /** The key requests are protected with. */
  protected readonly key: SourceKey;
  /** The filter in front of the statistics. */
  protected readonly intake: SampleIntake;
  /** Requests, replies, valid replies and good samples. */
  protected readonly tally: SourceCounters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };
  /** True between start and stop. */
  protected started = false;
  /** Transmissions since the last valid reply. */
  protected txCount = 0;
  /** True after a KoD DENY/RSTR. */
  protected kodDenied = false;
  /** The newest valid packet, for `ntpdata`. */
  protected lastPacket: NtpPacket | null = null;
  /** What the newest valid packet measured, for `ntpdata`. */
  protected last: LastMeasurement = {
    offset: 0,
    delay: 0,
    dispersion: 0,
    responseTime: 0,
    tests: 0,
  };
  readonly #authenticated: boolean;

  /** Sets up the shared state. */
  constructor(p: PolledSourceParts) {
    super();
    this.id = p.id;
    this.address = p.address;
    this.name = p.name;
    this.stats = p.stats;
    this.schedule = p.schedule;
    this.key = p.key;
    this.intake = new SampleIntake(p.stats);
    this.#authenticated = p.authenticated;
  }

  /** Cooked time of the last transmission (the next poll is counted from it). */
  abstract get lastTransmit(): Instant | null;

  /** The options in force. */
  get params(): Readonly<SourceParams> {
    return this.schedule.params;
  }
  /** Current poll exponent, log2 s. */
  get poll(): number {
    return this.schedule.poll;
  }
  /** Operating mode. */
  get mode(): SourceMode {
    return this.schedule.mode;
  }
  /** True after a KoD DENY/RSTR (a peer is never demobilised by one). */
  get denied(): boolean {
    return this.kodDenied;
  }
  /** Cooked time of the newest good sample, or null. */
  get lastSampleTime(): Instant | null {
    return this.intake.lastSampleTime;
  }
  /** True between start and stop. */
  get running(): boolean {
    return this.started;
  }
  /** Counters: requests sent, replies, valid replies, good samples. */
  get counters(): SourceCounters {
    return { ...this.tally };
  }

  /** Starts the source: online unless configured offline. */
  start(ctx: SourceContext): SourceOutcome[] {
    if (this.started) return [];
    this.started = true;
    if (this.params.offline) {
      this.schedule.mode = "offline";
      return [];
    }
    return this.goOnline(ctx);
  }

  /** A wake-up after `delay` seconds (from the last transmission with `fromLastTx`). */
  protected wake(delay: number, fromLastTx = false): SourceOutcome {
    return { kind: "wake", delay, fromLastTx, separation: this.schedule.separation() };
  }

  /** Goes online: the first transmission as the schedule says. */
  protected goOnline(ctx: SourceContext): SourceOutcome[] {
    this.txCount = 0;
    return [this.wake(this.schedule.goOnline(ctx.now, this.lastTransmit))];
  }

  /** Sets the source online or offline (chronyc online/offline; offline keeps history). */
  setOnline(online: boolean, ctx: SourceContext): SourceOutcome[] {
    if (!online) return this.offline();
    if (this.kodDenied) return [];
    const s = this.schedule;
    if (s.mode === "offline") {
      this.started = true;
      return this.goOnline(ctx);
    }
    if (s.mode === "burst-offline") s.mode = "burst-online";
    return [];
  }

  /** What a source forgets of the exchange when it goes offline (nothing by default). */
  protected forgetExchange(): void {}

  /** Goes offline (or leaves an online burst for an offline one). */
  protected offline(): SourceOutcome[] {
    if (this.kodDenied) return [];
    const s = this.schedule;
    if (s.mode === "online") {
      s.mode = "offline";
      this.forgetExchange();
      // Unreachable now (chrony SRC_ResetReachability), which triggers a reselection.
      this.reach.reset();
      return [{ kind: "cancel-wake" }, this.shiftReach(0)];
    }
    if (s.mode === "burst-online") s.mode = "burst-offline";
    return [];
  }

  /** Starts a burst of `good` good samples out of at most `total` requests (chronyc burst). */
  burst(good: number, total: number): SourceOutcome[] {
    if (this.kodDenied) return [];
    return [this.wake(this.schedule.commandBurst(good, total))];
  }

  /** Changes a per-source option at run time (chronyc minpoll, maxpoll, maxdelay...). */
  modify(field: keyof SourceParams, value: number): boolean {
    return this.schedule.modify(field, value);
  }

  /** Shifts a poll into the reachability register. */
  protected shiftReach(bit: 0 | 1): SourceOutcome {
    this.reach.shift(bit);
    return { kind: "reachability", reachable: bit === 1 };
  }

  /** Adjusts the polling interval (shorter ones only on a LAN with replies). */
  protected adjustPoll(adj: number): void {
    const lanOk = this.reach.register !== 0 &&
      this.stats.minRoundTripDelay() <= MAX_LAN_PEER_DELAY;
    this.schedule.adjust(adj, lanOk);
  }

  /** The error line for a missing key, once (then nothing). */
  protected missingKeyLog(): SourceOutcome[] {
    if (!this.key.reportMissing()) return [];
    return [log("error", `Key ${this.params.key} is missing: not polling ${this.addressText}`)];
  }

  /**
   * Accounting after a transmission (sent or failed): a missed reply backs off and shifts a
   * zero into the register; a failed send with auto_offline goes offline; otherwise the next
   * wake-up, `nextDelay()` seconds away.
   */
  protected afterSend(
    missed: boolean,
    ok: boolean,
    ctx: SourceContext,
    nextDelay: () => number,
  ): SourceOutcome[] {
    const out: SourceOutcome[] = [];
    this.txCount++;
    if (missed) {
      if (ok) this.adjustPoll(ctx.selected ? NO_RESPONSE_SELECTED_ADJ : NO_RESPONSE_ADJ);
      out.push(this.shiftReach(0));
    }
    this.schedule.countBurstRequest();
    if (!ok && this.params.autoOffline) {
      out.push(...this.sendFailedOffline());
      return out;
    }
    out.push(this.wake(nextDelay()));
    return out;
  }

  /** A send failed: with auto_offline the source goes offline. */
  protected sendFailedOffline(): SourceOutcome[] {
    return [log("info", `Source ${this.addressText} offline (send failed)`), ...this.offline()];
  }

  /**
   * Counts a valid packet and keeps what it measured for `ntpdata`, with `extra` (where the
   * local timestamps came from).
   */
  protected recordValid(
    verdict: ValidVerdict,
    packet: NtpPacket,
    extra: Pick<LastMeasurement, "txKernel" | "rxKernel"> = {},
  ): void {
    const m = verdict.measurement;
    this.tally.validRx++;
    this.lastPacket = packet;
    this.last = {
      offset: m.offset,
      delay: m.delay,
      dispersion: m.dispersion,
      responseTime: m.responseTime,
      tests: verdict.tests,
      interleaved: m.interleaved,
      sampleTime: m.sample.time,
      ...extra,
    };
    this.txCount = 0;
  }

  /**
   * The sample of a valid packet: a rejected one adjusts the poll (faster for a sync loop),
   * one close to a leap second is dropped, a good one goes through the filter into the
   * statistics (its outcomes pushed to `out`). True when it was good.
   */
  protected takeSample(verdict: ValidVerdict, ctx: SourceContext, out: SourceOutcome[]): boolean {
    if (verdict.rejection === "delay-gate") {
      this.adjustPoll(this.intake.gated(verdict.measurement.sample, this.params));
      return false;
    }
    if (verdict.rejection !== null) {
      const testD = (verdict.tests & TestBit.TD) !== 0;
      this.adjustPoll(testD ? BAD_RESPONSE_ADJ : SYNC_LOOP_ADJ);
      return false;
    }
    const sample: NtpSample = verdict.measurement.sample;
    if (ctx.isLeapSecondClose(sample.time)) return false;
    this.tally.goodRx++;
    this.reach.pollsSinceGoodSample = 0;
    const accepted = this.intake.accept(sample, this.params, this.schedule.poll);
    if (accepted === null) return true;
    this.adjustPoll(accepted.pollAdjust);
    out.push({ kind: "sample", sample: accepted.sample });
    return true;
  }

  /** chronyc `ntpdata` for this source. */
  ntpData(now: Instant): NtpDataReport {
    return ntpDataReport(this.address, this.lastPacket, this.last, this.tally, {
      jitterAsymmetry: this.stats.jitterAsymmetry,
      authenticated: this.#authenticated,
      now,
      pollScore: this.schedule.score,
    });
  }
}
