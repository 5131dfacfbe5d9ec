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
import { decodePacket, type NtpPacket } from "../../ntp/packet.ts";
import type { RandomPort } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";
import { TestBit } from "./measure.ts";
import { measurePeerPacket } from "./peer_measure.ts";
import { PollSchedule } from "./ntp_schedule.ts";
import { peerTransmitDelay } from "./peer_timing.ts";
import { buildPeerPacket } from "./peer_packet.ts";
import { PeerTimestamps } from "./peer_timestamps.ts";
import { betterTransmitTime, PeerInterleave } from "./peer_interleave.ts";
import { sourceMeasureContext } from "./sample_intake.ts";
import { SourceKey } from "./source_key.ts";
import type { NtpClientOptions } from "./ntp_client.ts";
import { PolledSource, type ValidVerdict } from "./polled_source.ts";
import {
  logOutcome as log,
  type Source,
  type SourceContext,
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
export class PeerSource extends PolledSource implements Source {
  /** Always "peer". */
  readonly type = "peer" as const;
  readonly #precision: number;
  readonly #maxClockError: number;
  readonly #random: RandomPort;
  readonly #ts = new PeerTimestamps();
  readonly #xl: PeerInterleave;
  #token = 0;
  #remotePoll = 0;
  #remoteStratum = MAX_STRATUM;

  /** Creates the association (silent until `start`). */
  constructor(o: PeerOptions) {
    // chrony: iburst, burst and presend do nothing for peers (the config parser warns).
    const params = { ...o.params, iburst: false, burst: false, presend: null };
    super({
      ...o,
      key: new SourceKey(o.params.key, o.key),
      schedule: new PollSchedule(params, o.random),
      authenticated: o.params.key !== null,
    });
    this.#xl = new PeerInterleave(o.params.xleave);
    this.#precision = o.precision;
    this.#maxClockError = o.maxClockError;
    this.#random = o.random;
  }

  /** Cooked time of our newest packet. */
  get lastTransmit(): Instant | null {
    return this.#ts.localTx;
  }
  /** The peer's polling interval as it announced it, log2 s. */
  get remotePoll(): number {
    return this.#remotePoll;
  }

  /** Stops it. */
  stop(): void {
    this.started = false;
  }

  /** Offline keeps the history but not the peer's timestamps. */
  protected override forgetExchange(): void {
    this.#ts.reset();
    this.#xl.reset();
  }

  /** Drops the filter (the engine resets the statistics). */
  resetHistory(): void {
    this.intake.reset();
  }

  /** Moves stored local timestamps onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    this.intake.applyClockChange(change);
    if (change.kind === "unknown") {
      // Our receive times no longer mean anything: start the exchange again.
      this.forgetExchange();
      return;
    }
    this.#ts.applyClockChange(change);
    this.#xl.applyClockChange(change);
  }

  /** chrony get_transmit_delay for a peer, randomised; counted from now. */
  #transmitDelay(onTx: boolean, ctx: SourceContext): number {
    const localTx = this.#ts.localTx;
    return peerTransmitDelay({
      poll: this.schedule.poll,
      minPoll: this.params.minPoll,
      remotePoll: this.#remotePoll,
      reachable: this.reach.register !== 0,
      inBurst: this.schedule.inBurst(),
      stratumDiff: this.#remoteStratum - ctx.reference().stratum,
      sinceLastTx: onTx || localTx === null ? 0 : Number(ctx.now - localTx) / 1e9,
      onTx,
      random: this.#random.next(),
    });
  }

  /** The wake-up is due: send our packet (request and answer in one). */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (!this.started) return [];
    if (this.schedule.beforeTransmit() === "stop") return [];
    if (this.key.missing) {
      const out = this.missingKeyLog();
      this.#token++;
      return [...out, ...this.#afterTransmit(false, ctx)];
    }
    const echo = this.#ts.nextEcho();
    const xleave = this.#xl.nextFields(echo, this.#ts, this.txCount); // null: basic
    const packet = buildPeerPacket(ctx.reference(), {
      mode: 1,
      version: this.params.version,
      poll: this.schedule.poll,
      origin: xleave?.origin ?? echo.origin,
      receive: echo.receive,
      transmit: xleave?.transmit ?? ctx.now,
      previousTransmit: this.#ts.localNtpTx,
      previousReceive: this.#xl.localNtpRx,
      key: this.key.key,
    });
    this.#xl.localNtpRx = packet.receiveField;
    this.#ts.sent(packet.transmitField, ctx.now);
    this.tally.tx++;
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
    // Missed: no valid packet since our previous one.
    return this.afterSend(this.txCount >= 1, ok, ctx, () => this.#transmitDelay(true, ctx));
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
    return this.sendFailedOffline();
  }

  /** Packets come by address, not by request: any token of ours is current. */
  expects(token: number): boolean {
    return token === this.#token;
  }

  /** A packet from the peer (mode 1 or 2) arrived at cooked time `rx`. */
  receive(_token: number, bytes: Uint8Array, rx: Instant, ctx: SourceContext): SourceOutcome[] {
    if (!this.started || this.mode === "offline") return [];
    const decoded = decodePacket(bytes);
    if (!decoded.ok || (decoded.packet.mode !== 1 && decoded.packet.mode !== 2)) return [];
    const pkt = decoded.packet;
    this.tally.rx++;
    const ts = this.#ts;
    const { verdict, authentic } = measurePeerPacket(
      bytes,
      pkt,
      rx,
      ts,
      {
        ...sourceMeasureContext(
          this.params,
          this.intake,
          this.#precision,
          this.#maxClockError,
          ctx,
        ),
        auth: this.key.auth,
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
    this.#xl.afterVerdict(verdict, ts.localRx === rx, ts.localTx, this.poll, this.txCount);
    if (verdict === null || verdict.kind === "ignored" || verdict.kind === "kod") return [];
    if (verdict.kind === "invalid" || !answer) {
      // A second answer to one packet of ours is not a measurement (chrony: tests 2, 3 fail).
      const tests = answer ? verdict.tests : verdict.tests & ~(TestBit.T2 | TestBit.T3);
      if ((tests & TestBit.T5) !== 0) this.last = { ...this.last, tests };
      return [];
    }
    return this.#valid(verdict, pkt, ctx);
  }

  #valid(verdict: ValidVerdict, pkt: NtpPacket, ctx: SourceContext): SourceOutcome[] {
    this.recordValid(verdict, pkt);
    this.#remotePoll = pkt.poll;
    this.#remoteStratum = pkt.stratum === 0 ? MAX_STRATUM : Math.min(pkt.stratum, MAX_STRATUM);
    const out: SourceOutcome[] = [this.shiftReach(verdict.synced ? 1 : 0)];
    const good = this.takeSample(verdict, ctx, out);
    const next = this.schedule.afterResponse(good, verdict.kodRate);
    if (next === "cancel") out.push({ kind: "cancel-wake" });
    else if (this.mode !== "offline") {
      let delay = this.#transmitDelay(false, ctx);
      if (verdict.kodRate) {
        out.push(log("warning", `Received KoD RATE from ${this.addressText}`));
        delay += 4 * 2 ** this.schedule.poll;
      }
      out.push(this.wake(delay));
    }
    return out;
  }
}
