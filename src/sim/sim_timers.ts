/**
 * The engine's timers in virtual time: `TimerPort` delays are in the client's local
 * seconds and fire after the matching true interval at the simulated clock's current rate
 * (as clknetsim converts a node's timeouts).
 *
 * @module
 */
import type { TimerHandle, TimerPort } from "../core/ports.ts";
import type { SimClock } from "./sim_clock.ts";
import type { VirtualTime } from "./virtual_time.ts";

/** TimerPort over virtual time and a simulated clock. */
export class SimTimers implements TimerPort {
  readonly #vt: VirtualTime;
  readonly #clock: SimClock;
  /** Number of timers set so far. */
  timersSet = 0;

  /** Binds the timers to virtual time and the clock whose seconds they count. */
  constructor(vt: VirtualTime, clock: SimClock) {
    this.#vt = vt;
    this.#clock = clock;
  }

  /** Calls `callback` once after `delaySeconds` of local clock time. */
  setTimer(delaySeconds: number, callback: () => void): TimerHandle {
    this.timersSet++;
    const local = Number.isFinite(delaySeconds) && delaySeconds > 0 ? delaySeconds : 0;
    const trueSeconds = local / this.#clock.rate();
    return this.#vt.scheduleIn(BigInt(Math.ceil(trueSeconds * 1e9)), callback);
  }

  /** Cancels a timer. */
  cancelTimer(handle: TimerHandle): void {
    this.#vt.cancel(handle);
  }
}
