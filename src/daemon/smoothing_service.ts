/**
 * The daemon's `smoothtime`: a Smoother (core/smoothing.ts) following the engine's clock
 * changes, told the leap status and skew once a second, and applied to what the NTP server
 * serves (time, and with `leapsecmode slew` the leap indicator, which a smoothing server
 * suppresses as chronyd does).
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { ControlResult } from "../core/control.ts";
import type { TrackingReport } from "../core/reports.ts";
import { smoothedReference, Smoother, type SmoothingReport } from "../core/smoothing.ts";
import type { Instant } from "../base/time.ts";
import type { ClockChangeEvent, ReferenceState } from "../core/types.ts";

/** What the daemon uses. */
export interface SmoothingService {
  /** Served time for an NTP clock reading. */
  serve(now: Instant): Instant;
  /** The reference state to serve (leap indicator suppressed in leaponly mode). */
  reference(state: ReferenceState): ReferenceState;
  /** chronyc `smoothing`. */
  report(): SmoothingReport;
  /** chronyc `smoothtime reset|activate`. */
  smoothTime(action: "reset" | "activate"): ControlResult;
  /** Stops the timer. */
  close(): void;
}

/** Starts smoothing when `smoothtime` is configured; null otherwise. */
export function startSmoothing(
  config: Config,
  engine: {
    clock: { cookedNow(): Instant; addObserver(fn: (c: ClockChangeEvent) => void): void };
    tracking(): TrackingReport;
  },
): SmoothingService | null {
  if (!config.smoothTime) return null;
  const smoother = new Smoother(config.smoothTime);
  engine.clock.addObserver((change) => smoother.applyClockChange(change));
  const tick = () => {
    const now = engine.clock.cookedNow();
    const t = engine.tracking();
    smoother.observeLeap(now, t.leapStatus);
    smoother.updateSkew(now, t.skewPpm);
  };
  tick();
  const timer = setInterval(tick, 1000);
  return {
    serve: (now) => smoother.serve(now),
    // chrony (ntp_core.c): with smoothing and `leapsecmode slew` the leap second is not
    // announced (leaponly or not), since the smoothing absorbs it (otherwise clients would
    // correct it a second time); while smoothing, reference ID 127.127.1.255.
    reference: (state) =>
      smoothedReference(
        state,
        smoother.offsetAt(engine.clock.cookedNow()),
        config.leapSecMode === "slew",
      ),
    report: () => smoother.report(engine.clock.cookedNow()),
    smoothTime: (action) => {
      const now = engine.clock.cookedNow();
      if (action === "activate") smoother.activate(now);
      else smoother.reset(now);
      return { ok: true };
    },
    close: () => clearInterval(timer),
  };
}
