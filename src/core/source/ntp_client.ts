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
import type { RandomPort, SocketAddress } from "../../base/ports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";
import { TestBit } from "./measure.ts";
import { RequestLog } from "./ntp_requests.ts";
import { sourceMeasureContext } from "./sample_intake.ts";
import { SourceKey } from "./source_key.ts";
import { PollSchedule } from "./ntp_schedule.ts";
import { MAX_CLIENT_INTERLEAVED_TX } from "./interleave.ts";
import type { PacketAuthenticator } from "./packet_auth.ts";
import { PolledSource } from "./polled_source.ts";
import {
  logOutcome as log,
  type Source,
  type SourceContext,
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
export class NtpSource extends PolledSource implements Source {
  /** Kind of source. */
  readonly type: SourceType;
  readonly #precision: number;
  readonly #maxClockError: number;
  readonly #requests: RequestLog;
  #unreachableSignalled = false;

  /** Creates a source (not polling until `start`). */
  constructor(o: NtpClientOptions) {
    const key = new SourceKey(o.params.key, o.key);
    super({
      ...o,
      key,
      schedule: new PollSchedule({ ...o.params }, o.random),
      authenticated: o.params.key !== null || (o.auth ?? null) !== null,
    });
    this.type = o.type;
    this.#precision = o.precision;
    this.#maxClockError = o.maxClockError;
    this.#requests = new RequestLog(o.random, key.key, o.auth ?? null);
  }

  /** Cooked time of the last regular request. */
  get lastTransmit(): Instant | null {
    return this.#requests.lastTx;
  }

  /** Stops the source; the engine cancels its wake-up and forgets its requests. */
  stop(): void {
    this.#requests.clear();
    this.started = false;
  }

  /** Goes online (with iburst if configured). */
  protected override goOnline(ctx: SourceContext): SourceOutcome[] {
    this.#unreachableSignalled = false;
    return super.goOnline(ctx);
  }

  /**
   * Drops the sample filter and the reachability register, as chrony's SRC_ResetInstance
   * (chronyc reset sources keeps polling).
   */
  resetHistory(): void {
    this.intake.reset();
    this.reach.reset();
  }

  /** Sets the reachability register from a dump file (chronyd -r, sources.c load_source). */
  restoreReachability(register: number, size: number): void {
    this.reach.register = register & 0xff;
    this.reach.size = Math.min(8, Math.max(0, size));
  }

  /** Moves stored local timestamps onto the new clock scale after a clock change. */
  applyClockChange(change: ClockChangeEvent): void {
    this.intake.applyClockChange(change);
    if (change.kind !== "unknown") this.#requests.applyClockChange(change);
  }

  /** The wake-up is due: the next request (chrony transmit_timeout). */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (this.kodDenied || !this.started) return [];
    const s = this.schedule;
    const step = s.beforeTransmit();
    if (step === "stop") return [];
    if (step === "presend") return this.#request(true, false, ctx);
    // The previous request got no valid reply: back off and shift a zero into the register.
    const out: SourceOutcome[] = [];
    const missed = this.txCount >= 1;
    if (this.txCount >= UNREACHABLE_POLLS && !this.#unreachableSignalled) {
      this.#unreachableSignalled = true;
      out.push({ kind: "replace" });
    }
    s.burstOption();
    out.push(...this.#request(false, missed, ctx));
    return out;
  }

  /** Builds one request; without its key, none can be sent and it fails at once. */
  #request(presend: boolean, missed: boolean, ctx: SourceContext): SourceOutcome[] {
    if (this.key.missing) {
      // chrony: no request can be authenticated without the key (NAU_GenerateRequestAuth).
      const out = this.#afterTransmit(presend, missed, false, ctx);
      return this.missingKeyLog().concat(out);
    }
    // Like chrony, a request carries the client's polling interval (servers echo it back)
    // and nothing else about the local clock.
    // xleave: interleaved requests unless too many went unanswered (chrony: the server would
    // answer with a very old transmit time).
    const interleaved = this.params.xleave && this.txCount < MAX_CLIENT_INTERLEAVED_TX;
    const options = { version: this.params.version, poll: this.poll, interleaved };
    const created = this.#requests.create(options, presend, missed, ctx.now);
    // No request can be protected while NTS keys are being established: a missed poll.
    if (created === null) return this.#afterTransmit(presend, missed, true, ctx);
    const { token, bytes } = created;
    this.tally.tx++;
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
    if (presend) return [this.wake(this.schedule.warmUpDelay())];
    return this.afterSend(missed, ok, ctx, () => this.schedule.nextInterval());
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
    return this.sendFailedOffline();
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
    this.tally.rx++;
    const verdict = this.#requests.measure(
      req,
      bytes,
      rx,
      sourceMeasureContext(this.params, this.intake, this.#precision, this.#maxClockError, ctx),
    );
    switch (verdict.kind) {
      case "ignored":
        return [];
      case "invalid":
        if ((verdict.tests & TestBit.T5) === 0) {
          this.last = { ...this.last, tests: verdict.tests };
        }
        return [];
      case "kod":
        this.kodDenied = true;
        return [
          log("warning", `Received KoD ${verdict.code} from ${this.addressText}`),
          { kind: "cancel-wake" },
          { kind: "demobilize", code: verdict.code },
        ];
    }
    this.recordValid(verdict, verdict.packet, { txKernel: req.kernelTx === true, rxKernel });
    if (req.kernelTx === true) this.tally.kernelTx = (this.tally.kernelTx ?? 0) + 1;
    if (rxKernel) this.tally.kernelRx = (this.tally.kernelRx ?? 0) + 1;
    // Only a synchronised reply makes the source reachable (chrony 4); a presend reply
    // counts like any other.
    if (verdict.synced) this.#unreachableSignalled = false;
    const out: SourceOutcome[] = [this.shiftReach(verdict.synced ? 1 : 0)];
    // Without good replies the polling interval slowly increases; faster for a sync loop.
    const good = this.takeSample(verdict, ctx, out);
    out.push(...this.#afterResponse(good, verdict.rejection !== null && verdict.kodRate));
    return out;
  }

  /** Burst accounting and the next transmission after a valid response. */
  #afterResponse(good: boolean, kodRate: boolean): SourceOutcome[] {
    const out: SourceOutcome[] = [];
    if (kodRate) {
      out.push(log("warning", `Received KoD RATE from ${this.addressText}`));
    }
    const next = this.schedule.afterResponse(good, kodRate);
    if (next === "cancel") out.push({ kind: "cancel-wake" });
    else if (next !== null) out.push(this.wake(next, true));
    return out;
  }
}
