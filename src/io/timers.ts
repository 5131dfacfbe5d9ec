/**
 * Real timers for the engine: `TimerPort` over setTimeout. Delays are in seconds of the
 * system clock; the engine never assumes they are exact.
 *
 * @module
 */
import type { TimerHandle, TimerPort } from "../base/ports.ts";

/** The longest delay setTimeout accepts (about 24.8 days), in milliseconds. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `TimerPort` backed by the runtime's timers. Long delays are chained. */
export class RealTimers implements TimerPort {
  #next = 1;
  readonly #pending = new Map<TimerHandle, ReturnType<typeof setTimeout>>();

  /** Calls `callback` once after `delaySeconds`. */
  setTimer(delaySeconds: number, callback: () => void): TimerHandle {
    const handle = this.#next++;
    const dueAt = performance.now() + Math.max(0, delaySeconds) * 1000;
    const arm = () => {
      const remaining = dueAt - performance.now();
      if (remaining > 0.5 && remaining > MAX_TIMEOUT_MS) {
        this.#pending.set(handle, setTimeout(arm, MAX_TIMEOUT_MS));
        return;
      }
      this.#pending.set(
        handle,
        setTimeout(() => {
          this.#pending.delete(handle);
          callback();
        }, Math.max(0, remaining)),
      );
    };
    arm();
    return handle;
  }

  /** Cancels a pending timer; unknown handles are ignored. */
  cancelTimer(handle: TimerHandle): void {
    const id = this.#pending.get(handle);
    if (id !== undefined) {
      clearTimeout(id);
      this.#pending.delete(handle);
    }
  }

  /** Cancels every pending timer (shutdown). */
  cancelAll(): void {
    for (const id of this.#pending.values()) clearTimeout(id);
    this.#pending.clear();
  }

  /** Number of timers pending (for tests and leak checks). */
  get pendingCount(): number {
    return this.#pending.size;
  }
}
