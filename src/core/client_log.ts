/**
 * The server's per-client log (chrony's clientlog.c): a bounded table of client records
 * with NTP and command hits and drops, average request interval and last hit, the
 * token-bucket `ratelimit`/`cmdratelimit`, and the totals behind `serverstats`.
 *
 * Size: `clientloglimit` bytes buy `limit / 128` records, rounded down to a power of two
 * (524 288 bytes = 4096 records, like chrony), at least 16 and at most 16 777 216. When the
 * table is full, a record not hit recently is replaced (second-chance approximation of least
 * recently hit) and counted as a log drop.
 *
 * Rate limiting (per client address, only for clients that have a record):
 * - a bucket holds up to `burst` responses and refills at one response per 2^interval s
 *   (a new client starts with a full bucket);
 * - a request is answered while the bucket holds a whole response, which it consumes;
 * - otherwise it is answered anyway with probability 2^-leak (and the bucket is emptied,
 *   so leaked answers count against the rate), else dropped;
 * - a dropped request gets a KoD RATE instead, with probability 2^-kod (kod 0 = never).
 * chrony's suspension of rate limiting for clients that speed up when unanswered is not
 * implemented.
 *
 * Pure: time comes in as arguments, randomness through an injected function.
 *
 * @module
 */
import type { RateLimitConfig } from "../config/model.ts";
import type { ClientAccessReport, ServerStatsReport } from "./reports.ts";
import type { Instant } from "../base/time.ts";
import { TxTimestampStore } from "./serve/tx_timestamps.ts";

/** Bytes of `clientloglimit` per client record (chrony: 524 288 bytes = 4096 records). */
export const CLIENT_RECORD_BYTES = 128;
/** Smallest table (chrony's one hash slot). */
export const MIN_CLIENT_RECORDS = 16;
/** Largest table (chrony's absolute maximum). */
export const MAX_CLIENT_RECORDS = 16_777_216;
/** `ClientAccessReport` interval value meaning "unknown". */
export const INTERVAL_UNKNOWN = 127;
/** `ClientAccessReport` "seconds ago" value meaning "never". */
export const NEVER_AGO = 0xffff_ffff;

/** What to do with a request after rate limiting. */
export type RateDecision = "respond" | "drop" | "kod";

/** Records that a `clientloglimit` of `bytes` buys (a power of two, 16 .. 16 777 216). */
export function clientRecordsForLimit(bytes: number): number {
  const wanted = Math.floor(Math.max(0, bytes) / CLIENT_RECORD_BYTES);
  let n = MIN_CLIENT_RECORDS;
  while (n * 2 <= wanted && n < MAX_CLIENT_RECORDS) n *= 2;
  return n;
}

/** A token bucket's parameters in seconds, derived from a `RateLimitConfig`. */
interface Bucket {
  /** Seconds of credit one response costs (2^interval). */
  cost: number;
  /** Largest credit, seconds (cost * burst). */
  max: number;
  /** Probability of answering a request over the limit (2^-leak). */
  leakProbability: number;
  /** Probability of a KoD RATE for a dropped request (2^-kod, 0 when kod is 0). */
  kodProbability: number;
}

/** Clamps chrony's ranges: interval -19..12, burst 1..255, leak 1..4, kod 0..4. */
function bucketFrom(cfg: RateLimitConfig | null): Bucket | null {
  if (cfg === null) return null;
  const interval = Math.min(12, Math.max(-19, Math.round(cfg.interval)));
  const burst = Math.min(255, Math.max(1, Math.round(cfg.burst)));
  const leak = Math.min(4, Math.max(1, Math.round(cfg.leak)));
  const kod = Math.min(4, Math.max(0, Math.round(cfg.kod)));
  const cost = Math.pow(2, interval);
  return {
    cost,
    max: cost * burst,
    leakProbability: Math.pow(2, -leak),
    kodProbability: kod === 0 ? 0 : Math.pow(2, -kod),
  };
}

/** One service's state in a client record. */
interface ServiceState {
  hits: number;
  drops: number;
  /** Last hit, Unix seconds (NaN = never). */
  last: number;
  /** Bucket credit in seconds. */
  tokens: number;
  /** Moving average of log2(interval between hits); NaN = unknown. */
  intervalLog2: number;
}

/** One client's record. */
interface ClientRecord {
  address: string;
  /** Hit since it was last passed over by the eviction hand (second-chance LRU). */
  referenced: boolean;
  ntp: ServiceState;
  cmd: ServiceState;
}

function newService(): ServiceState {
  return { hits: 0, drops: 0, last: NaN, tokens: NaN, intervalLog2: NaN };
}

