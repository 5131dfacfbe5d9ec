/**
 * Running the fallback drifts (chrony's fallbackdrift): counting from the last reference
 * update (in holdover or unsynchronised), the clock's frequency is set to the fallback drift
 * of the longest interval already spent without an update, one timer per step; each step
 * that comes due also sets the reference unsynchronised (chrony's fb_drift_timeout).
 *
 * @module
 */
import type { FallbackDrifts } from "./fallback_drift.ts";
import type { TimerHandle } from "../base/ports.ts";
import type { ReferenceDeps } from "./reference_types.ts";

/** What the fallback schedule needs. */
export interface FallbackScheduleDeps extends Pick<ReferenceDeps, "clock" | "timers" | "log"> {
  /** Seconds since the last reference update (or since start-up without one). */
  sinceUpdate: () => number;
  /** A step came due (after its frequency was set): the reference gives up synchronisation. */
  onStep: () => void;
}

/** The timer of the next fallback drift. */
export class FallbackSchedule {
  /** The averages the steps come from (the reference feeds them at each update). */
  readonly drifts: FallbackDrifts;
  readonly #deps: FallbackScheduleDeps;
  #timer: TimerHandle | null = null;
  #applied = -Infinity;

  /** A schedule over `drifts`. */
  constructor(drifts: FallbackDrifts, deps: FallbackScheduleDeps) {
    this.drifts = drifts;
    this.#deps = deps;
  }

  /** True while a fallback step is pending. */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** A reference update: nothing pending, and the next spell without updates starts over. */
  reset(): void {
    this.cancel();
    this.#applied = -Infinity;
  }

  /** Cancels the pending step. */
  cancel(): void {
    if (this.#timer !== null) this.#deps.timers.cancelTimer(this.#timer);
    this.#timer = null;
  }

  /** Arms the next step (when there is one). */
  schedule(): void {
    this.cancel();
    const next = this.drifts.next(this.#deps.sinceUpdate(), this.#applied);
    if (next === null) return;
    this.#timer = this.#deps.timers.setTimer(next.delay, () => {
      this.#timer = null;
      const freq = this.drifts.get(next.index);
      this.#applied = next.index;
      if (freq !== null && freq !== undefined) {
        this.#deps.clock.setAbsoluteFrequency(freq);
        this.#deps.log.log(
          "info",
          `Fallback drift ${next.index} active: ${(-freq).toFixed(3)} ppm`,
        );
      }
      this.#deps.onStep();
      if (this.#timer === null) this.schedule();
    });
  }
}
