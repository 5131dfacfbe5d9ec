/**
 * Simulated network paths. Each direction of a path has a one-way delay of
 * `base + jitter * Exp(1)` (clknetsim's `(+ base (* jitter (exponential)))`), plus optional
 * loss, link outages (up windows), congestion windows with extra delay, and arbitrary drop
 * rules as functions of time and packet count.
 *
 * @module
 */
import type { SimRandom } from "./prng.ts";

/** Which way a packet travels. */
export type Direction = "up" | "down";

/** A window of extra delay (congestion) between two simulated times. */
export interface CongestionWindow {
  /** Start, simulated seconds. */
  from: number;
  /** End, simulated seconds. */
  to: number;
  /** Extra fixed one-way delay, seconds. */
  extraBase?: number;
  /** Extra exponential one-way delay scale (mean), seconds. */
  extraJitter?: number;
  /** Direction affected (default both). */
  direction?: Direction | "both";
}

/** A periodic link: up for `upFor` seconds at the start of every `period` seconds. */
export interface LinkWindows {
  /** Period, seconds. */
  period: number;
  /** Seconds the link is up at the start of each period. */
  upFor: number;
}

/** Delay parameters of one direction. */
export interface DirectionSpec {
  /** Fixed one-way delay, seconds. */
  base: number;
  /** Exponential jitter scale (mean), seconds. */
  jitter: number;
}

/** A network path between the client and one server. */
export interface PathSpec {
  /** Client-to-server delay (default 100 µs + 100 µs·Exp). */
  up?: DirectionSpec;
  /** Server-to-client delay (default 100 µs + 100 µs·Exp). */
  down?: DirectionSpec;
  /**
   * Jitter asymmetry a in [-0.5, 0.5] (chrony test 011): up jitter is scaled by (1 + a) and
   * down jitter by (1 - a).
   */
  jitterAsymmetry?: number;
  /** Probability of losing a packet, per packet and direction. */
  loss?: number;
  /** Link up only in these windows (both directions). */
  linkWindows?: LinkWindows;
  /** Congestion windows. */
  congestion?: CongestionWindow[];
  /**
   * Custom drop rule: `t` simulated seconds, `count` the 1-based number of packets sent in
   * this direction so far (including this one). Return true to drop.
   */
  drop?: (t: number, direction: Direction, count: number) => boolean;
}

/** Default one-way delay: 100 µs + 100 µs·Exp(1). */
export const DEFAULT_DIRECTION: Readonly<DirectionSpec> = Object.freeze({
  base: 1e-4,
  jitter: 1e-4,
});

/** One simulated path with its own random stream. */
export class SimPath {
  readonly #spec: PathSpec;
  readonly #random: SimRandom;
  readonly #up: DirectionSpec;
  readonly #down: DirectionSpec;
  #upCount = 0;
  #downCount = 0;
  /** Packets dropped so far, per direction. */
  readonly dropped = { up: 0, down: 0 };

  /** A path with the given behaviour and random stream. */
  constructor(spec: PathSpec, random: SimRandom) {
    this.#spec = spec;
    this.#random = random;
    const a = spec.jitterAsymmetry ?? 0;
    const up = spec.up ?? DEFAULT_DIRECTION;
    const down = spec.down ?? DEFAULT_DIRECTION;
    this.#up = { base: up.base, jitter: up.jitter * (1 + a) };
    this.#down = { base: down.base, jitter: down.jitter * (1 - a) };
  }

  /**
   * The one-way delay in seconds of a packet entering the path at simulated second `t`, or
   * null when it is dropped.
   */
  transit(direction: Direction, t: number): number | null {
    const count = direction === "up" ? ++this.#upCount : ++this.#downCount;
    const s = this.#spec;
    const d = direction === "up" ? this.#up : this.#down;
    // Draw the delay first so the random stream does not depend on drop decisions.
    let delay = d.base + (d.jitter > 0 ? d.jitter * this.#random.exponential() : 0);
    let dropped = false;
    if (s.loss && this.#random.next() < s.loss) dropped = true;
    if (s.linkWindows) {
      const phase = ((t % s.linkWindows.period) + s.linkWindows.period) % s.linkWindows.period;
      if (phase >= s.linkWindows.upFor) dropped = true;
    }
    if (s.drop && s.drop(t, direction, count)) dropped = true;
    if (s.congestion) {
      for (const w of s.congestion) {
        if (t < w.from || t >= w.to) continue;
        if (w.direction && w.direction !== "both" && w.direction !== direction) continue;
        delay += w.extraBase ?? 0;
        if (w.extraJitter) delay += w.extraJitter * this.#random.exponential();
      }
    }
    if (dropped) {
      this.dropped[direction]++;
      return null;
    }
    return delay;
  }
}
