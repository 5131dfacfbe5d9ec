/**
 * One NTP source in client mode (chrony's ntp_core.c instance) as a `Source` state machine:
 * polling between minpoll and maxpoll with poll-score adaptation, iburst/burst/presend, the
 * reachability register, online/offline and auto_offline, Kiss-o'-Death, and the replies
 * measured by `measureReply`, whose good samples go into the source's statistics. Every
 * effect is returned as a `SourceOutcome` for the engine to carry out.
 *
 * @module
 */
import type { SourceParams, SourceType } from "../../config/model.ts";
import type { SymmetricKey } from "../../ntp/keyfile.ts";
import type { NtpPacket } from "../../ntp/packet.ts";
import {
  BAD_RESPONSE_ADJ,
  MAX_LAN_PEER_DELAY,
  NO_RESPONSE_ADJ,
  NO_RESPONSE_SELECTED_ADJ,
  SYNC_LOOP_ADJ,
} from "../poll.ts";
import type { RandomPort, SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import { type LastMeasurement, ntpDataReport, type SourceCounters } from "./ntp_data.ts";
import { Reachability } from "./reachability.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent, NtpSample } from "../types.ts";
import { TestBit } from "./measure.ts";
import { RequestLog } from "./ntp_requests.ts";
import { SampleIntake, sourceMeasureContext } from "./sample_intake.ts";
import { SourceKey } from "./source_key.ts";
import { PollSchedule } from "./ntp_schedule.ts";
import { MAX_CLIENT_INTERLEAVED_TX } from "./interleave.ts";
import type { PacketAuthenticator } from "./packet_auth.ts";
import {
  logOutcome as log,
  type Source,
  type SourceContext,
  type SourceMode,
  type SourceOutcome,
} from "./source.ts";

/** Unanswered polls after which a source is reported for replacement. */
export const UNREACHABLE_POLLS = 8;

/** Construction options of a source. */
export interface NtpClientOptions {
  /** Engine id. */
  id: number;
  /** server, pool or peer (peers are polled as clients). */
  type: SourceType;
  /** Remote address and port. */
  address: SocketAddress;
  /** Configured name, or null. */
  name: string | null;
  /** Options. */
  params: SourceParams;
  /** Precision of the local clock, seconds. */
  precision: number;
  /** Randomness (request cookies, interval jitter). */
  random: RandomPort;
  /** The source's statistics. */
  stats: SourceStats;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /**
   * The symmetric key named by `params.key` (null or absent: none found). With `params.key`
   * set, requests carry a MAC and only replies authenticated with that key are valid; a
   * missing key means no request is sent at all.
   */
  key?: SymmetricKey | null;
  /** An authenticator for requests and replies (NTS, see packet_auth.ts), or none. */
  auth?: PacketAuthenticator | null;
}

/** The NTP client state machine for one source. */
export class NtpSource implements Source {
  /** Engine id. */
  readonly id: number;
  /** Kind of source. */
  readonly type: SourceType;
  /** Remote address. */
  readonly address: SocketAddress;
  /** Configured name (or null). */
  readonly name: string | null;
  /** The source's statistics. */
  readonly stats: SourceStats;
  readonly #precision: number;
  readonly #maxClockError: number;
  readonly #key: SourceKey;
  readonly #requests: RequestLog;
  readonly #schedule: PollSchedule;
  readonly #authenticated: boolean;
  #started = false;
  readonly #reach = new Reachability();
  #txCount = 0;
  #unreachableSignalled = false;
  #denied = false;
  readonly #intake: SampleIntake;
  #lastPacket: NtpPacket | null = null;
  #last: LastMeasurement = { offset: 0, delay: 0, dispersion: 0, responseTime: 0, tests: 0 };
  readonly #counters: SourceCounters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };

  /** Creates a source (not polling until `start`). */
  constructor(o: NtpClientOptions) {
    this.id = o.id;
    this.type = o.type;
    this.address = o.address;
    this.name = o.name;
    this.stats = o.stats;
    this.#intake = new SampleIntake(o.stats);
    this.#precision = o.precision;
    this.#maxClockError = o.maxClockError;
    this.#key = new SourceKey(o.params.key, o.key);
    this.#requests = new RequestLog(o.random, this.#key.key, o.auth ?? null);
    this.#authenticated = o.params.key !== null || (o.auth ?? null) !== null;
    this.#schedule = new PollSchedule({ ...o.params }, o.random);
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
  /** Polls shifted into the reachability register so far (0..8). */
  get reachabilitySize(): number {
    return this.#reach.size;
  }
  /** Consecutive polls without reply while the register is all zero. */
  get unreachableRun(): number {
    return this.#reach.unreachableRun;
  }
  /** Polls since a reply last passed every test (see Reachability). */
  get pollsSinceGoodSample(): number {
    return this.#reach.pollsSinceGoodSample;
  }
  /** Operating mode. */
  get mode(): SourceMode {
    return this.#schedule.mode;
  }
  /** True after a KoD DENY/RSTR. */
  get denied(): boolean {
    return this.#denied;
  }
  /** Cooked time of the newest good sample, or null. */
  get lastSampleTime(): Instant | null {
    return this.#intake.lastSampleTime;
  }
  /** Cooked time of the last regular request. */
  get lastTransmit(): Instant | null {
    return this.#requests.lastTx;
  }
  /** True between start and stop. */
  get running(): boolean {
    return this.#started;
  }
  /** Counters: requests sent, replies, valid replies, good samples. */
  get counters(): SourceCounters {
    return { ...this.#counters };
  }
  /** Address as text ("192.0.2.1"). */
  get addressText(): string {
    return this.address.address;
  }

  /** Starts the source: online (with iburst if configured) unless configured offline. */
  start(ctx: SourceContext): SourceOutcome[] {
    if (this.#started) return [];
    this.#started = true;
    if (this.params.offline) {
      this.#schedule.mode = "offline";
      return [];
    }
    return this.#goOnline(ctx);
  }

  /** Stops the source; the engine cancels its wake-up and forgets its requests. */
  stop(): void {
    this.#requests.clear();
    this.#started = false;
  }

  #wake(delay: number, fromLastTx = false): SourceOutcome {
    return { kind: "wake", delay, fromLastTx, separation: this.#schedule.separation() };
  }

  #goOnline(ctx: SourceContext): SourceOutcome[] {
    this.#txCount = 0;
    this.#unreachableSignalled = false;
    return [this.#wake(this.#schedule.goOnline(ctx.now, this.#requests.lastTx))];
  }

  /** Sets the source online or offline (chronyc online/offline; offline keeps history). */
  setOnline(online: boolean, ctx: SourceContext): SourceOutcome[] {
    if (!online) return this.#offline();
    if (this.#denied) return [];
    const s = this.#schedule;
    if (s.mode === "offline") {
      this.#started = true;
      return this.#goOnline(ctx);
    }
    if (s.mode === "burst-offline") s.mode = "burst-online";
    return [];
  }

  #offline(): SourceOutcome[] {
    if (this.#denied) return [];
    const s = this.#schedule;
    if (s.mode === "online") {
      s.mode = "offline";
      // Unreachable now (chrony SRC_ResetReachability), which triggers a reselection.
      this.#reach.reset();
      return [{ kind: "cancel-wake" }, this.#shiftReach(0)];
    }
    if (s.mode === "burst-online") s.mode = "burst-offline";
    return [];
  }

  /** Starts a burst of `good` good samples out of at most `total` requests (chronyc burst). */
  burst(good: number, total: number): SourceOutcome[] {
    if (this.#denied) return [];
    return [this.#wake(this.#schedule.commandBurst(good, total))];
  }

  /** Changes a per-source option at run time (chronyc minpoll, maxpoll, maxdelay...). */
  modify(field: keyof SourceParams, value: number): boolean {
    return this.#schedule.modify(field, value);
  }

  /**
   * Drops the sample filter and the reachability register, as chrony's SRC_ResetInstance
   * (chronyc reset sources keeps polling).
   */
  resetHistory(): void {
    this.#intake.reset();
    this.#reach.reset();
  }

  /** Sets the reachability register from a dump file (chronyd -r, sources.c load_source). */
  restoreReachability(register: number, size: number): void {
    this.#reach.register = register & 0xff;
    this.#reach.size = Math.min(8, Math.max(0, size));
  }

  /** Moves stored local timestamps onto the new clock scale after a clock change. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#intake.applyClockChange(change);
    if (change.kind !== "unknown") this.#requests.applyClockChange(change);
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

  /** The wake-up is due: the next request (chrony transmit_timeout). */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (this.#denied || !this.#started) return [];
    const s = this.#schedule;
    const step = s.beforeTransmit();
    if (step === "stop") return [];
    if (step === "presend") return this.#request(true, false, ctx);
    // The previous request got no valid reply: back off and shift a zero into the register.
    const out: SourceOutcome[] = [];
    const missed = this.#txCount >= 1;
    if (this.#txCount >= UNREACHABLE_POLLS && !this.#unreachableSignalled) {
      this.#unreachableSignalled = true;
      out.push({ kind: "replace" });
    }
    s.burstOption();
    out.push(...this.#request(false, missed, ctx));
    return out;
  }

  /** Builds one request; without its key, none can be sent and it fails at once. */
  #request(presend: boolean, missed: boolean, ctx: SourceContext): SourceOutcome[] {
    if (this.#key.missing) {
      // chrony: no request can be authenticated without the key (NAU_GenerateRequestAuth).
      const out = this.#afterTransmit(presend, missed, false, ctx);
      if (!this.#key.reportMissing()) return out;
      return [log("error", `Key ${this.params.key} is missing: not polling ${this.addressText}`)]
        .concat(out);
    }
    // Like chrony, a request carries the client's polling interval (servers echo it back)
    // and nothing else about the local clock.
    // xleave: interleaved requests unless too many went unanswered (chrony: the server would
    // answer with a very old transmit time).
    const interleaved = this.params.xleave && this.#txCount < MAX_CLIENT_INTERLEAVED_TX;
    const options = { version: this.params.version, poll: this.poll, interleaved };
    const created = this.#requests.create(options, presend, missed, ctx.now);
    // No request can be protected while NTS keys are being established: a missed poll.
    if (created === null) return this.#afterTransmit(presend, missed, true, ctx);
    const { token, bytes } = created;
    this.#counters.tx++;
    return [{ kind: "send", token, to: this.address, bytes }];
  }

  /** The engine sent (or failed to send) the request of `token` at cooked time `txTime`. */
  sent(token: number, ok: boolean, txTime: Instant, ctx: SourceContext): SourceOutcome[] {
    const req = this.#requests.sent(token, txTime);
    if (req === undefined) return [];
    return this.#afterTransmit(req.presend, req.missed, ok, ctx);
  }

  #afterTransmit(
    presend: boolean,
    missed: boolean,
    ok: boolean,
    ctx: SourceContext,
  ): SourceOutcome[] {
    if (presend) return [this.#wake(this.#schedule.warmUpDelay())];
    const out: SourceOutcome[] = [];
    this.#txCount++;
    if (missed) {
      if (ok) this.#adjustPoll(ctx.selected ? NO_RESPONSE_SELECTED_ADJ : NO_RESPONSE_ADJ);
      out.push(this.#shiftReach(0));
    }
    this.#schedule.countBurstRequest();
    if (!ok && this.params.autoOffline) {
      out.push(log("info", `Source ${this.addressText} offline (send failed)`));
      out.push(...this.#offline());
      return out;
    }
    out.push(this.#wake(this.#schedule.nextInterval()));
    return out;
  }

  /** Replaces the local transmit time of request `token` (a kernel TX timestamp). */
  transmitted(token: number, txTime: Instant): void {
    this.#requests.transmitted(token, txTime);
  }

  /**
   * A request the transport reported sent turned out not to leave (the transport sends
   * after the engine's turn): with auto_offline the source goes offline, as for a send that
   * failed at once.
   */
  sendFailed(token: number): SourceOutcome[] {
    if (!this.#requests.isLatest(token)) return [];
    if (!this.params.autoOffline || this.mode === "offline") return [];
    return [log("info", `Source ${this.addressText} offline (send failed)`), ...this.#offline()];
  }

  /** True when a reply to `token` may still come. */
  expects(token: number): boolean {
    return this.#requests.find(token) !== undefined;
  }

  /** Processes a reply to request `token` received at cooked time `rx`. */
  receive(
    token: number,
    bytes: Uint8Array,
    rx: Instant,
    ctx: SourceContext,
    rxKernel = false,
  ): SourceOutcome[] {
    const req = this.#requests.find(token);
    if (req === undefined) return [];
    this.#counters.rx++;
    const verdict = this.#requests.measure(
      req,
      bytes,
      rx,
      sourceMeasureContext(this.params, this.stats, this.#precision, this.#maxClockError, ctx),
    );
    switch (verdict.kind) {
      case "ignored":
        return [];
      case "invalid":
        if ((verdict.tests & TestBit.T5) === 0) {
          this.#last = { ...this.#last, tests: verdict.tests };
        }
        return [];
      case "kod":
        this.#denied = true;
        return [
          log("warning", `Received KoD ${verdict.code} from ${this.addressText}`),
          { kind: "cancel-wake" },
          { kind: "demobilize", code: verdict.code },
        ];
    }
    const m = verdict.measurement;
    this.#counters.validRx++;
    this.#lastPacket = verdict.packet;
    this.#last = {
      offset: m.offset,
      delay: m.delay,
      dispersion: m.dispersion,
      responseTime: m.responseTime,
      tests: verdict.tests,
      interleaved: m.interleaved,
      txKernel: req.kernelTx === true,
      rxKernel,
    };
    if (req.kernelTx === true) this.#counters.kernelTx = (this.#counters.kernelTx ?? 0) + 1;
    if (rxKernel) this.#counters.kernelRx = (this.#counters.kernelRx ?? 0) + 1;
    // Only a synchronised reply makes the source reachable (chrony 4); a presend reply
    // counts like any other.
    this.#txCount = 0;
    if (verdict.synced) this.#unreachableSignalled = false;
    const out: SourceOutcome[] = [this.#shiftReach(verdict.synced ? 1 : 0)];
    if (verdict.rejection !== null) {
      // Slowly increase the polling interval without good replies; faster for a sync loop.
      const testD = (verdict.tests & TestBit.TD) !== 0;
      this.#adjustPoll(testD ? BAD_RESPONSE_ADJ : SYNC_LOOP_ADJ);
      out.push(...this.#afterResponse(false, verdict.kodRate));
      return out;
    }
    if (ctx.isLeapSecondClose(m.sample.time)) {
      out.push(...this.#afterResponse(false, false));
      return out;
    }
    this.#counters.goodRx++;
    out.push(...this.#accept(m.sample));
    out.push(...this.#afterResponse(true, false));
    return out;
  }

  /** Runs the filter and hands a sample to the statistics. */
  #accept(sample: NtpSample): SourceOutcome[] {
    this.#reach.pollsSinceGoodSample = 0;
    const accepted = this.#intake.accept(sample, this.params);
    if (accepted === null) return [];
    this.#adjustPoll(accepted.pollAdjust);
    return [{ kind: "sample", sample: accepted.sample }];
  }

  /** Burst accounting and the next transmission after a valid response. */
  #afterResponse(good: boolean, kodRate: boolean): SourceOutcome[] {
    const out: SourceOutcome[] = [];
    if (kodRate) {
      out.push(log("warning", `Received KoD RATE from ${this.addressText}`));
    }
    const next = this.#schedule.afterResponse(good, kodRate);
    if (next === "cancel") out.push({ kind: "cancel-wake" });
    else if (next !== null) out.push(this.#wake(next, true));
    return out;
  }

  /** chronyc `ntpdata` for this source. */
  ntpData(now: Instant): NtpDataReport {
    return ntpDataReport(this.address, this.#lastPacket, this.#last, this.#counters, {
      jitterAsymmetry: this.stats.jitterAsymmetry,
      authenticated: this.#authenticated,
      now,
    });
  }
}
