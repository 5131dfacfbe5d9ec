/**
 * What every new source is built with: its statistics over the configured sample bounds
 * (the source's own `minsamples`/`maxsamples` or the global ones), and the selector's
 * settings taken from the configuration.
 *
 * @module
 */
import type { Config } from "../../config/model.ts";
import { SourceSelector } from "../select/mod.ts";
import { SourceStats } from "../sourcestats.ts";

/** A source's own sample options (absent or null: the global setting). */
export interface SampleBounds {
  /** `minsamples`, or null/absent for the global setting. */
  readonly minSamples?: number | null;
  /** `maxsamples`, or null/absent for the global setting. */
  readonly maxSamples?: number | null;
  /** `asymmetry`, or null/absent for none. */
  readonly asymmetry?: number | null;
  /** `mindelay`, or null/absent for none. */
  readonly minDelay?: number | null;
  /** `delaygate`: the statistics are tuned for gated samples (SourceStatsOptions). */
  readonly delayGate?: boolean;
}

/** Fresh statistics for a source with `bounds`, on a clock of `precision` seconds. */
export function newSourceStats(
  config: Config,
  precision: number,
  bounds: SampleBounds,
): SourceStats {
  return new SourceStats({
    minSamples: bounds.minSamples ?? config.minSamples,
    maxSamples: bounds.maxSamples ?? config.maxSamples,
    asymmetry: bounds.asymmetry ?? null,
    precision,
    maxClockError: config.maxClockError,
    minDelay: bounds.minDelay ?? null,
    maxJitter: config.maxJitter,
    delayGated: bounds.delayGate === true,
  });
}

/** The selector for `config` (chrony's selection directives); `localRefId` for test D. */
export function newSelector(config: Config, localRefId: number | undefined): SourceSelector {
  return new SourceSelector({
    maxDistance: config.maxDistance,
    maxJitter: config.maxJitter,
    minSources: config.minSources,
    reselectDist: config.reselectDist,
    stratumWeight: config.stratumWeight,
    combineLimit: config.combineLimit,
    maxClockError: config.maxClockError,
    maxStratum: config.maxStratum,
    orphanStratum: config.local?.orphan ? config.local.stratum : null,
    localRefId,
  });
}
