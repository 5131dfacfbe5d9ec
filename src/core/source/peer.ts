/**
 * A symmetric active association (`peer ADDRESS`, RFC 5905 modes 1 and 2) as a `Source`
 * state machine, after chrony's ntp_core.c in MODE_ACTIVE: every packet we send is both a
 * request and the answer to the peer's last packet (origin = its transmit timestamp,
 * receive = when we got it, transmit = now), sent from the daemon's NTP port (the `send`
 * outcome says `via: "ntp-port"`); every packet from the peer (mode 1, or mode 2 from a peer
 * that answers passively) is measured by `measureReply` in symmetric mode against our last
 * packet. The per-association timestamps live in `PeerTimestamps`.
 *
 * Timing as chrony (peer_timing.ts): the shorter of our and the peer's polling interval once
 * it answers, and after each valid packet the next transmission a poll interval later (10 %
 * later when the peer's stratum is higher than ours, or to interleave evenly with an
 * equal-stratum peer).
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import { decodePacket, type NtpPacket } from "../../ntp/packet.ts";
import {
  BAD_RESPONSE_ADJ,
  MAX_LAN_PEER_DELAY,
  NO_RESPONSE_ADJ,
  NO_RESPONSE_SELECTED_ADJ,
  SYNC_LOOP_ADJ,
} from "../poll.ts";
import type { RandomPort, SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent, NtpSample } from "../types.ts";
import { type ReplyVerdict, TestBit } from "./measure.ts";
import { measurePeerPacket } from "./peer_measure.ts";
import { type LastMeasurement, ntpDataReport, type SourceCounters } from "./ntp_data.ts";
import { PollSchedule } from "./ntp_schedule.ts";
import { peerTransmitDelay } from "./peer_timing.ts";
import { buildPeerPacket } from "./peer_packet.ts";
import { PeerTimestamps } from "./peer_timestamps.ts";
import { betterTransmitTime, PeerInterleave } from "./peer_interleave.ts";
import { Reachability } from "./reachability.ts";
import { SampleIntake, sourceMeasureContext } from "./sample_intake.ts";
import { SourceKey } from "./source_key.ts";
import type { NtpClientOptions } from "./ntp_client.ts";
import {
  logOutcome as log,
  type Source,
  type SourceContext,
  type SourceMode,
  type SourceOutcome,
} from "./source.ts";

/** Stratum assumed for a peer that sent nothing valid yet (NTP_MAX_STRATUM). */
const MAX_STRATUM = 16;

/**
 * Construction options of a peer: those of a client source but its type (iburst, burst and
 * presend have no effect on a peer, as in chrony; a missing key means nothing is sent).
 */
export type PeerOptions = Omit<NtpClientOptions, "type">;

/** A symmetric active association. */
export class PeerSource implements Source {
  /** Engine id. */
  readonly id: number;
  /** Always "peer". */
  readonly type = "peer" as const;
  /** The peer's address. */
  readonly address: SocketAddress;
  /** Configured name (or null). */
  readonly name: string | null;
  /** The association's statistics. */
  readonly stats: SourceStats;
  readonly #precision: number;
  readonly #maxClockError: number;
  readonly #random: RandomPort;
  readonly #key: SourceKey;
  readonly #schedule: PollSchedule;
  readonly #ts = new PeerTimestamps();
  readonly #xl: PeerInterleave;
  readonly #reach = new Reachability();
  readonly #intake: SampleIntake;
  #started = false;
  #token = 0;
  #txCount = 0;
  #remotePoll = 0;
  #remoteStratum = MAX_STRATUM;
  #lastPacket: NtpPacket | null = null;
  #last: LastMeasurement = { offset: 0, delay: 0, dispersion: 0, responseTime: 0, tests: 0 };
  readonly #counters: SourceCounters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };

  /** Creates the association (silent until `start`). */
  constructor(o: PeerOptions) {
    this.id = o.id;
    this.address = o.address;
    this.name = o.name;
    this.stats = o.stats;
    this.#intake = new SampleIntake(o.stats);
    this.#xl = new PeerInterleave(o.params.xleave);
    this.#precision = o.precision;
    this.#maxClockError = o.maxClockError;
    this.#random = o.random;
    this.#key = new SourceKey(o.params.key, o.key);
    // chrony: iburst, burst and presend do nothing for peers (the config parser warns).
    const params = { ...o.params, iburst: false, burst: false, presend: null };
    this.#schedule = new PollSchedule(params, o.random);
  }

