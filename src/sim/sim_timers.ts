/**
 * The engine's timers in virtual time: `TimerPort` delays are in the client's local
 * seconds and fire after the matching true interval at the simulated clock's current rate
 * (as clknetsim converts a node's timeouts).
 *
 * @module
 */
import type { TimerHandle, TimerPort } from "../base/ports.ts";
import type { SimClock } from "./sim_clock.ts";
import type { VirtualTime } from "./virtual_time.ts";

/** A pending timer: its deadline on the clock's monotonic scale and its event. */
interface PendingTimer {
  deadline: number;
  callback: () => void;
  event: number;
}

/**
 * TimerPort over virtual time and a simulated clock. A timer's deadline is kept in local
 * (monotonic) seconds; whenever the clock's rate changes, pending timers are re-planned at
 * the new rate, so each fires when the local clock has counted its delay (as clknetsim
 * converts a node's timeouts). Steps of the clock do not move timers.
 */
export class SimTimers implements TimerPort {
  readonly #vt: VirtualTime;
  readonly #clock: SimClock;
  readonly #pending = new Map<TimerHandle, PendingTimer>();
  #nextHandle = 1;
  #plannedRate = 1;
  /** Number of timers set so far. */
  timersSet = 0;

  /** Binds the timers to virtual time and the clock whose seconds they count. */
  constructor(vt: VirtualTime, clock: SimClock) {
    this.#vt = vt;
    this.#clock = clock;
    clock.onRateChange = () => this.#replan();
  }

  /** Calls `callback` once after `delaySeconds` of local clock time. */
  setTimer(delaySeconds: number, callback: () => void): TimerHandle {
    this.timersSet++;
    const local = Number.isFinite(delaySeconds) && delaySeconds > 0 ? delaySeconds : 0;
    const handle = this.#nextHandle++;
    const timer: PendingTimer = {
      deadline: this.#clock.monotonic() + local,
      callback,
      event: 0,
    };
    this.#pending.set(handle, timer);
    this.#plan(handle, timer, local);
    return handle;
  }

  /** Cancels a timer. */
  cancelTimer(handle: TimerHandle): void {
    const timer = this.#pending.get(handle);
    if (!timer) return;
    this.#vt.cancel(timer.event);
    this.#pending.delete(handle);
  }

  /** Timers still pending. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  #plan(handle: TimerHandle, timer: PendingTimer, localLeft: number): void {
    const rate = this.#clock.rate();
    if (this.#pending.size === 1) this.#plannedRate = rate;
    const trueSeconds = Math.max(0, localLeft) / rate;
    timer.event = this.#vt.scheduleIn(BigInt(Math.ceil(trueSeconds * 1e9)), () => {
      this.#pending.delete(handle);
      timer.callback();
    });
  }

  #replan(): void {
    const rate = this.#clock.rate();
    // Rate changes below 1e-8 (wander) move a 1024-s timer by < 11 µs: not worth a re-plan.
    if (this.#pending.size === 0 || Math.abs(rate / this.#plannedRate - 1) < 1e-8) return;
    this.#plannedRate = rate;
    const now = this.#clock.monotonic();
    for (const [handle, timer] of this.#pending) {
      this.#vt.cancel(timer.event);
      this.#plan(handle, timer, timer.deadline - now);
    }
  }
}
