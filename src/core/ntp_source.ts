/**
 * One NTP source in client mode (chrony's ntp_core.c instance): polling between minpoll and
 * maxpoll with poll-score adaptation, iburst/burst/presend, the reachability register,
 * online/offline and auto_offline, Kiss-o'-Death, request building with data minimisation,
 * and response processing (tests 1-3, 5-7, A-D; offset, delay, dispersion), which feeds good
 * samples into the source's statistics.
 *
 * @module
 */
import type { SourceParams, SourceType } from "../config/model.ts";
import {
  decodePacket,
  emptyPacket,
  encodePacket,
  kissAction,
  kissCode,
  NtpMode,
  type NtpPacket,
} from "../ntp/packet.ts";
import { ntp64ToInstant } from "../ntp/timestamp.ts";
import {
  appendMac,
  checkPacketAuth,
  KeyStore,
  suggestedVersion,
  type SymmetricKey,
} from "../ntp/auth.ts";
import { delayDevRatioOk, delayRatioOk } from "./delay_tests.ts";
import type { LocalClock } from "./local_clock.ts";
import {
  adjustPoll,
  BAD_RESPONSE_ADJ,
  MAX_LAN_PEER_DELAY,
  NO_RESPONSE_ADJ,
  NO_RESPONSE_SELECTED_ADJ,
  pollAdjustment,
  SYNC_LOOP_ADJ,
} from "./poll.ts";
import type {
  LogPort,
  NtpTransport,
  RandomPort,
  SocketAddress,
  TimerHandle,
  TimerPort,
} from "./ports.ts";
import type { LeapStatus, NtpDataReport } from "./reports.ts";
import type { SourceStats } from "./sourcestats.ts";
import type { Instant } from "./time.ts";
import {
  adjustForClockChange,
  type ClockChangeEvent,
  type NtpSample,
  type ReferenceState,
} from "./types.ts";

/** Delay before the first request after start or going online, seconds (INITIAL_DELAY). */
export const INITIAL_DELAY = 0.2;
/** Longest spacing of burst requests, seconds (BURST_INTERVAL). */
export const BURST_INTERVAL = 2.0;
/** Lead of a presend request before the real one, seconds (WARM_UP_DELAY). */
export const WARM_UP_DELAY = 2.0;
/** Good samples wanted by iburst. */
export const IBURST_GOOD_SAMPLES = 4;
/** Most requests sent by iburst. */
export const IBURST_TOTAL_SAMPLES = 8;
/** Largest server processing time accepted (test A), seconds (MAX_SERVER_INTERVAL). */
export const MAX_SERVER_INTERVAL = 4.0;
/** Largest root distance accepted (test 7), seconds (NTP_MAX_DISPERSION). */
export const NTP_MAX_DISPERSION = 16.0;
/** Unanswered polls after which a source is reported for replacement. */
export const UNREACHABLE_POLLS = 8;
/** Shortest poll (log2 s) used before the source is known to be on a LAN. */
export const MIN_NONLAN_POLL = 0;
/** Smallest separation between transmissions of different sources, seconds. */
export const MIN_SAMPLING_SEPARATION = 0.002;
/** Largest separation between transmissions of different sources, seconds. */
export const MAX_SAMPLING_SEPARATION = 0.2;
/** Largest frequency error assumed for a source without statistics (fraction). */
export const WORST_CASE_FREQ_BOUND = 2000e-6;
/** Randomness added to poll intervals (fraction). */
export const SAMPLING_RANDOMNESS = 0.02;

/** Test bits of the ntpdata report: 1,2,3,5,6,7,A,B,C,D in bits 0..9. */
export const TestBit = {
  T1: 1 << 0,
  T2: 1 << 1,
  T3: 1 << 2,
  T5: 1 << 3,
  T6: 1 << 4,
  T7: 1 << 5,
  TA: 1 << 6,
  TB: 1 << 7,
  TC: 1 << 8,
  TD: 1 << 9,
} as const;

/** Operating mode of a source (chrony OperatingMode). */
export type SourceMode = "offline" | "online" | "burst-online" | "burst-offline";

