/**
 * Spacing of transmissions of different sources (chrony's sampling separation and timeout
 * classes): each source's next transmission is moved so that it is at least `separation`
 * seconds away from the transmissions the other sources made or reserved.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";

/** Reserved and recent transmission times per source, on the raw clock. */
export class TransmitSpacing {
  readonly #slots = new Map<number, Instant>();
  readonly #lastTx = new Map<number, Instant>();

  /** Source `id` transmitted at raw time `raw`. */
  transmitted(id: number, raw: Instant): void {
    this.#lastTx.set(id, raw);
  }

  /** Forgets a removed source. */
  forget(id: number): void {
    this.#slots.delete(id);
    this.#lastTx.delete(id);
  }

  /**
   * Moves a delay of source `id`, from raw time `now`, off the other sources' times by at
   * least `separation` seconds and reserves the result; returns the delay to use.
   */
  separate(id: number, now: Instant, delay: number, separation: number): number {
    // Timers count local (raw) seconds, so slots are kept on the raw clock.
    const sepNs = BigInt(Math.round(separation * 1e9));
    let t = now + BigInt(Math.round(delay * 1e9));
    const others = [...this.#slots.entries(), ...this.#lastTx.entries()]
      .filter(([sid, at]) => sid !== id && at + sepNs > now)
      .map(([, at]) => at)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (let pass = 0; pass <= others.length; pass++) {
      let moved = false;
      for (const at of others) {
        const d = t - at;
        if (d > -sepNs && d < sepNs) {
          t = at + sepNs;
          moved = true;
        }
      }
      if (!moved) break;
    }
    this.#slots.set(id, t);
    return Number(t - now) / 1e9;
  }
}
