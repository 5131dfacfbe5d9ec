/**
 * The server's store of transmit timestamps for interleaved mode (RFC 9769; chrony's NTP
 * timestamp map in clientlog.c): each reply to a request that may go on interleaved leaves
 * an entry keyed by the receive timestamp written into that reply (its 64 NTP bits, as the
 * client will echo them in the origin field of its next request), holding the reply's
 * transmit time: first the daemon's (read just before sending), then the kernel's when the
 * socket reports it. The next interleaved request names the entry by its origin timestamp
 * and gets that transmit time, which was taken after the previous reply left.
 *
 * Rules (chrony's, with one addition):
 * - an entry answers at most once (a replay of the same origin gets a basic reply);
 * - a receive timestamp saved twice disables its entry (no reply with a wrong transmit time);
 * - a kernel timestamp replaces the daemon's only when it is 0..1 s later than it (a
 *   timestamp of another datagram, or one across a clock step, is refused);
 * - bounded: at most `capacity` entries, the oldest go first (first in, first out);
 * - a clock step clears the table (the receive and transmit times of an exchange must be
 *   on one scale);
 * - tempus addition: an entry is handed only to the address it was made for, so no third
 *   party can use up (or read) another client's timestamp.
 *
 * Symmetric peers in interleaved mode keep their own transmit times per association; this
 * store is for the server (and stateless passive) side. Pure.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";

/** Largest accepted delay of a kernel transmit timestamp after the daemon's, ns. */
export const MAX_TX_DELAY_NS = 1_000_000_000n;

/** One saved reply. */
interface TxEntry {
  /** Client address the reply went to. */
  address: string;
  /** Cooked transmit time (the daemon's, replaced by the kernel's when it came). */
  tx: Instant;
  /** True once the kernel's timestamp replaced the daemon's. */
  kernel: boolean;
  /** Used or ambiguous: never handed out (again). */
  disabled: boolean;
}

/** Counters of the store (chronyc serverstats). */
export interface TxTimestampStats {
  /** Interleaved replies made from an entry. */
  interleavedHits: number;
  /** Entries whose transmit time came from the kernel. */
  kernelTx: number;
  /** Entries saved. */
  saved: number;
  /** Entries dropped to make room. */
  evicted: number;
}

/** Bounded map from a reply's receive timestamp (NTP 64 bits) to its transmit time. */
export class TxTimestampStore {
  /** Most entries held. */
  readonly capacity: number;
  /** Insertion order is age order: the first entry is the oldest. */
  readonly #entries = new Map<bigint, TxEntry>();
  #newestKey = 0n;
  /** Counters. */
  readonly stats: TxTimestampStats = { interleavedHits: 0, kernelTx: 0, saved: 0, evicted: 0 };

  /** An empty store of at most `capacity` entries (at least 1). */
  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Seconds between the oldest and the newest receive timestamp held (serverstats
   * "timestamp span"); 0 with fewer than two.
   */
  get spanSeconds(): number {
    if (this.#entries.size < 2) return 0;
    const oldest = this.#entries.keys().next().value as bigint;
    const diff = BigInt.asIntN(64, this.#newestKey - oldest);
    return Number(diff) / 4294967296;
  }

  /**
   * Saves the reply whose receive timestamp field is `rxKey`, sent to `address` with daemon
   * transmit time `tx`. A key already present is disabled instead (chrony: two replies with
   * one receive timestamp cannot be told apart).
   */
  save(rxKey: bigint, address: string, tx: Instant): void {
    if (rxKey === 0n) return;
    const existing = this.#entries.get(rxKey);
    if (existing !== undefined) {
      existing.disabled = true;
      return;
    }
    while (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value as bigint;
      this.#entries.delete(oldest);
      this.stats.evicted++;
    }
    this.#entries.set(rxKey, { address, tx, kernel: false, disabled: false });
    this.#newestKey = rxKey;
    this.stats.saved++;
  }

  /** True when `rxKey` is held and still waits for its kernel transmit time. */
  wants(rxKey: bigint): boolean {
    const e = this.#entries.get(rxKey);
    return e !== undefined && !e.kernel;
  }

  /**
   * The kernel's transmit time `kernelTx` of the reply saved under `rxKey`: replaces the
   * daemon's when it is 0..MAX_TX_DELAY_NS later. True when taken.
   */
  updateTx(rxKey: bigint, kernelTx: Instant): boolean {
    const e = this.#entries.get(rxKey);
    if (e === undefined || e.kernel) return false;
    const delay = kernelTx - e.tx;
    if (delay < 0n || delay > MAX_TX_DELAY_NS) return false;
    e.tx = kernelTx;
    e.kernel = true;
    this.stats.kernelTx++;
    return true;
  }

  /**
   * The transmit time for an interleaved reply to a request from `address` whose origin
   * timestamp is `originKey`, or null (answer in basic mode). An entry is handed out once.
   */
  take(originKey: bigint, address: string): Instant | null {
    const e = this.#entries.get(originKey);
    if (e === undefined || e.disabled || e.address !== address) return null;
    e.disabled = true;
    this.stats.interleavedHits++;
    return e.tx;
  }

  /** Whether the saved transmit time of `rxKey` is the kernel's (tests, reports). */
  isKernel(rxKey: bigint): boolean {
    return this.#entries.get(rxKey)?.kernel ?? false;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear();
    this.#newestKey = 0n;
  }

  /** Follows a clock change: a step (ours or seen) clears the store; a slew keeps it. */
  applyClockChange(change: Pick<ClockChangeEvent, "kind">): void {
    if (change.kind !== "adjust") this.clear();
  }
}