/** Options of a `ClientLog`. */
export interface ClientLogOptions {
  /** `clientloglimit` in bytes (default 524 288). */
  limitBytes?: number;
  /** `noclientlog`: keep no per-client records (and so no rate limiting). */
  disabled?: boolean;
  /** `ratelimit` for NTP (null = off). */
  ntpRateLimit?: RateLimitConfig | null;
  /** `cmdratelimit` for commands (null = off; never applied to loopback by the caller). */
  cmdRateLimit?: RateLimitConfig | null;
  /** Uniform random numbers in [0, 1) (RandomPort.next); used for leak and KoD. */
  random: () => number;
}

/** Weight of a new interval in the average (chrony moves its rate estimate by steps). */
const INTERVAL_AVERAGE_WEIGHT = 0.25;
/** Shortest interval counted, seconds (chrony's 1/16 s timestamp resolution). */
const MIN_INTERVAL = 1 / 16;

/** Converts an instant to Unix seconds as a float (enough for rate limiting). */
function toSeconds(t: Instant): number {
  return Number(t) / 1e9;
}

/**
 * The bounded per-client table with rate limiting and server statistics. Not thread-safe
 * by design (the server is single-threaded).
 */
export class ClientLog {
  /** Most records the table holds. */
  readonly capacity: number;
  readonly #disabled: boolean;
  readonly #ntpBucket: Bucket | null;
  readonly #cmdBucket: Bucket | null;
  readonly #random: () => number;
  /** Insertion order = recency order (a hit moves the record to the end). */
  #records = new Map<string, ClientRecord>();
  #ntpHits = 0;
  #cmdHits = 0;
  #ntpDrops = 0;
  #cmdDrops = 0;
  #logDrops = 0;
  #ntpDaemonRx = 0;
  #ntpDaemonTx = 0;
  #ntpKernelRx = 0;
  #ntpAuthHits = 0;
  #ntpKernelTx = 0;
  /**
   * Transmit timestamps of recent replies for interleaved mode (null with `noclientlog`,
   * like chrony, which keeps them in its client log); as many as there are client records.
   */
  readonly txTimestamps: TxTimestampStore | null;

  /** Creates an empty log. */
  constructor(options: ClientLogOptions) {
    this.capacity = clientRecordsForLimit(options.limitBytes ?? 524288);
    this.#disabled = options.disabled ?? false;
    this.#ntpBucket = bucketFrom(options.ntpRateLimit ?? null);
    this.#cmdBucket = bucketFrom(options.cmdRateLimit ?? null);
    this.#random = options.random;
    this.txTimestamps = this.#disabled ? null : new TxTimestampStore(this.capacity);
  }

