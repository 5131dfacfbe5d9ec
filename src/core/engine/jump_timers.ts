/**
 * Timers that watch for outside steps of the clock (chrony's sched.c): each callback checks
 * that the clock moved by about the timer's delay, logs a jump when it did not, and never
 * lets an exception out of the event loop.
 *
 * @module
 */
import type { LocalClock } from "../local_clock.ts";
import type { LogPort, TimerPort } from "../../base/ports.ts";

/** `base` with jump detection against `clock`. */
export function jumpWatchingTimers(base: TimerPort, clock: LocalClock, log: LogPort): TimerPort {
  return {
    setTimer: (delay, callback) => {
      const stamp = clock.jumpStamp();
      return base.setTimer(delay, () => {
        const jump = clock.checkForJump(stamp, delay);
        if (jump !== null) {
          log.log("warning", `${jump > 0 ? "Forward" : "Backward"} time jump detected!`);
        }
        try {
          callback();
        } catch (e) {
          log.log("error", `Timer failed: ${String(e)}`);
        }
      });
    },
    cancelTimer: (handle) => base.cancelTimer(handle),
  };
}
