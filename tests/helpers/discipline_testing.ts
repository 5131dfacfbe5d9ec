/**
 * Test helpers for the discipline chain: a minimal deterministic virtual scheduler and a
 * fake clock driver whose raw time follows true time at `(1 + error)(1 + freq)`. Used by the
 * unit tests of local_clock, reference, ntp_source and engine; never by production code.
 *
 * @module
 */
import type { NtpPacket } from "../../src/ntp/packet.ts";
import { instantToNtp64 } from "../../src/ntp/timestamp.ts";
import type {
  ClockDriver,
  LeapAction,
  RandomPort,
  SocketAddress,
  TimerHandle,
  TimerPort,
} from "../../src/base/ports.ts";
import type { Instant } from "../../src/base/time.ts";

/** A deterministic event queue in true time (seconds since the start, a number). */
export class VirtualScheduler implements TimerPort {
  /** True seconds since the start. */
  now = 0;
  #next = 1;
  #queue: { at: number; seq: number; handle: number; fn: () => void }[] = [];
  /** Rate of the clock timers count (1 + rate error); true time when null. */
  rate: (() => number) | null = null;

  /** Calls `callback` after `delaySeconds` of local clock time. */
  setTimer(delaySeconds: number, callback: () => void): TimerHandle {
    const handle = this.#next++;
    const at = this.now + Math.max(0, delaySeconds) / (this.rate?.() ?? 1);
    this.#queue.push({ at, seq: handle, handle, fn: callback });
    this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return handle;
  }

  /** Cancels a pending timer. */
  cancelTimer(handle: TimerHandle): void {
    this.#queue = this.#queue.filter((e) => e.handle !== handle);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Runs every timer due up to `t` (true seconds) and leaves the clock at `t`. */
  runUntil(t: number, onAdvance?: (from: number, to: number) => void): void {
    while (this.#queue.length > 0 && this.#queue[0].at <= t) {
      const e = this.#queue.shift()!;
      onAdvance?.(this.now, e.at);
      this.now = e.at;
      e.fn();
    }
    onAdvance?.(this.now, t);
    this.now = t;
  }
}

/** A fake clock driver over a VirtualScheduler's true time. */
export class FakeDriver implements ClockDriver {
  /** Driver name. */
  readonly name = "fake";
  /** Largest frequency the driver accepts, ppm. */
  readonly maxFrequencyPpm: number;
  /** Oscillator error, fraction (> 0: the raw clock runs fast before correction). */
  error: number;
  /** Frequency set, ppm. */
  freqPpm = 0;
  /** Steps applied, seconds. */
  steps: number[] = [];
  /** Frequencies set, in order. */
  freqHistory: number[] = [];
  /** Leap actions requested. */
  leaps: LeapAction[] = [];
  /** Last sync status reported. */
  sync: { synchronised: boolean; est: number; max: number } | null = null;
  readonly #sched: VirtualScheduler;
  readonly #epoch: Instant;
  /** Raw reading minus true time at #segTrue, seconds. */
  #segOffset: number;
  #segTrue = 0;

  /** Creates a driver whose raw clock starts `initialOffset` s ahead of true time. */
  constructor(
    sched: VirtualScheduler,
    opts: { epoch?: Instant; error?: number; initialOffset?: number; maxFrequencyPpm?: number } =
      {},
  ) {
    this.#sched = sched;
    this.#epoch = opts.epoch ?? 1_750_000_000_000_000_000n;
    this.error = opts.error ?? 0;
    this.#segOffset = opts.initialOffset ?? 0;
    this.maxFrequencyPpm = opts.maxFrequencyPpm ?? 100000;
    sched.rate = () => 1 + this.rateError();
  }

  /** Raw clock minus true time now, seconds (> 0: the clock is ahead). */
  clockError(): number {
    const dt = this.#sched.now - this.#segTrue;
    const rate = (1 + this.error) * (1 + this.freqPpm * 1e-6) - 1;
    return this.#segOffset + dt * rate;
  }

  /** The rate error of the raw clock now, fraction (> 0: running fast). */
  rateError(): number {
    return (1 + this.error) * (1 + this.freqPpm * 1e-6) - 1;
  }

  /** True time now as an instant. */
  trueNow(): Instant {
    return this.#epoch + BigInt(Math.round(this.#sched.now * 1e9));
  }

  #settle(): void {
    this.#segOffset = this.clockError();
    this.#segTrue = this.#sched.now;
  }

  /** The raw clock reading. */
  readRawTime(): Instant {
    return this.#epoch + BigInt(Math.round((this.#sched.now + this.clockError()) * 1e9));
  }

  /** The frequency set, ppm. */
  readFrequencyPpm(): number {
    return this.freqPpm;
  }

  /** Sets the frequency (clamped to the driver range). */
  setFrequencyPpm(ppm: number): number {
    this.#settle();
    this.freqPpm = Math.max(-this.maxFrequencyPpm, Math.min(this.maxFrequencyPpm, ppm));
    this.freqHistory.push(this.freqPpm);
    return this.freqPpm;
  }