/** What a source needs from the engine. */
export interface NtpSourceHooks {
  /** A fresh request id, unique in the engine, for the transport. */
  nextRequestId(source: NtpSource): number;
  /** A request id is no longer expected. */
  releaseRequestId(id: number): void;
  /** A good sample went into the statistics. */
  onSample(source: NtpSource): void;
  /** The source stayed unanswered for UNREACHABLE_POLLS polls (replace it). */
  onUnreachable(source: NtpSource): void;
  /** The source sent a KoD DENY or RSTR and is no longer polled. */
  onDenied(source: NtpSource, code: string): void;
  /** Our reference state (test D). */
  referenceState(): ReferenceState;
  /** True when samples at `t` must be dropped (leap second close). */
  isLeapSecondClose(t: Instant): boolean;
  /** True when this source is the selected one. */
  isSelected(source: NtpSource): boolean;
  /** Reference ID of our own address, if known (test D). */
  localRefId?(): number | undefined;
  /** A bit was shifted into the reachability register (the engine reselects on a miss). */
  onReachability?(source: NtpSource, reachable: boolean): void;
  /**
   * Adjusts a transmission delay so that transmissions of different sources are at least
   * `separation` seconds apart (chrony's timeout classes); returns the delay to use.
   */
  separateTransmission?(source: NtpSource, delay: number, separation: number): number;
}

/** Construction options of a source. */
export interface NtpSourceOptions {
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
  /** The local clock. */
  clock: LocalClock;
  /** Timers. */
  timers: TimerPort;
  /** Randomness (transmit timestamps, interval jitter). */
  random: RandomPort;
  /** Logging. */
  log: LogPort;
  /** Sending. */
  transport: NtpTransport;
  /** The source's statistics. */
  stats: SourceStats;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /** Engine callbacks. */
  hooks: NtpSourceHooks;
  /**
   * The symmetric key named by `params.key` (null or absent: none found). With `params.key`
   * set, requests carry a MAC and only replies authenticated with that key are valid; a
   * missing key means no request is sent at all.
   */
  key?: SymmetricKey | null;
}

/** One outstanding request. */
interface Request {
  id: number;
  /** Random transmit timestamp sent (expected back as origin). */
  txStamp: bigint;
  /** Our real (cooked) transmit time, kept corrected for clock changes. */
  localTx: Instant;
  /** A presend warm-up request. */
  presend: boolean;
  /** A valid reply has been processed. */
  answered: boolean;
}

/** The outcome of processing one reply. */
export interface ReplyOutcome {
  /** Test bits (1 = passed). */
  tests: number;
  /** Tests 1, 2, 3, 5 passed. */
  valid: boolean;
  /** All tests passed and a sample was produced (maybe held by the filter). */
  good: boolean;
  /** The sample, when good. */
  sample: NtpSample | null;
}

/** Clamps `v` to [lo, hi]. */
function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The NTP client state machine for one source. */
export class NtpSource {
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
  #params: SourceParams;
  readonly #clock: LocalClock;
  readonly #timers: TimerPort;
  readonly #random: RandomPort;
  readonly #log: LogPort;
  readonly #transport: NtpTransport;
  readonly #hooks: NtpSourceHooks;
  readonly #maxClockError: number;
  readonly #key: SymmetricKey | null;
  readonly #keyStore: KeyStore | null;
  #keyMissingLogged = false;

  #mode: SourceMode = "offline";
  #started = false;
  #poll: number;
  #pollScore = 0;
  #reach = 0;
  #reachSize = 0;
  #unreachableRun = 0;
  #pollsSinceGoodSample = 0;
  #txCount = 0;
  #unreachableSignalled = false;
  #burstGoodLeft = 0;
  #burstTotalLeft = 0;
  #timer: TimerHandle | null = null;
  #requests: Request[] = [];
  #lastTx: Instant | null = null;
  #presendDone = false;
  #lastRemoteTx: bigint | null = null;
  #denied = false;
  #filter: NtpSample[] = [];
  #lastSampleTime: Instant | null = null;
  #lastPacket: NtpPacket | null = null;
  #last = { offset: 0, delay: 0, dispersion: 0, responseTime: 0, tests: 0 };
  #totalTx = 0;
  #totalRx = 0;
  #totalValidRx = 0;
  #totalGoodRx = 0;

