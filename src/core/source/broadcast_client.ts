/**
 * A broadcast or multicast client association (ntpd's broadcastclient/multicastclient) as a
 * `Source`. It is mobilised by the first acceptable broadcast of a server; then, as ntpd,
 * it calibrates the delay with a short client/server volley to the broadcaster (an inner
 * `NtpSource` with iburst, whose samples also count), and from then on every broadcast is a
 * sample: the broadcaster's transmit time plus half the calibrated round-trip delay, minus
 * the local receive time. With `novolley`, or when the volley gets no answer, the delay is
 * `broadcastdelay` (one way). Reachability shifts at each broadcast interval.
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import type { SymmetricKey } from "../../ntp/keyfile.ts";
import type { NtpPacket } from "../../ntp/packet.ts";
import type { SocketAddress } from "../../base/ports.ts";
import type { NtpDataReport } from "../reports.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { Instant } from "../../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "../types.ts";
import { type BroadcastCheck, measureBroadcast } from "./broadcast_measure.ts";
import { type NtpClientOptions, NtpSource } from "./ntp_client.ts";
import { type LastMeasurement, ntpDataReport, type SourceCounters } from "./ntp_data.ts";
import { ReachableSource } from "./reachable_source.ts";
import type { Source, SourceContext, SourceMode, SourceOutcome } from "./source.ts";

/** Calibration samples wanted before broadcasts are used (ntpd's volley). */
export const CALIBRATION_SAMPLES = 4;
/** Calibration requests after which the volley ends with what it got. */
export const CALIBRATION_TRIES = 8;
/** Poll exponent assumed until the first broadcast says its interval. */
const DEFAULT_BROADCAST_POLL = 6;

/**
 * Construction options of a broadcast client association: a client source's, where `address`
 * is the broadcaster's address and source port (where the volley goes) and `params` the
 * defaults of a server with the key the broadcasts carry; and these.
 */
export interface BroadcastClientOptions
  extends Omit<NtpClientOptions, "type" | "name" | "key" | "auth"> {
  /** The key of `params.key`, for the volley (null: unauthenticated volley). */
  key: SymmetricKey | null;
  /** How broadcasts are authenticated. */
  check: BroadcastCheck;
  /** Skip the volley. */
  novolley: boolean;
  /** `broadcastdelay`: the one-way delay assumed without calibration, seconds. */
  fallbackDelay: number;
}

/** A broadcast/multicast client association. */
export class BroadcastClientSource extends ReachableSource implements Source {
  /** Engine id. */
  readonly id: number;
  /** Shown as a server (chrony's reports know client, peer and refclock only). */
  readonly type = "server" as const;
  /** The broadcaster. */
  readonly address: SocketAddress;
  /** Mobilised by a broadcast: no configured name. */
  readonly name: string | null = null;
  /** The statistics. */
  readonly stats: SourceStats;
  /** The options. */
  readonly params: Readonly<SourceParams>;
  readonly #o: BroadcastClientOptions;
  readonly #volley: NtpSource;
  readonly #delays: number[] = [];
  #calibrating: boolean;
  #roundTrip: number;
  #spread = 0;
  #started = false;
  #online = true;
  #heard = false;
  #poll = DEFAULT_BROADCAST_POLL;
  #lastPacket: NtpPacket | null = null;
  #lastSampleTime: Instant | null = null;
  #last: LastMeasurement = { offset: 0, delay: 0, dispersion: 0, responseTime: 0, tests: 0 };
  readonly #counters: SourceCounters = { tx: 0, rx: 0, validRx: 0, goodRx: 0 };