  /** Records held now. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * Logs an NTP request from an allowed client at `now` and applies `ratelimit`.
   * Call only for requests that passed the access check (as chrony does).
   */
  ntpRequest(address: string, now: Instant): RateDecision {
    this.#ntpHits++;
    if (this.#disabled) return "respond";
    const rec = this.#touch(address);
    const decision = this.#limit(rec.ntp, toSeconds(now), this.#ntpBucket);
    if (decision !== "respond") this.#ntpDrops++;
    return decision;
  }

  /**
   * Counts a command that came over the Unix socket (serverstats "Command packets
   * received", as chronyd counts them: no client record, no rate limit).
   */
  cmdLocalRequest(): void {
    this.#cmdHits++;
  }

  /**
   * Logs a command request at `now`; applies `cmdratelimit` unless `exempt` (loopback).
   * Returns "respond" or "drop" (there is no KoD for commands).
   */
  cmdRequest(address: string, now: Instant, exempt = false): "respond" | "drop" {
    this.#cmdHits++;
    if (this.#disabled) return "respond";
    const rec = this.#touch(address);
    const decision = this.#limit(rec.cmd, toSeconds(now), exempt ? null : this.#cmdBucket);
    if (decision === "respond") return "respond";
    this.#cmdDrops++;
    return "drop";
  }

  /**
   * Counts the timestamps of a reply sent, for serverstats: the receive timestamp came from
   * the kernel or the daemon; the transmit timestamp is always the daemon's.
   */
  countTimestamps(rx: "kernel" | "daemon"): void {
    if (rx === "kernel") this.#ntpKernelRx++;
    else this.#ntpDaemonRx++;
    this.#ntpDaemonTx++;
  }

  /** The reply just counted by `countTimestamps` got the kernel's transmit timestamp. */
  countKernelTx(): void {
    if (this.#ntpDaemonTx > 0) this.#ntpDaemonTx--;
    this.#ntpKernelTx++;
  }

  /** Counts an NTP request that was authenticated with a symmetric key (serverstats). */
  countAuthenticated(): void {
    this.#ntpAuthHits++;
  }

  /** `serverstats`. */
  serverStats(): ServerStatsReport {
    return {
      ntpHits: this.#ntpHits,
      ntsKeHits: 0,
      cmdHits: this.#cmdHits,
      ntpDrops: this.#ntpDrops,
      ntsKeDrops: 0,
      cmdDrops: this.#cmdDrops,
      logDrops: this.#logDrops,
      ntpAuthHits: this.#ntpAuthHits,
      ntpInterleavedHits: this.txTimestamps?.stats.interleavedHits ?? 0,
      ntpTimestamps: this.txTimestamps?.size ?? 0,
      ntpSpanSeconds: Math.round(this.txTimestamps?.spanSeconds ?? 0),
      ntpDaemonRxTimestamps: this.#ntpDaemonRx,
      ntpDaemonTxTimestamps: this.#ntpDaemonTx,
      ntpKernelRxTimestamps: this.#ntpKernelRx,
      ntpKernelTxTimestamps: this.#ntpKernelTx,
      ntpHwRxTimestamps: 0,
      ntpHwTxTimestamps: 0,
    };
  }

  /**
   * `clients [-p MIN] [-r]`: records with at least `minHits` NTP+cmd hits, most recent
   * last. With `reset`, hit and drop counters of every record are zeroed after reporting.
   */
  clients(now: Instant, options: { minHits?: number; reset?: boolean } = {}): ClientAccessReport[] {
    const nowS = toSeconds(now);
    const minHits = options.minHits ?? 0;
    const out: ClientAccessReport[] = [];
    for (const rec of this.#records.values()) {
      if (rec.ntp.hits + rec.cmd.hits < minHits) continue;
      out.push({
        address: rec.address,
        ntpHits: rec.ntp.hits,
        ntpDrops: rec.ntp.drops,
        cmdHits: rec.cmd.hits,
        cmdDrops: rec.cmd.drops,
        ntpInterval: reportInterval(rec.ntp),
        cmdInterval: reportInterval(rec.cmd),
        lastNtpHitAgo: reportAgo(rec.ntp, nowS),
        lastCmdHitAgo: reportAgo(rec.cmd, nowS),
      });
    }
    if (options.reset) {
      for (const rec of this.#records.values()) {
        for (const service of [rec.ntp, rec.cmd]) service.hits = service.drops = 0;
      }
    }
    return out;
  }

  /**
   * Shifts every stored hit time by `shiftSeconds` after a clock step (observer hook), so
   * intervals and rate limiting stay right.
   */
  applyClockStep(shiftSeconds: number): void {
    for (const rec of this.#records.values()) {
      rec.ntp.last += shiftSeconds;
      rec.cmd.last += shiftSeconds;
    }
    // An exchange must not span a step: interleaved transmit times are dropped (chrony).
    this.txTimestamps?.clear();
  }

  /** Finds or creates the record of `address` and marks it most recently used. */
  #touch(address: string): ClientRecord {
    const recs = this.#records;
    let rec = recs.get(address);
    if (rec !== undefined) {
      rec.referenced = true;
      return rec;
    }
    if (recs.size >= this.capacity) this.#evictOne();
    rec = { address, referenced: false, ntp: newService(), cmd: newService() };
    recs.set(address, rec);
    return rec;
  }

  /**
   * Evicts one record, approximating least-recently-hit (second chance): records hit since
   * they were last passed over are moved to the back once; the first one not hit goes.
   */
  #evictOne(): void {
    const recs = this.#records;
    for (const [key, rec] of recs) {
      if (rec.referenced) {
        rec.referenced = false;
        recs.delete(key);
        recs.set(key, rec);
        continue;
      }
      recs.delete(key);
      this.#logDrops++;
      return;
    }
  }

  /** Updates the hit statistics of `s` and applies `bucket`. */
  #limit(s: ServiceState, now: number, bucket: Bucket | null): RateDecision {
    const prev = s.last;
    s.hits++;
    s.last = now;
    if (Number.isNaN(prev)) {
      s.tokens = bucket === null ? 0 : bucket.max;
    } else {
      const interval = now - prev;
      if (interval >= 0) {
        const x = Math.log2(Math.max(interval, MIN_INTERVAL));
        s.intervalLog2 = Number.isNaN(s.intervalLog2)
          ? x
          : s.intervalLog2 + (x - s.intervalLog2) * INTERVAL_AVERAGE_WEIGHT;
        if (bucket !== null) s.tokens = Math.min(bucket.max, (s.tokens || 0) + interval);
      }
    }
    if (bucket === null) return "respond";
    if (s.tokens >= bucket.cost) {
      s.tokens -= bucket.cost;
      return "respond";
    }
    if (this.#random() < bucket.leakProbability) {
      s.tokens = 0;
      return "respond";
    }
    s.drops++;
    if (bucket.kodProbability > 0 && this.#random() < bucket.kodProbability) return "kod";
    return "drop";
  }
}

function reportInterval(s: ServiceState): number {
  if (Number.isNaN(s.intervalLog2)) return INTERVAL_UNKNOWN;
  return Math.round(s.intervalLog2);
}

function reportAgo(s: ServiceState, now: number): number {
  if (Number.isNaN(s.last)) return NEVER_AGO;
  const ago = Math.floor(now - s.last);
  return ago < 0 ? 0 : Math.min(ago, NEVER_AGO - 1);
}