  /** Creates a source (not polling until `start`). */
  constructor(o: NtpSourceOptions) {
    this.id = o.id;
    this.type = o.type;
    this.address = o.address;
    this.name = o.name;
    this.stats = o.stats;
    this.#params = { ...o.params };
    this.#clock = o.clock;
    this.#timers = o.timers;
    this.#random = o.random;
    this.#log = o.log;
    this.#transport = o.transport;
    this.#hooks = o.hooks;
    this.#maxClockError = o.maxClockError;
    this.#key = o.params.key === null ? null : o.key ?? null;
    this.#keyStore = this.#key === null ? null : new KeyStore([this.#key]);
    this.#poll = Math.max(this.#params.minPoll, MIN_NONLAN_POLL);
  }

  /** The options in force. */
  get params(): Readonly<SourceParams> {
    return this.#params;
  }

  /** Current poll exponent, log2 s. */
  get poll(): number {
    return this.#poll;
  }

  /** Poll score (for tests and debugging). */
  get pollScore(): number {
    return this.#pollScore;
  }

  /** 8-bit reachability register. */
  get reachability(): number {
    return this.#reach;
  }

  /** Polls shifted into the reachability register so far (0..8). */
  get reachabilitySize(): number {
    return this.#reachSize;
  }

  /** Consecutive polls without reply while the register is all zero. */
  get unreachableRun(): number {
    return this.#unreachableRun;
  }

  /**
   * Polls shifted into the reachability register since a reply last passed every test and
   * went to the filter or the statistics (counted from the start, so a source that never
   * produced a sample has the number of polls made).
   */
  get pollsSinceGoodSample(): number {
    return this.#pollsSinceGoodSample;
  }

  /** Operating mode. */
  get mode(): SourceMode {
    return this.#mode;
  }

  /** True after a KoD DENY/RSTR. */
  get denied(): boolean {
    return this.#denied;
  }

  /** Cooked time of the newest good sample, or null. */
  get lastSampleTime(): Instant | null {
    return this.#lastSampleTime;
  }

  /** Counters: requests sent, replies, valid replies, good samples. */
  get counters(): { tx: number; rx: number; validRx: number; goodRx: number } {
    return {
      tx: this.#totalTx,
      rx: this.#totalRx,
      validRx: this.#totalValidRx,
      goodRx: this.#totalGoodRx,
    };
  }

  /** Address as text ("192.0.2.1"). */
  get addressText(): string {
    return this.address.address;
  }

