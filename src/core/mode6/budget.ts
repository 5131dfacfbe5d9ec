/**
 * The byte budget of mode 6 answers: mode 6 is an amplification vector (a 12-octet request
 * can ask for kilobytes), so every answer is paid for from two token buckets counted in
 * octets sent: one per client address (a bounded table, least recently used evicted) and
 * one for the whole daemon (which also bounds what spoofed sources spread over many
 * addresses can get). An answer the buckets cannot pay for is not sent at all. Pure.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";

/** Limits of the mode 6 byte budget. */
export interface Mode6BudgetLimits {
  /** Octets a client may receive at once. */
  clientBurst: number;
  /** Octets per second a client's bucket refills. */
  clientRate: number;
  /** Octets all clients together may receive at once. */
  globalBurst: number;
  /** Octets per second the global bucket refills. */
  globalRate: number;
  /** Client addresses remembered (least recently used forgotten first). */
  maxClients: number;
}

/**
 * The defaults: a client may fetch 16 KiB at once (ntpq -p of about 20 associations) and
 * 4 KiB/s after that; the daemon sends at most 64 KiB at once and 16 KiB/s (128 kbit/s)
 * in all; 1024 client addresses remembered.
 */
export const DEFAULT_MODE6_BUDGET: Mode6BudgetLimits = Object.freeze({
  clientBurst: 16_384,
  clientRate: 4_096,
  globalBurst: 65_536,
  globalRate: 16_384,
  maxClients: 1024,
});

interface Bucket {
  tokens: number;
  last: Instant;
}

function refill(b: Bucket, now: Instant, rate: number, burst: number): void {
  const dt = Number(now - b.last) / 1e9;
  // A step back in time refills nothing (and restarts the count from now).
  if (dt > 0) b.tokens = Math.min(burst, b.tokens + dt * rate);
  b.last = now;
}

/** Per-client and global token buckets of octets sent. */
export class Mode6Budget {
  readonly #limits: Mode6BudgetLimits;
  readonly #clients = new Map<string, Bucket>();
  #global: Bucket | null = null;

  /** Creates a budget with `limits` (DEFAULT_MODE6_BUDGET by default). */
  constructor(limits: Mode6BudgetLimits = DEFAULT_MODE6_BUDGET) {
    this.#limits = limits;
  }

  /** Client addresses currently remembered (never above `maxClients`). */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Takes `octets` for an answer to `address` at `now` if both buckets hold them; returns
   * false (and takes nothing) otherwise.
   */
  take(address: string, octets: number, now: Instant): boolean {
    const l = this.#limits;
    const global = this.#global ??= { tokens: l.globalBurst, last: now };
    refill(global, now, l.globalRate, l.globalBurst);
    let client = this.#clients.get(address);
    if (client === undefined) {
      if (this.#clients.size >= l.maxClients) {
        const oldest = this.#clients.keys().next().value;
        if (oldest !== undefined) this.#clients.delete(oldest);
      }
      client = { tokens: l.clientBurst, last: now };
    } else {
      this.#clients.delete(address); // re-inserted below: most recently used last
      refill(client, now, l.clientRate, l.clientBurst);
    }
    this.#clients.set(address, client);
    if (client.tokens < octets || global.tokens < octets) return false;
    client.tokens -= octets;
    global.tokens -= octets;
    return true;
  }
}
