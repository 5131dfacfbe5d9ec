/**
 * The sources' wake-up timers: at most one pending per source, replaced by each new `wake`
 * outcome, counted from the source's last transmission when asked, and moved off the other
 * sources' transmissions (TransmitSpacing).
 *
 * @module
 */
import type { TimerHandle, TimerPort } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import type { Source } from "../source/source.ts";
import { TransmitSpacing } from "./spacing.ts";

/** The clock readings a wake-up is computed from. */
export interface WakeClock {
  /** Cooked time now. */
  cookedNow(): Instant;
  /** Raw (local) time now: timers and spacing count local seconds. */
  rawNow(): Instant;
}

/** Pending wake-ups and the transmission spacing of every source. */
export class SourceWakes {
  readonly #timers: TimerPort;
  readonly #clock: WakeClock;
  readonly #pending = new Map<number, TimerHandle>();
  /** Spacing of transmissions between sources. */
  readonly spacing: TransmitSpacing = new TransmitSpacing();

  /** Wake-ups on `timers`, computed from `clock`. */
  constructor(timers: TimerPort, clock: WakeClock) {
    this.#timers = timers;
    this.#clock = clock;
  }

  /**
   * Calls `due` after `delay` seconds (from the last transmission of `s` when `fromLastTx`),
   * at least `separation` seconds off other sources' transmissions; replaces any pending
   * wake-up of `s`. Nothing for a stopped source.
   */
  wake(s: Source, delay: number, fromLastTx: boolean, separation: number, due: () => void): void {
    if (!s.running) return;
    this.cancel(s.id);
    let d = delay;
    if (fromLastTx && s.lastTransmit !== null) {
      d -= Number(this.#clock.cookedNow() - s.lastTransmit) / 1e9;
    }
    d = this.spacing.separate(s.id, this.#clock.rawNow(), Math.max(0, d), separation);
    this.#pending.set(
      s.id,
      this.#timers.setTimer(d, () => {
        this.#pending.delete(s.id);
        due();
      }),
    );
  }

  /** Cancels the pending wake-up of source `id`, if any. */
  cancel(id: number): void {
    const handle = this.#pending.get(id);
    if (handle !== undefined) this.#timers.cancelTimer(handle);
    this.#pending.delete(id);
  }

  /** Forgets a removed source (its wake-up and its spacing slots). */
  forget(id: number): void {
    this.cancel(id);
    this.spacing.forget(id);
  }
}