  /** Creates the association (nothing happens until `start`). */
  constructor(o: BroadcastClientOptions) {
    super();
    this.id = o.id;
    this.address = o.address;
    this.stats = o.stats;
    this.params = o.params;
    this.#o = o;
    this.#calibrating = !o.novolley;
    this.#roundTrip = 2 * o.fallbackDelay;
    this.#volley = new NtpSource({
      ...o,
      type: "server",
      name: null,
      params: { ...o.params, iburst: true },
    });
  }

  /** True while the client/server volley measures the delay. */
  get calibrating(): boolean {
    return this.#calibrating;
  }
  /** The round-trip delay broadcasts are corrected with, seconds. */
  get roundTripDelay(): number {
    return this.#roundTrip;
  }
  /** The broadcaster's interval (log2 s), or the volley's poll while calibrating. */
  get poll(): number {
    return this.#calibrating ? this.#volley.poll : this.#poll;
  }
  /** Online unless set offline. */
  get mode(): SourceMode {
    return this.#online ? "online" : "offline";
  }
  /** Never refused: a broadcaster is not asked. */
  get denied(): boolean {
    return false;
  }
  /** Cooked time of the newest good sample. */
  get lastSampleTime(): Instant | null {
    return this.#lastSampleTime;
  }
  /** The volley's last request. */
  get lastTransmit(): Instant | null {
    return this.#volley.lastTransmit;
  }
  /** Volley requests, broadcasts and replies counted together. */
  get counters(): SourceCounters {
    const v = this.#volley.counters;
    const c = this.#counters;
    return {
      tx: v.tx,
      rx: v.rx + c.rx,
      validRx: v.validRx + c.validRx,
      goodRx: v.goodRx + c.goodRx,
    };
  }
  /** Between start and stop. */
  get running(): boolean {
    return this.#started;
  }

  #tick(): SourceOutcome {
    return { kind: "wake", delay: 2 ** this.#poll, fromLastTx: false, separation: 0 };
  }

  /** Starts the volley (or, with novolley, the interval ticks). */
  start(ctx: SourceContext): SourceOutcome[] {
    if (this.#started) return [];
    this.#started = true;
    if (!this.#calibrating) return [this.#tick()];
    return this.#fromVolley(this.#volley.start(ctx));
  }

  /** Stops everything. */
  stop(): void {
    this.#volley.stop();
    this.#started = false;
  }

  /**
   * Carries the volley's outcomes over: its samples are ours (and calibrate the delay), its
   * reachability is ours; after enough samples or tries the volley ends and what it still
   * asked for (wake-ups, a replacement) is dropped.
   */
  #fromVolley(outcomes: SourceOutcome[]): SourceOutcome[] {
    const out: SourceOutcome[] = [];
    for (const o of outcomes) {
      if (!this.#calibrating) break;
      switch (o.kind) {
        case "sample":
          this.#delays.push(o.sample.peerDelay);
          this.#lastSampleTime = o.sample.time;
          out.push(o);
          break;
        case "reachability":
          this.reach.shift(o.reachable ? 1 : 0);
          out.push(o);
          break;
        case "replace":
          break;
        case "demobilize":
          out.push(...this.#endVolley(`refused (KoD ${o.code})`));
          break;
        default:
          out.push(o);
      }
      if (this.#calibrating && this.#delays.length >= CALIBRATION_SAMPLES) {
        out.push(...this.#endVolley(null));
      } else if (this.#calibrating && this.#volley.counters.tx >= CALIBRATION_TRIES) {
        out.push(...this.#endVolley("unanswered"));
      }
    }
    return out;
  }

  #endVolley(failure: string | null): SourceOutcome[] {
    this.#calibrating = false;
    this.#volley.stop();
    const d = this.#delays;
    let message: string;
    if (d.length > 0) {
      this.#roundTrip = Math.min(...d);
      this.#spread = (Math.max(...d) - this.#roundTrip) / 2;
      message = `Broadcast server ${this.addressText}: delay ${this.#roundTrip.toExponential(3)}` +
        ` s calibrated from ${d.length} exchanges`;
    } else {
      message = `Broadcast server ${this.addressText}: calibration ${failure}, using ` +
        `broadcastdelay ${this.#o.fallbackDelay} s`;
    }
    return [
      { kind: "log", level: "info", message },
      { kind: "cancel-wake" },
      this.#tick(),
    ];
  }

  /** The wake-up: the volley's next request, or the end of a broadcast interval. */
  timeout(ctx: SourceContext): SourceOutcome[] {
    if (!this.#started) return [];
    if (this.#calibrating) return this.#fromVolley(this.#volley.timeout(ctx));
    const heard = this.#heard && this.#online;
    this.#heard = false;
    this.reach.shift(heard ? 1 : 0);
    return [{ kind: "reachability", reachable: heard }, this.#tick()];
  }

  /** A volley request went out. */
  sent(token: number, ok: boolean, txTime: Instant, ctx: SourceContext): SourceOutcome[] {
    return this.#fromVolley(this.#volley.sent(token, ok, txTime, ctx));
  }

  /** The kernel's transmit time of a volley request. */
  transmitted(token: number, txTime: Instant): void {
    this.#volley.transmitted(token, txTime);
  }

  /** A volley request did not leave. */
  sendFailed(token: number): SourceOutcome[] {
    return this.#fromVolley(this.#volley.sendFailed(token));
  }

  /** A reply to a volley request. */
  receive(token: number, bytes: Uint8Array, rx: Instant, ctx: SourceContext): SourceOutcome[] {
    return this.#fromVolley(this.#volley.receive(token, bytes, rx, ctx));
  }

  /** True while a volley reply is expected. */
  expects(token: number): boolean {
    return this.#volley.expects(token);
  }

  /** A broadcast from this server arrived at cooked time `rx`. */
  broadcast(bytes: Uint8Array, rx: Instant, ctx: SourceContext): SourceOutcome[] {
    this.#counters.rx++;
    if (!this.#online) return [];
    const verdict = measureBroadcast(bytes, rx, {
      ...this.#o.check,
      lastRemoteTx: this.#lastPacket?.transmitTime ?? null,
      roundTripDelay: this.#roundTrip,
      delaySpread: this.#spread,
      localPrecision: this.#o.precision,
      offsetCorrection: this.params.offset,
      reference: ctx.reference(),
      localRefId: ctx.localRefId,
    });
    if (verdict.kind === "invalid") {
      this.#last = { ...this.#last, tests: verdict.tests };
      return [];
    }
    this.#counters.validRx++;
    this.#lastPacket = verdict.packet;
    this.#poll = Math.max(0, Math.min(17, verdict.packet.poll));
    const s = verdict.sample;
    this.#last = {
      offset: s.offset,
      delay: s.peerDelay,
      dispersion: s.peerDispersion,
      responseTime: 0,
      tests: verdict.tests,
    };
    if (verdict.synced) this.#heard = true;
    // Until the volley has measured the delay, broadcasts only show the server is there.
    if (this.#calibrating || verdict.rejection !== null || ctx.isLeapSecondClose(s.time)) {
      return [];
    }
    this.#counters.goodRx++;
    this.reach.pollsSinceGoodSample = 0;
    this.stats.accumulate(s);
    this.stats.regress();
    this.#lastSampleTime = s.time;
    return [{ kind: "sample", sample: s }];
  }

  /** Online: broadcasts are used; offline: ignored and unreachable. */
  setOnline(online: boolean, _ctx: SourceContext): SourceOutcome[] {
    if (online === this.#online) return [];
    this.#online = online;
    if (online) return [];
    this.reach.reset();
    return [{ kind: "reachability", reachable: false }];
  }

  /** A broadcast association cannot burst. */
  burst(_good: number, _total: number): SourceOutcome[] {
    return [];
  }

  /** Nothing to modify at run time. */
  modify(_field: keyof SourceParams, _value: number): boolean {
    return false;
  }

  /** Forgets the newest sample time (the engine resets the statistics). */
  resetHistory(): void {
    this.#volley.resetHistory();
    this.#lastSampleTime = null;
  }

  /** Keeps stored local instants on the cooked scale. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#volley.applyClockChange(change);
    if (change.kind !== "unknown" && this.#lastSampleTime !== null) {
      this.#lastSampleTime = adjustForClockChange(this.#lastSampleTime, change).instant;
    }
  }

  /** chronyc `ntpdata`: the last broadcast (while calibrating: the volley's last reply). */
  ntpData(now: Instant): NtpDataReport {
    if (this.#calibrating || this.#lastPacket === null) return this.#volley.ntpData(now);
    return ntpDataReport(this.address, this.#lastPacket, this.#last, this.counters, {
      jitterAsymmetry: this.stats.jitterAsymmetry,
      authenticated: this.params.key !== null,
      now,
    });
  }
}
