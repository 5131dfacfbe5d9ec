/**
 * When an NTP client source sends: the poll exponent and its score, the operating mode with
 * iburst/burst/presend, and the delays between requests (chrony's ntp_core.c timing). Pure
 * state; the source turns its answers into wake-up outcomes.
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import { adjustPoll } from "../poll.ts";
import type { RandomPort } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import type { SourceMode } from "./source.ts";

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
/** Shortest poll (log2 s) used before the source is known to be on a LAN. */
export const MIN_NONLAN_POLL = 0;
/** Smallest separation between transmissions of different sources, seconds. */
export const MIN_SAMPLING_SEPARATION = 0.002;
/** Largest separation between transmissions of different sources, seconds. */
export const MAX_SAMPLING_SEPARATION = 0.2;
/** Randomness added to poll intervals (fraction). */
export const SAMPLING_RANDOMNESS = 0.02;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Poll, mode and burst state of one NTP client source. */
export class PollSchedule {
  /** The options in force (modifiable at run time). */
  readonly params: SourceParams;
  /** Operating mode. */
  mode: SourceMode = "offline";
  /** Poll exponent, log2 s. */
  poll: number;
  /** Poll score. */
  score = 0;
  readonly #random: RandomPort;
  #burstGoodLeft = 0;
  #burstTotalLeft = 0;
  /** Presend requests still to go before the real one (0: no presend under way). */
  #presendLeft = 0;

  /** A schedule over `params` (kept, not copied). */
  constructor(params: SourceParams, random: RandomPort) {
    this.params = params;
    this.#random = random;
    this.poll = Math.max(params.minPoll, MIN_NONLAN_POLL);
  }

  /** Separation of transmissions for the current poll (chrony get_separation). */
  separation(): number {
    return clamp(2 ** (this.poll - 3), MIN_SAMPLING_SEPARATION, MAX_SAMPLING_SEPARATION);
  }

  #randomised(interval: number): number {
    return interval * (1 + SAMPLING_RANDOMNESS * this.#random.next());
  }

  #pollInterval(): number {
    return 2 ** this.poll;
  }

  #burstInterval(): number {
    return Math.min(BURST_INTERVAL, 0.25 * 2 ** this.poll);
  }

  /** True in a burst. */
  inBurst(): boolean {
    return this.mode === "burst-online" || this.mode === "burst-offline";
  }

  #startBurst(good: number, total: number): void {
    this.#burstGoodLeft = good;
    this.#burstTotalLeft = total;
    this.mode = this.mode === "offline" || this.mode === "burst-offline"
      ? "burst-offline"
      : "burst-online";
  }

  #endBurst(): void {
    this.mode = this.mode === "burst-offline" ? "offline" : "online";
    this.#burstGoodLeft = 0;
    this.#burstTotalLeft = 0;
  }

  /** Goes online (iburst if configured); returns the delay of the first request. */
  goOnline(now: Instant, lastTx: Instant | null): number {
    this.mode = "online";
    this.#presendLeft = 0;
    if (this.params.iburst) this.#startBurst(IBURST_GOOD_SAMPLES, IBURST_TOTAL_SAMPLES);
    let delay = INITIAL_DELAY;
    if (!this.inBurst() && lastTx !== null) {
      // Keep at least the current poll interval since the last request.
      const since = Number(now - lastTx) / 1e9;
      delay = Math.max(delay, this.#pollInterval() - since);
    }
    return delay;
  }

  /** chronyc burst: `good` good samples out of at most `total`; the delay to the first. */
  commandBurst(good: number, total: number): number {
    const g = clamp(Math.floor(good), 1, 1000);
    const t = clamp(Math.floor(total), g, 1000);
    this.#startBurst(g, t);
    return INITIAL_DELAY;
  }

  /** Changes a numeric option; false if it is not one. */
  modify(field: keyof SourceParams, value: number): boolean {
    const p = this.params as unknown as Record<string, unknown>;
    if (typeof p[field] !== "number" && p[field] !== null) return false;
    p[field] = value;
    if (field === "minPoll" || field === "maxPoll") {
      this.poll = clamp(this.poll, this.params.minPoll, this.params.maxPoll);
    }
    return true;
  }

  /** Adjusts the poll by `adj` (scores of chrony's poll.ts). */
  adjust(adj: number, lanOk: boolean): void {
    const next = adjustPoll(
      { poll: this.poll, score: this.score },
      adj,
      this.params.minPoll,
      this.params.maxPoll,
      lanOk,
    );
    this.poll = next.poll;
    this.score = next.score;
  }

  /**
   * At a transmit timeout: "stop" (offline, or an offline burst used up), "presend" (send a
   * warm-up request now) or "send".
   */
  beforeTransmit(): "stop" | "presend" | "send" {
    if (this.mode === "offline") return "stop";
    // An online burst turns back to normal polling before its last request (so the next
    // request after it is a poll interval away); an offline burst ends when used up.
    if (this.mode === "burst-online" && this.#burstTotalLeft <= 1) {
      this.#endBurst();
    } else if (this.mode === "burst-offline" && this.#burstTotalLeft <= 0) {
      this.#endBurst();
      return "stop";
    }
    // Presend: a warm-up exchange WARM_UP_DELAY before the real one; two with xleave, so
    // that an interleaved server holds a fresh transmit time for the real one (chrony).
    const presend = this.params.presend;
    if (presend !== null && this.poll >= presend && this.#presendLeft === 0 && !this.inBurst()) {
      this.#presendLeft = this.params.xleave ? 2 : 1;
      return "presend";
    }
    if (this.#presendLeft > 1) {
      this.#presendLeft--;
      return "presend";
    }
    this.#presendLeft = 0;
    return "send";
  }

  /** The burst option: a short burst at each poll above minpoll. */
  burstOption(): void {
    if (
      this.params.burst && !this.inBurst() && this.mode === "online" &&
      this.poll > this.params.minPoll
    ) {
      this.#startBurst(1, Math.min(2 ** (this.poll - this.params.minPoll), 4));
    }
  }

  /** Delay after a presend request. */
  warmUpDelay(): number {
    return WARM_UP_DELAY;
  }

  /** A regular request went out: count it against the burst. */
  countBurstRequest(): void {
    if (this.inBurst()) this.#burstTotalLeft--;
  }

  /** Delay to the next request after one went out (randomised). */
  nextInterval(): number {
    return this.#randomised(this.inBurst() ? this.#burstInterval() : this.#pollInterval());
  }

  /**
   * After a valid response: the delay of the next request counted from the last
   * transmission, "cancel" to send nothing more, or null to leave the wake-up as it is.
   */
  afterResponse(good: boolean, kodRate: boolean): number | "cancel" | null {
    if (kodRate) {
      // Back off for a while and stop an ongoing burst.
      if (this.inBurst()) this.#endBurst();
      if (this.mode === "offline") return null;
      const interval = this.#pollInterval();
      return this.#randomised(interval) + 4 * interval;
    }
    if (this.inBurst()) {
      if (good) this.#burstGoodLeft--;
      if (this.#burstGoodLeft <= 0) {
        this.#endBurst();
        if (this.mode === "offline") return "cancel";
        return this.#randomised(this.#pollInterval());
      }
      return this.#burstTotalLeft > 0 ? this.#burstInterval() : null;
    }
    if (this.mode === "online" && this.#presendLeft === 0) {
      return this.#randomised(this.#pollInterval());
    }
    return null;
  }
}
