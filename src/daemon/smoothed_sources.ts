/**
 * Wiring of the RFC 8633 mix warning (core/smoothed_sources.ts): after every accepted sample
 * the engine's sources are checked, and a mix of smoothed and unsmoothed servers is logged
 * once per change.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { Engine } from "../core/engine/engine.ts";
import { SmoothedSourceWatch } from "../core/smoothed_sources.ts";

/** Chains the check onto `engine.onSampleAccepted` (keeping the hook already there). */
export function watchSmoothedSources(engine: Engine, log: LogPort): void {
  const watch = new SmoothedSourceWatch();
  const previous = engine.onSampleAccepted;
  engine.onSampleAccepted = (id) => {
    previous?.(id);
    const warning = watch.check(
      engine.sources().map((s) => ({
        address: s.address,
        refId: engine.ntpData(s.address)?.refId ?? 0,
        reachable: s.reachability !== 0,
        refclock: s.mode === "refclock",
      })),
    );
    if (warning !== null) log.log("warning", warning);
  };
}
