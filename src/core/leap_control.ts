/**
 * Leap seconds of the reference (chrony reference.c): the announced leap status, arming and
 * disarming the leap at the end of the UTC day in the configured leapsecmode (system: the
 * kernel; step or slew: the local clock; ignore), re-arming after a step, and the window
 * around a leap in which samples are dropped.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import { isCloseToLeap, LEAP_SECOND_CLOSE, leapInstant } from "./leap.ts";
import type { ReferenceDeps } from "./reference_types.ts";
import type { TimerHandle } from "../base/ports.ts";
import type { LeapStatus } from "./reports.ts";
import type { Instant } from "../base/time.ts";

/** What leap handling needs. */
export interface LeapControlDeps extends ReferenceDeps {
  /** leapsecmode. */
  mode: Config["leapSecMode"];
  /** True while the reference is synchronised (the status after a leap). */
  synchronised: () => boolean;
}

/** The leap status announced and the leap second armed for it. */
export class LeapControl {
  /** The leap status we announce (3: unsynchronised). */
  status: LeapStatus = 3;
  readonly #deps: LeapControlDeps;
  #timer: TimerHandle | null = null;
  #at: Instant | null = null;

  /** Leap handling over `deps`. */
  constructor(deps: LeapControlDeps) {
    this.#deps = deps;
  }

  /** True when samples taken at `t` must be dropped because a leap second is close. */
  isClose(t: Instant): boolean {
    return this.#at !== null && isCloseToLeap(t, this.#at);
  }

  /** Announces `leap` from now on, arming or disarming the leap second as it changes. */
  update(leap: LeapStatus, now: Instant): void {
    const pending = leap === 1 || leap === 2;
    const wasPending = this.status === 1 || this.status === 2;
    if (pending && (!wasPending || leap !== this.status)) {
      this.#arm(leap, now);
    } else if (!pending && wasPending) {
      this.#disarm();
    }
    this.status = leap;
  }

  /** After a step of the clock: re-arms a pending leap so it still falls at midnight. */
  afterStep(now: Instant): void {
    if (this.#timer !== null && (this.status === 1 || this.status === 2)) {
      this.#arm(this.status, now);
    }
  }

  /** Cancels the leap timer (shutdown). */
  stop(): void {
    if (this.#timer !== null) this.#deps.timers.cancelTimer(this.#timer);
    this.#timer = null;
  }

  /** leapsecmode, with system falling back to step when the driver cannot do it (-x). */
  #mode(): Config["leapSecMode"] {
    const mode = this.#deps.mode;
    return mode === "system" && this.#deps.driver.canSystemLeap === false ? "step" : mode;
  }

  #arm(leap: LeapStatus, now: Instant): void {
    this.#disarm();
    const { driver, clock, timers, log } = this.#deps;
    const mode = this.#mode();
    const at = leapInstant(leap, now);
    this.#at = at;
    if (mode === "ignore") return;
    if (mode === "system") driver.setLeap(leap === 1 ? "insert" : "delete");
    log.log("info", `Leap second ${leap === 1 ? "insertion" : "deletion"} scheduled`);
    // In system mode the kernel inserts the second itself; the flag is cleared a few
    // seconds later, so that it cannot be disarmed just before the kernel acts.
    const settle = mode === "system" ? LEAP_SECOND_CLOSE : 0;
    const delay = Math.max(0, Number(at - now) / 1e9 + settle);
    const shift = leap === 1 ? -1 : 1;
    this.#timer = timers.setTimer(delay, () => {
      this.#timer = null;
      if (mode === "system") {
        clock.applyLeap(shift, "kernel");
        driver.setLeap("none");
      } else {
        clock.applyLeap(shift, mode === "step" ? "step" : "slew");
      }
      log.log("warning", `Leap second ${leap === 1 ? "inserted" : "deleted"}`);
      if (this.status === 1 || this.status === 2) {
        this.status = this.#deps.synchronised() ? 0 : 3;
      }
      // Keep #at so samples right after the leap are still dropped.
    });
  }

  #disarm(): void {
    if (this.#timer !== null) {
      this.#deps.timers.cancelTimer(this.#timer);
      this.#timer = null;
      // Once the leap moment has passed the kernel has done (or is doing) the leap and
      // clears its flag itself; only a leap cancelled before midnight is disarmed.
      const before = this.#at === null || this.#deps.clock.cookedNow() < this.#at;
      if (this.#mode() === "system" && before) this.#deps.driver.setLeap("none");
    }
    this.#at = null;
  }
}