  /** The options in force. */
  get params(): Readonly<SourceParams> {
    return this.#schedule.params;
  }
  /** Current poll exponent, log2 s. */
  get poll(): number {
    return this.#schedule.poll;
  }
  /** 8-bit reachability register. */
  get reachability(): number {
    return this.#reach.register;
  }
  /** Polls shifted into the register so far. */
  get reachabilitySize(): number {
    return this.#reach.size;
  }
  /** Consecutive polls without reply while unreachable. */
  get unreachableRun(): number {
    return this.#reach.unreachableRun;
  }
  /** Polls since the last good sample. */
  get pollsSinceGoodSample(): number {
    return this.#reach.pollsSinceGoodSample;
  }
  /** Operating mode. */
  get mode(): SourceMode {
    return this.#schedule.mode;
  }
  /** A peer is never demobilised by a Kiss-o'-Death. */
  get denied(): boolean {
    return false;
  }
  /** Cooked time of the newest good sample. */
  get lastSampleTime(): Instant | null {
    return this.#intake.lastSampleTime;
  }
  /** Cooked time of our newest packet. */
  get lastTransmit(): Instant | null {
    return this.#ts.localTx;
  }
  /** True between start and stop. */
  get running(): boolean {
    return this.#started;
  }
  /** Counters. */
  get counters(): SourceCounters {
    return { ...this.#counters };
  }
  /** Address as text. */
  get addressText(): string {
    return this.address.address;
  }
  /** The peer's polling interval as it announced it, log2 s. */
  get remotePoll(): number {
    return this.#remotePoll;
  }

  /** Starts the association (unless configured offline). */
  start(ctx: SourceContext): SourceOutcome[] {
    if (this.#started) return [];
    this.#started = true;
    if (this.params.offline) {
      this.#schedule.mode = "offline";
      return [];
    }
    return this.#goOnline(ctx);
  }

  /** Stops it. */
  stop(): void {
    this.#started = false;
  }

  #wake(delay: number): SourceOutcome {
    return { kind: "wake", delay, fromLastTx: false, separation: this.#schedule.separation() };
  }

  #goOnline(ctx: SourceContext): SourceOutcome[] {
    this.#txCount = 0;
    return [this.#wake(this.#schedule.goOnline(ctx.now, this.#ts.localTx))];
  }

  /** Online/offline (chronyc); offline keeps the history but not the peer's timestamps. */
  setOnline(online: boolean, ctx: SourceContext): SourceOutcome[] {
    const s = this.#schedule;
    if (online) {
      if (s.mode === "offline") {
        this.#started = true;
        return this.#goOnline(ctx);
      }
      if (s.mode === "burst-offline") s.mode = "burst-online";
      return [];
    }
    return this.#offline();
  }

  #offline(): SourceOutcome[] {
    const s = this.#schedule;
    if (s.mode === "online") {
      s.mode = "offline";
      this.#ts.reset();
      this.#xl.reset();
      this.#reach.reset();
      return [{ kind: "cancel-wake" }, this.#shiftReach(0)];
    }
    if (s.mode === "burst-online") s.mode = "burst-offline";
    return [];
  }

  /** chronyc burst. */
  burst(good: number, total: number): SourceOutcome[] {
    return [this.#wake(this.#schedule.commandBurst(good, total))];
  }

  /** chronyc minpoll/maxpoll/maxdelay...: changes an option. */
  modify(field: keyof SourceParams, value: number): boolean {
    return this.#schedule.modify(field, value);
  }

  /** Drops the filter (the engine resets the statistics). */
  resetHistory(): void {
    this.#intake.reset();
  }

  /** Moves stored local timestamps onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#intake.applyClockChange(change);
    if (change.kind === "unknown") {
      // Our receive times no longer mean anything: start the exchange again.
      this.#ts.reset();
      this.#xl.reset();
      return;
    }
    this.#ts.applyClockChange(change);
    this.#xl.applyClockChange(change);
  }

  #shiftReach(bit: 0 | 1): SourceOutcome {
    this.#reach.shift(bit);
    return { kind: "reachability", reachable: bit === 1 };
  }

  #adjustPoll(adj: number): void {
    const lanOk = this.#reach.register !== 0 &&
      this.stats.minRoundTripDelay() <= MAX_LAN_PEER_DELAY;
    this.#schedule.adjust(adj, lanOk);
  }

  /** chrony get_transmit_delay for a peer, randomised; counted from now. */
  #transmitDelay(onTx: boolean, ctx: SourceContext): number {
    const localTx = this.#ts.localTx;
    return peerTransmitDelay({
      poll: this.#schedule.poll,
      minPoll: this.params.minPoll,
      remotePoll: this.#remotePoll,
      reachable: this.#reach.register !== 0,
      inBurst: this.#schedule.inBurst(),
      stratumDiff: this.#remoteStratum - ctx.reference().stratum,
      sinceLastTx: onTx || localTx === null ? 0 : Number(ctx.now - localTx) / 1e9,
      onTx,
      random: this.#random.next(),
    });
  }

  /** The wake-up is due: send our packet (request and answer in one). */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (!this.#started) return [];
    if (this.#schedule.beforeTransmit() === "stop") return [];
    if (this.#key.missing) {
      const out: SourceOutcome[] = this.#key.reportMissing()
        ? [log("error", `Key ${this.params.key} is missing: not polling ${this.addressText}`)]
        : [];
      this.#token++;
      return [...out, ...this.#afterTransmit(false, ctx)];
    }
    const echo = this.#ts.nextEcho();
    const xleave = this.#xl.nextFields(echo, this.#ts, this.#txCount); // null: basic
    const packet = buildPeerPacket(ctx.reference(), {
      mode: 1,
      version: this.params.version,
      poll: this.#schedule.poll,
      origin: xleave?.origin ?? echo.origin,
      receive: echo.receive,
      transmit: xleave?.transmit ?? ctx.now,
      previousTransmit: this.#ts.localNtpTx,
      previousReceive: this.#xl.localNtpRx,
      key: this.#key.key,
    });
    this.#xl.localNtpRx = packet.receiveField;
    this.#ts.sent(packet.transmitField, ctx.now);
    this.#counters.tx++;
    const token = ++this.#token;
    return [{ kind: "send", token, to: this.address, bytes: packet.bytes, via: "ntp-port" }];
  }

  /** The engine sent (or failed to send) our packet at `txTime`. */
  sent(token: number, ok: boolean, txTime: Instant, ctx: SourceContext): SourceOutcome[] {
    if (token !== this.#token) return [];
    this.#ts.localTx = txTime;
    return this.#afterTransmit(ok, ctx);
  }

  #afterTransmit(ok: boolean, ctx: SourceContext): SourceOutcome[] {
    const out: SourceOutcome[] = [];
    this.#txCount++;
    if (this.#txCount >= 2) {
      // No valid packet since our previous one.
      if (ok) this.#adjustPoll(ctx.selected ? NO_RESPONSE_SELECTED_ADJ : NO_RESPONSE_ADJ);
      out.push(this.#shiftReach(0));
    }
    this.#schedule.countBurstRequest();
    if (!ok && this.params.autoOffline) {
      out.push(log("info", `Source ${this.addressText} offline (send failed)`));
      out.push(...this.#offline());
      return out;
    }
    out.push(this.#wake(this.#transmitDelay(true, ctx)));
    return out;
  }

  /** A kernel transmit timestamp of our newest packet. */
  transmitted(token: number, txTime: Instant): void {
    if (token === this.#token && !this.#ts.validRx) this.#ts.localTx = txTime;
  }

  /**
   * The kernel's transmit time of a mode 1 packet from the NTP port with these transmit and
   * receive fields: true (and taken) when it is our newest packet.
   */
  transmittedPacket(transmitField: bigint, receiveField: bigint, txTime: Instant): boolean {
    const ts = this.#ts;
    const tx = betterTransmitTime(ts, this.#xl.localNtpRx, transmitField, receiveField, txTime);
    if (tx !== null) ts.localTx = tx;
    return tx !== null;
  }

  /** A deferred send failed: auto_offline applies. */
  sendFailed(token: number): SourceOutcome[] {
    if (token !== this.#token || !this.params.autoOffline || this.mode === "offline") return [];
    return [log("info", `Source ${this.addressText} offline (send failed)`), ...this.#offline()];
  }

  /** Packets come by address, not by request: any token of ours is current. */
  expects(token: number): boolean {
    return token === this.#token;
  }

  /** A packet from the peer (mode 1 or 2) arrived at cooked time `rx`. */
  receive(_token: number, bytes: Uint8Array, rx: Instant, ctx: SourceContext): SourceOutcome[] {
    if (!this.#started || this.mode === "offline") return [];
    const decoded = decodePacket(bytes);
    if (!decoded.ok || (decoded.packet.mode !== 1 && decoded.packet.mode !== 2)) return [];
    const pkt = decoded.packet;
    this.#counters.rx++;
    const ts = this.#ts;
    const { verdict, authentic } = measurePeerPacket(
      bytes,
      pkt,
      rx,
      ts,
      {
        ...sourceMeasureContext(this.params, this.stats, this.#precision, this.#maxClockError, ctx),
        auth: this.#key.auth,
        ...this.#xl.measureContext(ts, this.#remotePoll),
      },
      this.#xl.request(),
    );
    const valid = verdict !== null && verdict.kind === "valid";
    const answer = ts.receive({
      receiveField: pkt.receiveTime,
      transmitField: pkt.transmitTime,
      valid,
      authentic,
    }, rx);
    this.#xl.afterVerdict(verdict, ts.localRx === rx, ts.localTx, this.poll, this.#txCount);
    if (verdict === null || verdict.kind === "ignored" || verdict.kind === "kod") return [];
    if (verdict.kind === "invalid" || !answer) {
      // A second answer to one packet of ours is not a measurement (chrony: tests 2, 3 fail).
      const tests = answer ? verdict.tests : verdict.tests & ~(TestBit.T2 | TestBit.T3);
      if ((tests & TestBit.T5) !== 0) this.#last = { ...this.#last, tests };
      return [];
    }
    return this.#valid(verdict, pkt, ctx);
  }

  #valid(
    verdict: Extract<ReplyVerdict, { kind: "valid" }>,
    pkt: NtpPacket,
    ctx: SourceContext,
  ): SourceOutcome[] {
    const { tests, rejection } = verdict;
    const m = verdict.measurement;
    this.#counters.validRx++;
    this.#lastPacket = pkt;
    this.#last = {
      offset: m.offset,
      delay: m.delay,
      dispersion: m.dispersion,
      responseTime: m.responseTime,
      tests,
      interleaved: m.interleaved,
    };
    this.#remotePoll = pkt.poll;
    this.#remoteStratum = pkt.stratum === 0 ? MAX_STRATUM : Math.min(pkt.stratum, MAX_STRATUM);
    this.#txCount = 0;
    const out: SourceOutcome[] = [this.#shiftReach(verdict.synced ? 1 : 0)];
    let good = false;
    if (rejection !== null) {
      this.#adjustPoll((tests & TestBit.TD) !== 0 ? BAD_RESPONSE_ADJ : SYNC_LOOP_ADJ);
    } else if (!ctx.isLeapSecondClose(m.sample.time)) {
      good = true;
      this.#counters.goodRx++;
      out.push(...this.#accept(m.sample));
    }
    const next = this.#schedule.afterResponse(good, verdict.kodRate);
    if (next === "cancel") out.push({ kind: "cancel-wake" });
    else if (this.mode !== "offline") {
      let delay = this.#transmitDelay(false, ctx);
      if (verdict.kodRate) {
        out.push(log("warning", `Received KoD RATE from ${this.addressText}`));
        delay += 4 * 2 ** this.#schedule.poll;
      }
      out.push(this.#wake(delay));
    }
    return out;
  }

  #accept(sample: NtpSample): SourceOutcome[] {
    this.#reach.pollsSinceGoodSample = 0;
    const taken = this.#intake.accept(sample, this.params);
    if (taken === null) return [];
    this.#adjustPoll(taken.pollAdjust);
    return [{ kind: "sample", sample: taken.sample }];
  }

  /** chronyc `ntpdata`: the last valid packet (its mode 1 or 2 shows as symmetric). */
  ntpData(now: Instant): NtpDataReport {
    return ntpDataReport(this.address, this.#lastPacket, this.#last, this.#counters, {
      jitterAsymmetry: this.stats.jitterAsymmetry,
      authenticated: this.params.key !== null,
      now,
    });
  }
}