  /** Starts the source: online (with iburst if configured) unless configured offline. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#params.offline) {
      this.#mode = "offline";
      return;
    }
    this.#goOnline();
  }

  /** Stops all timers; the source sends nothing more until started again. */
  stop(): void {
    this.#cancelTimer();
    for (const r of this.#requests) this.#hooks.releaseRequestId(r.id);
    this.#requests = [];
    this.#started = false;
  }

  #cancelTimer(): void {
    if (this.#timer !== null) this.#timers.cancelTimer(this.#timer);
    this.#timer = null;
  }

  /** Separation of transmissions for the current poll (chrony get_separation). */
  #separation(): number {
    return clamp(2 ** (this.#poll - 3), MIN_SAMPLING_SEPARATION, MAX_SAMPLING_SEPARATION);
  }

  #schedule(delay: number): void {
    this.#cancelTimer();
    let d = Math.max(0, delay);
    if (this.#hooks.separateTransmission) {
      d = this.#hooks.separateTransmission(this, d, this.#separation());
    }
    this.#timer = this.#timers.setTimer(d, () => {
      this.#timer = null;
      this.#transmitTimeout();
    });
  }

  /** Poll interval with 2% randomness (never shorter than the nominal interval). */
  #randomised(interval: number): number {
    return interval * (1 + SAMPLING_RANDOMNESS * this.#random.next());
  }

  #pollInterval(): number {
    return 2 ** this.#poll;
  }

  #burstInterval(): number {
    return Math.min(BURST_INTERVAL, 0.25 * 2 ** this.#poll);
  }

  #isOffline(): boolean {
    return this.#mode === "offline";
  }

  #inBurst(): boolean {
    return this.#mode === "burst-online" || this.#mode === "burst-offline";
  }

  #goOnline(): void {
    this.#mode = "online";
    this.#txCount = 0;
    this.#unreachableSignalled = false;
    this.#presendDone = false;
    if (this.#params.iburst) {
      this.#startBurst(IBURST_GOOD_SAMPLES, IBURST_TOTAL_SAMPLES);
    }
    this.#scheduleInitial();
  }

  #scheduleInitial(): void {
    let delay = INITIAL_DELAY;
    if (!this.#inBurst() && this.#lastTx !== null) {
      // Keep at least the current poll interval since the last request.
      const since = Number(this.#clock.cookedNow() - this.#lastTx) / 1e9;
      delay = Math.max(delay, this.#pollInterval() - since);
    }
    this.#schedule(delay);
  }

  #startBurst(good: number, total: number): void {
    this.#burstGoodLeft = good;
    this.#burstTotalLeft = total;
    this.#mode = this.#mode === "offline" || this.#mode === "burst-offline"
      ? "burst-offline"
      : "burst-online";
  }

  #endBurst(): void {
    this.#mode = this.#mode === "burst-offline" ? "offline" : "online";
    this.#burstGoodLeft = 0;
    this.#burstTotalLeft = 0;
  }

  /** Sets the source online or offline (chronyc online/offline; offline keeps history). */
  setOnline(online: boolean): void {
    if (this.#denied) return;
    if (online) {
      if (this.#mode === "offline") {
        this.#started = true;
        this.#goOnline();
      } else if (this.#mode === "burst-offline") {
        this.#mode = "burst-online";
      }
    } else {
      if (this.#mode === "online") {
        this.#mode = "offline";
        this.#cancelTimer();
        // Unreachable now (chrony SRC_ResetReachability), which triggers a reselection.
        this.#reach = 0;
        this.#reachSize = 0;
        this.#shiftReach(0);
      } else if (this.#mode === "burst-online") {
        this.#mode = "burst-offline";
      }
    }
  }

  /** Starts a burst of `good` good samples out of at most `total` requests (chronyc burst). */
  burst(good: number, total: number): void {
    if (this.#denied) return;
    const g = clamp(Math.floor(good), 1, 1000);
    const t = clamp(Math.floor(total), g, 1000);
    this.#startBurst(g, t);
    this.#schedule(INITIAL_DELAY);
  }

  /** Changes a per-source option at run time (chronyc minpoll, maxpoll, maxdelay...). */
  modify(field: keyof SourceParams, value: number): boolean {
    const p = this.#params as unknown as Record<string, unknown>;
    if (typeof p[field] !== "number" && p[field] !== null) return false;
    p[field] = value;
    if (field === "minPoll" || field === "maxPoll") {
      this.#poll = clamp(this.#poll, this.#params.minPoll, this.#params.maxPoll);
    }
    return true;
  }

  /** Drops the sample filter and reachability (chronyc reset sources keeps polling). */
  resetHistory(): void {
    this.#filter = [];
    this.#lastSampleTime = null;
  }

  /** Moves stored local timestamps onto the new clock scale after a clock change. */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.#filter = [];
      return;
    }
    for (const r of this.#requests) r.localTx = adjustForClockChange(r.localTx, change).instant;
    if (this.#lastTx !== null) this.#lastTx = adjustForClockChange(this.#lastTx, change).instant;
    if (this.#lastSampleTime !== null) {
      this.#lastSampleTime = adjustForClockChange(this.#lastSampleTime, change).instant;
    }
    for (const s of this.#filter) {
      const { instant, shift } = adjustForClockChange(s.time, change);
      s.time = instant;
      s.offset -= shift;
    }
  }

  #shiftReach(bit: 0 | 1): void {
    this.#reach = ((this.#reach << 1) | bit) & 0xff;
    if (this.#reachSize < 8) this.#reachSize++;
    this.#pollsSinceGoodSample++;
    if (bit === 1) this.#unreachableRun = 0;
    else if (this.#reach === 0) this.#unreachableRun++;
    this.#hooks.onReachability?.(this, bit === 1);
  }

  #adjustPoll(adj: number): void {
    const minDelay = this.stats.minRoundTripDelay();
    const lanOk = this.#reach !== 0 && minDelay <= MAX_LAN_PEER_DELAY;
    const next = adjustPoll(
      { poll: this.#poll, score: this.#pollScore },
      adj,
      this.#params.minPoll,
      this.#params.maxPoll,
      lanOk,
    );
    this.#poll = next.poll;
    this.#pollScore = next.score;
  }

  #transmitTimeout(): void {
    if (this.#denied || !this.#started) return;
    if (this.#mode === "offline") return;

    // An online burst turns back to normal polling before its last request (so the next
    // request after it is a poll interval away); an offline burst ends when used up.
    if (this.#mode === "burst-online" && this.#burstTotalLeft <= 1) {
      this.#endBurst();
    } else if (this.#mode === "burst-offline" && this.#burstTotalLeft <= 0) {
      this.#endBurst();
      return;
    }

    // Presend: a warm-up exchange WARM_UP_DELAY before the real one.
    const presend = this.#params.presend;
    if (
      presend !== null && this.#poll >= presend && !this.#presendDone && !this.#inBurst()
    ) {
      this.#presendDone = true;
      this.#send(true);
      this.#schedule(WARM_UP_DELAY);
      return;
    }
    this.#presendDone = false;

    // The previous request got no valid reply: back off and shift a zero into the register.
    const missed = this.#txCount >= 1;
    if (this.#txCount >= UNREACHABLE_POLLS && !this.#unreachableSignalled) {
      this.#unreachableSignalled = true;
      this.#hooks.onUnreachable(this);
    }

    // burst option: a short burst at each poll above minpoll.
    if (
      this.#params.burst && !this.#inBurst() && this.#mode === "online" &&
      this.#poll > this.#params.minPoll
    ) {
      const total = Math.min(2 ** (this.#poll - this.#params.minPoll), 4);
      this.#startBurst(1, total);
    }

    const ok = this.#send(false);
    this.#txCount++;
    if (missed) {
      if (ok) {
        this.#adjustPoll(
          this.#hooks.isSelected(this) ? NO_RESPONSE_SELECTED_ADJ : NO_RESPONSE_ADJ,
        );
      }
      this.#shiftReach(0);
    }
    if (this.#inBurst()) this.#burstTotalLeft--;
    if (!ok && this.#params.autoOffline) {
      this.#log.log("info", `Source ${this.addressText} offline (send failed)`);
      this.setOnline(false);
      return;
    }
    this.#schedule(
      this.#randomised(this.#inBurst() ? this.#burstInterval() : this.#pollInterval()),
    );
  }

  /** Builds and sends one request; returns the transport's verdict. */
  #send(presend: boolean): boolean {
    if (this.#params.key !== null && this.#key === null) {
      // chrony: no request can be authenticated without the key (NAU_GenerateRequestAuth).
      if (!this.#keyMissingLogged) {
        this.#log.log(
          "error",
          `Key ${this.#params.key} is missing: not polling ${this.addressText}`,
        );
        this.#keyMissingLogged = true;
      }
      return false;
    }
    const txStampBytes = new Uint8Array(8);
    this.#random.fill(txStampBytes);
    let txStamp = 0n;
    for (const b of txStampBytes) txStamp = (txStamp << 8n) | BigInt(b);
    if (txStamp === 0n) txStamp = 1n;
    const packet = emptyPacket(NtpMode.Client);
    packet.version = this.#key === null
      ? this.#params.version
      : suggestedVersion(this.#key, this.#params.version);
    packet.transmitTime = txStamp;
    // Like chrony, a request carries the client's polling interval (servers echo it back)
    // and nothing else about the local clock.
    packet.poll = this.#poll;
    const id = this.#hooks.nextRequestId(this);
    // Keep the current request and, for presend, the one before it.
    while (this.#requests.length >= 2) this.#hooks.releaseRequestId(this.#requests.shift()!.id);
    const localTx = this.#clock.cookedNow();
    this.#requests.push({ id, txStamp, localTx, presend, answered: false });
    if (!presend) this.#lastTx = localTx;
    this.#totalTx++;
    const bytes = encodePacket(packet);
    return this.#transport.send(
      id,
      this.address,
      this.#key === null ? bytes : appendMac(bytes, this.#key),
    );
  }

  /** Replaces the local transmit time of request `requestId` (a kernel TX timestamp). */
  setTransmitTime(requestId: number, txCooked: Instant): void {
    const req = this.#requests.find((r) => r.id === requestId);
    if (req === undefined || req.answered) return;
    req.localTx = txCooked;
    const newest = this.#requests[this.#requests.length - 1];
    if (!req.presend && req === newest) this.#lastTx = txCooked;
  }

  /**
   * A request the transport reported sent turned out not to leave (the transport sends
   * after the engine's turn): with auto_offline the source goes offline, as for a send that
   * failed at once.
   */
  sendFailed(requestId: number): void {
    const latest = this.#requests[this.#requests.length - 1];
    if (latest === undefined || latest.id !== requestId) return;
    if (!this.#params.autoOffline || this.#mode === "offline") return;
    this.#log.log("info", `Source ${this.addressText} offline (send failed)`);
    this.setOnline(false);
  }

  /** True when `requestId` belongs to this source's outstanding requests. */
  ownsRequest(requestId: number): boolean {
    return this.#requests.some((r) => r.id === requestId);
  }

  /** Processes a reply to request `requestId` received at cooked time `rxCooked`. */
  receive(requestId: number, bytes: Uint8Array, rxCooked: Instant): ReplyOutcome {
    const none: ReplyOutcome = { tests: 0, valid: false, good: false, sample: null };
    const req = this.#requests.find((r) => r.id === requestId);
    if (req === undefined) return none;
    this.#totalRx++;
    const decoded = decodePacket(bytes);
    if (!decoded.ok) return none;
    const pkt = decoded.packet;
    if (pkt.mode !== NtpMode.Server && pkt.mode !== NtpMode.SymmetricPassive) return none;

    // RFC 5905 tests.
    const test1 = !req.answered && pkt.transmitTime !== this.#lastRemoteTx;
    const test2 = pkt.originTime === req.txStamp;
    const test3 = pkt.originTime !== 0n && pkt.receiveTime !== 0n && pkt.transmitTime !== 0n;
    // Test 5: authenticated with the source's key, or not authenticated at all when the
    // source has none (chrony NAU_CheckResponseAuth: the mode must match).
    let test5: boolean;
    if (this.#keyStore === null) test5 = pkt.mac === null;
    else {
      const auth = checkPacketAuth(bytes, this.#keyStore);
      test5 = auth.kind === "ok" && auth.key.id === this.#params.key;
    }

    // Kiss-o'-Death, honoured only for a reply to our request. DENY and RSTR stop the
    // source; RATE goes on as an unsynchronised reply and backs off the next request.
    const kiss = test1 && test2 && test5 && pkt.leap === 3 ? kissCode(pkt) : null;
    const kodRate = kiss !== null && kissAction(kiss) === "reduce-rate";
    if (kiss !== null && kissAction(kiss) === "demobilize") {
      req.answered = true;
      this.#log.log("warning", `Received KoD ${kiss} from ${this.addressText}`);
      this.#denied = true;
      this.#cancelTimer();
      this.#hooks.onDenied(this, kiss);
      return { ...none, tests: TestBit.T1 | TestBit.T2 };
    }

    const test6 = pkt.leap !== 3 && pkt.stratum > 0 && pkt.stratum < 16;
    const test7 = pkt.rootDelay / 2 + pkt.rootDispersion < NTP_MAX_DISPERSION;

    const t1 = req.localTx;
    const t4 = rxCooked;
    const t2 = ntp64ToInstant(pkt.receiveTime, t4);
    const t3 = ntp64ToInstant(pkt.transmitTime, t4);
    const localInterval = Number(t4 - t1) / 1e9;
    const remoteInterval = Number(t3 - t2) / 1e9;
    const precision = this.#clock.precision + 2 ** clamp(pkt.precision, -30, 0);
    let delay = Math.abs(localInterval - remoteInterval);
    delay = Math.max(delay, precision);
    const offset = Number((t2 - t1) + (t3 - t4)) / 2e9 + this.#params.offset;
    // Half the width of the source's frequency range, limited to the worst case (2000 ppm).
    const skew = Math.min(this.stats.skew, WORST_CASE_FREQ_BOUND);
    const dispersion = precision + skew * Math.abs(localInterval);
    const sampleTime = t1 + (t4 - t1) / 2n;

    // chrony's extra tests.
    const testA = delay - dispersion <= this.#params.maxDelay &&
      precision <= this.#params.maxDelay && !req.presend &&
      Math.abs(remoteInterval) <= MAX_SERVER_INTERVAL;
    const dtd = this.stats.delayTestData(sampleTime);
    const testB = delayRatioOk(dtd, delay, this.#params.maxDelayRatio, this.#maxClockError);
    const testC = delayDevRatioOk(
      dtd,
      offset,
      delay,
      this.#params.maxDelayDevRatio,
      this.#maxClockError,
    );
    const ref = this.#hooks.referenceState();
    // Test D: the server is not synchronised to us (its reference ID is our address) and
    // is not us (same reference, stratum and root delay as ours).
    const ourId = this.#hooks.localRefId?.();
    const testD = !(pkt.stratum > 1 && ourId !== undefined && pkt.refId === ourId) &&
      !(ref.synchronised && pkt.stratum > 1 && pkt.refId === ref.refId &&
        pkt.stratum === ref.stratum && Math.abs(pkt.rootDelay - ref.rootDelay) < 1e-5);

    const tests = (test1 ? TestBit.T1 : 0) | (test2 ? TestBit.T2 : 0) |
      (test3 ? TestBit.T3 : 0) | (test5 ? TestBit.T5 : 0) | (test6 ? TestBit.T6 : 0) |
      (test7 ? TestBit.T7 : 0) | (testA ? TestBit.TA : 0) | (testB ? TestBit.TB : 0) |
      (testC ? TestBit.TC : 0) | (testD ? TestBit.TD : 0);
    const valid = test1 && test2 && test3 && test5;
    const synced = test6 && test7;
    const good = valid && synced && testA && testB && testC && testD;

    if (!valid) {
      if (!test5) this.#last = { ...this.#last, tests };
      return { tests, valid, good: false, sample: null };
    }
    req.answered = true;
    this.#lastRemoteTx = pkt.transmitTime;
    this.#totalValidRx++;
    this.#lastPacket = pkt;
    this.#last = { offset, delay, dispersion, responseTime: remoteInterval, tests };
    // Only a synchronised reply makes the source reachable (chrony 4); a presend reply
    // counts like any other.
    this.#txCount = 0;
    if (synced) this.#unreachableSignalled = false;
    this.#shiftReach(synced ? 1 : 0);

    if (!good) {
      // Slowly increase the polling interval without good replies; faster for a sync loop.
      this.#adjustPoll(testD ? BAD_RESPONSE_ADJ : SYNC_LOOP_ADJ);
      this.#afterResponse(false, kodRate);
      return { tests, valid, good: false, sample: null };
    }
    if (this.#hooks.isLeapSecondClose(sampleTime)) {
      this.#afterResponse(false);
      return { tests, valid, good: false, sample: null };
    }

    const sample: NtpSample = {
      time: sampleTime,
      offset,
      peerDelay: delay,
      peerDispersion: dispersion,
      rootDelay: pkt.rootDelay + delay,
      rootDispersion: pkt.rootDispersion + dispersion,
      stratum: pkt.stratum,
      leap: pkt.leap as LeapStatus,
    };
    this.#totalGoodRx++;
    this.#accept(sample);
    this.#afterResponse(true);
    return { tests, valid, good: true, sample };
  }

  /** Runs the filter and hands a sample to the statistics. */
  #accept(sample: NtpSample): void {
    this.#pollsSinceGoodSample = 0;
    const n = this.#params.filter;
    let out: NtpSample | null = sample;
    if (n !== null && n > 1) {
      this.#filter.push(sample);
      if (this.#filter.length < n) out = null;
      else {
        out = NtpSource.#median(this.#filter);
        this.#filter = [];
      }
    }
    if (out === null) return;
    const predicted = this.stats.predictOffset(out.time);
    this.stats.accumulate(out);
    this.stats.regress();
    this.#lastSampleTime = out.time;
    const error = Math.abs(out.offset - predicted);
    const distance = out.peerDispersion + out.peerDelay / 2;
    this.#adjustPoll(
      pollAdjustment(error, distance, this.stats.sampleCount, this.#params.pollTarget),
    );
    this.#hooks.onSample(this);
  }

  /** The sample with the median offset (a simple form of chrony's sample filter). */
  static #median(samples: NtpSample[]): NtpSample {
    const sorted = [...samples].sort((a, b) => a.offset - b.offset);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  /** Burst accounting and the next transmission after a valid response. */
  #afterResponse(good: boolean, kodRate = false): void {
    if (kodRate) {
      this.#log.log("warning", `Received KoD RATE from ${this.addressText}`);
      // Back off for a while and stop an ongoing burst.
      if (this.#inBurst()) this.#endBurst();
      if (this.#isOffline()) return;
      const interval = this.#pollInterval();
      this.#rescheduleFromLastTx(this.#randomised(interval) + 4 * interval);
      return;
    }
    if (this.#inBurst()) {
      if (good) this.#burstGoodLeft--;
      if (this.#burstGoodLeft <= 0) {
        this.#endBurst();
        if (this.#isOffline()) {
          this.#cancelTimer();
          return;
        }
        this.#rescheduleFromLastTx(this.#randomised(this.#pollInterval()));
      } else if (this.#burstTotalLeft > 0) {
        this.#rescheduleFromLastTx(this.#burstInterval());
      }
      return;
    }
    if (this.#mode === "online" && !this.#presendDone) {
      this.#rescheduleFromLastTx(this.#randomised(this.#pollInterval()));
    }
  }

  #rescheduleFromLastTx(interval: number): void {
    const since = this.#lastTx === null ? 0 : Number(this.#clock.cookedNow() - this.#lastTx) / 1e9;
    this.#schedule(Math.max(0, interval - since));
  }

  /** chronyc `ntpdata` for this source. */
  ntpData(): NtpDataReport {
    const p = this.#lastPacket;
    return {
      remoteAddress: this.address.address,
      remotePort: this.address.port,
      localAddress: this.address.address.includes(":") ? "::" : "0.0.0.0",
      leap: p?.leap ?? 3,
      version: p?.version ?? 0,
      mode: p?.mode ?? 0,
      stratum: p?.stratum ?? 0,
      poll: p?.poll ?? 0,
      precision: p?.precision ?? 0,
      rootDelay: p?.rootDelay ?? 0,
      rootDispersion: p?.rootDispersion ?? 0,
      refId: p?.refId ?? 0,
      refTime: p ? ntp64ToInstant(p.refTime, this.#clock.cookedNow()) : 0n,
      offset: this.#last.offset,
      peerDelay: this.#last.delay,
      peerDispersion: this.#last.dispersion,
      responseTime: this.#last.responseTime,
      jitterAsymmetry: this.stats.jitterAsymmetry,
      tests: this.#last.tests,
      interleaved: false,
      authenticated: this.#params.key !== null,
      totalTx: this.#totalTx,
      totalRx: this.#totalRx,
      totalValidRx: this.#totalValidRx,
      totalGoodRx: this.#totalGoodRx,
    };
  }
}