  /** Steps the raw clock. */
  stepBy(deltaSeconds: number): void {
    this.#settle();
    this.#segOffset += deltaSeconds;
    this.steps.push(deltaSeconds);
  }

  /** Records a leap request. */
  setLeap(action: LeapAction): void {
    this.leaps.push(action);
  }

  /** Records the sync status. */
  setSyncStatus(synchronised: boolean, est: number, max: number): void {
    this.sync = { synchronised, est, max };
  }
}

/** A seeded xorshift RandomPort for tests. */
export class SeededRandom implements RandomPort {
  #state: number;

  /** Creates a generator from a non-zero seed. */
  constructor(seed = 12345) {
    this.#state = seed >>> 0 || 1;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.#state = x;
    return x / 4294967296;
  }

  /** Fills `bytes` with pseudo-random bytes. */
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(this.next() * 256);
  }
}

/** What a fake server answers with; null drops the request. */
export interface FakeReplyOptions {
  /** One-way delay each way, seconds. */
  delay: number;
  /** Server clock error, seconds (> 0: server ahead of true time). */
  serverOffset: number;
  /** Stratum (0 with a kiss code makes a KoD). */
  stratum: number;
  /** Kiss code for a KoD reply (stratum 0). */
  kiss: string | null;
  /** Leap indicator. */
  leap: number;
  /** Replace the origin timestamp (test 2 failure). */
  badOrigin: boolean;
  /** Extra random one-way delay, uniform in [0, jitter) seconds, each way. */
  jitter?: number;
}

/**
 * A transport that answers every request like a perfect server after `delay`, through
 * `deliver` (set by the test to call engine.receiveReply). `drop(n)` drops the n-th request
 * (1-based); `send` returns `sendOk`.
 */
export class FakeTransport {
  /** Requests sent: id, destination and bytes. */
  sent: { id: number; to: string; bytes: Uint8Array; at: number }[] = [];
  /** Default reply options. */
  reply: FakeReplyOptions = {
    delay: 1e-4,
    serverOffset: 0,
    stratum: 1,
    kiss: null,
    leap: 0,
    badOrigin: false,
  };
  /** Drops the n-th request when true. */
  drop: (n: number) => boolean = () => false;
  /** What send() returns. */
  sendOk = true;
  /** Called with (requestId, reply bytes) at delivery time. */
  deliver: ((id: number, bytes: Uint8Array) => void) | null = null;
  readonly #sched: VirtualScheduler;
  readonly #driver: FakeDriver;
  readonly #encode: (p: NtpPacket) => Uint8Array;
  readonly #decode: (b: Uint8Array) => NtpPacket | null;
  readonly #random = new SeededRandom(4242);

  /** Binds the transport to the scheduler and the true-time source. */
  constructor(
    sched: VirtualScheduler,
    driver: FakeDriver,
    codec: { encode: (p: NtpPacket) => Uint8Array; decode: (b: Uint8Array) => NtpPacket | null },
  ) {
    this.#sched = sched;
    this.#driver = driver;
    this.#encode = codec.encode;
    this.#decode = codec.decode;
  }

  /** NtpTransport.send. */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
    this.sent.push({ id: requestId, to: to.address, bytes: packet, at: this.#sched.now });
    if (!this.sendOk) return false;
    if (this.drop(this.sent.length)) return true;
    const req = this.#decode(packet);
    if (req === null) return true;
    const o = { ...this.reply };
    const up = o.delay + (o.jitter ?? 0) * this.#random.next();
    const down = o.delay + (o.jitter ?? 0) * this.#random.next();
    const serverTime = (delaySoFar: number) =>
      instantToNtp64(
        this.#driver.trueNow() + BigInt(Math.round((delaySoFar + o.serverOffset) * 1e9)),
      );
    const rx = serverTime(up);
    const tx = serverTime(up + 1e-5);
    const reply: NtpPacket = {
      leap: o.kiss ? 3 : o.leap,
      version: req.version,
      mode: 4,
      stratum: o.kiss ? 0 : o.stratum,
      poll: req.poll,
      precision: -20,
      rootDelay: 0,
      rootDispersion: 0,
      refId: o.kiss ? refIdAscii(o.kiss) : refIdAscii("GPS"),
      refTime: rx,
      originTime: o.badOrigin ? req.transmitTime ^ 1n : req.transmitTime,
      receiveTime: rx,
      transmitTime: tx,
      extensions: [],
      mac: null,
    };
    const bytes = this.#encode(reply);
    this.#sched.setTimer(up + 1e-5 + down, () => this.deliver?.(requestId, bytes));
    return true;
  }
}

/** A reference ID from ASCII text (test helper). */
function refIdAscii(text: string): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v = (v << 8) | (i < text.length ? text.charCodeAt(i) : 0);
  return v >>> 0;
}
