/**
 * The error bound the daemon publishes for applications (Google's TrueTime, AWS ClockBound):
 * how far the system clock can be from true time, and how fast that bound grows while no new
 * snapshot is published. Pure policy: the daemon computes a snapshot from the tracking report
 * and publishes it (io/error_bound_file.ts); a reader evaluates it at its own clock reading.
 *
 * The bound, at the instant `asOf` (a reading of the system clock):
 *
 *   maxError = rootDelay / 2 + rootDispersion(asOf) + |systemTimeOffset| + precision
 *
 * - `rootDelay / 2 + rootDispersion` is the root distance: the error of the engine's estimate
 *   of true time, up to the primary reference (the report's dispersion already grew with the
 *   age of the last update at `skew + |residual| + maxclockerror`);
 * - `|systemTimeOffset|` is the correction the system clock has still to slew (with `-x`, the
 *   whole virtual correction): the system clock reads the estimate minus that much;
 * - `precision` covers the reading of the clock itself.
 *
 * Later, the bound grows at `growthRate` per second of the system clock: the same dispersion
 * rate, enlarged by the most the system clock's seconds can differ from true seconds. A slew
 * only moves the clock towards the estimate, so the bound stays valid until the next snapshot;
 * a step makes the daemon publish a new snapshot at once.
 *
 * @module
 */
import type { LeapStatus, SelectDataReport, SourceReport, TrackingReport } from "./reports.ts";
import { LOCAL_REFERENCE_ID, MANUAL_REFERENCE_ID } from "./reference_report.ts";
import type { Instant } from "../base/time.ts";

/**
 * What a snapshot promises: `synchronised`: true time is within the bound; `unsynchronised`:
 * nothing is known (never synchronised, lost, or serving a local or manual reference), the
 * bound is infinite.
 */
export type ErrorBoundStatus = "synchronised" | "unsynchronised";

/** One published snapshot of the error bound. */
export interface ErrorBoundSnapshot {
  /** System clock reading (Unix ns) at which `maxError` holds. */
  asOf: Instant;
  /**
   * CLOCK_MONOTONIC at the same moment, ns: it runs at the system clock's rate but is never
   * stepped, so a reader sees any step made since (by anyone) as a change of the difference.
   */
  asOfMonotonic: bigint;
  /** Maximum error of the system clock at `asOf`, seconds (Infinity when unsynchronised). */
  maxError: number;
  /** Growth of the bound per second of the system clock after `asOf` (fraction). */
  growthRate: number;
  /** Whether the bound holds. */
  status: ErrorBoundStatus;
  /** Leap status announced by the reference (1 insert, 2 delete pending at midnight UTC). */
  leap: LeapStatus;
}

/** The configuration the bound depends on. */
export interface ErrorBoundParams {
  /** maxclockerror, ppm: the oscillator's frequency instability assumed between updates. */
  maxClockErrorPpm: number;
  /** Precision of reading the clock, seconds. */
  precision: number;
  /** maxslewrate, ppm: how much faster or slower than true the clock may run while slewing. */
  maxSlewRatePpm: number;
  /**
   * The oscillator's frequency error assumed between updates for the bound, ppm, when larger
   * than maxclockerror (default ERROR_BOUND_DRIFT_PPM).
   */
  driftPpm?: number;
}

/**
 * The frequency instability assumed for the bound unless maxclockerror is larger: AWS
 * ClockBound's default maximum drift rate (15 ppm). chrony's maxclockerror (1 ppm) suits the
 * regression's weighting, not a guarantee: temperature swings and wander exceed it (the
 * simulator's 007, P6 scenarios).
 */
export const ERROR_BOUND_DRIFT_PPM = 15;

/** How long a reader trusts a snapshot (the daemon publishes every second). */
export const ERROR_BOUND_MAX_AGE_SECONDS = 10;

/**
 * The last sample of the selected source, as the `sources` report gives it: the bound rests
 * on this one measurement (strict, given an honest server) rather than on the regression's
 * estimate, which lags after a frequency change.
 */
export interface BoundSample {
  /** Offset of the sample, adjusted for clock changes since (reference minus local), s. */
  offset: number;
  /** Its error bound: root delay / 2 + root dispersion (delay included), s. */
  error: number;
  /** Seconds since the sample. */
  age: number;
}

/**
 * The snapshot for a tracking report and the selected source's last sample, taken when the
 * system clock read `asOf` (CLOCK_REALTIME) and `asOfMonotonic`. `extra` seconds are added
 * (steps not yet followed by an update, see StepWatch). `dissent` are the last samples of
 * sources the configuration vouches for that the selection rejected (see
 * {@link dissentingSamples}): the bound is widened to cover each of them too.
 *
 * maxError = |sample offset + systemTimeOffset| + sample error + age * rate + precision:
 * at the sample, true time was within `error` of the cooked clock plus `offset`; the cooked
 * clock has since drifted at most `rate` per second; the system clock reads the cooked clock
 * minus the correction still being slewed (`systemTimeOffset`). With dissenting samples, the
 * first three terms are the largest over the selected sample and each of them.
 */
export function errorBoundSnapshot(
  tracking: TrackingReport,
  sample: BoundSample | null,
  asOf: Instant,
  asOfMonotonic: bigint,
  params: ErrorBoundParams,
  extra = 0,
  dissent: readonly BoundSample[] = [],
): ErrorBoundSnapshot {
  const drift = Math.max(params.maxClockErrorPpm, params.driftPpm ?? ERROR_BOUND_DRIFT_PPM);
  const dispersionRate = (tracking.skewPpm + Math.abs(tracking.residualFreqPpm) + drift) * 1e-6;
  // The system clock's seconds differ from true seconds by at most its frequency correction
  // plus the slew rate plus the oscillator's own error (bounded by the dispersion rate).
  const rateFactor = 1 + (Math.abs(tracking.freqPpm) + params.maxSlewRatePpm) * 1e-6 +
    dispersionRate;
  const growthRate = dispersionRate * rateFactor;
  const trusted = sample !== null && tracking.synchronised && tracking.refTime !== 0n &&
    tracking.refId !== LOCAL_REFERENCE_ID && tracking.refId !== MANUAL_REFERENCE_ID &&
    tracking.leapStatus !== 3;
  const reach = (s: BoundSample) =>
    Math.abs(s.offset + tracking.systemTimeOffset) + s.error + Math.max(0, s.age) * growthRate;
  const parts = sample === null
    ? []
    : [Math.max(reach(sample), ...dissent.map(reach)), params.precision, extra];
  const ok = trusted && parts.every(Number.isFinite);
  return {
    asOf,
    asOfMonotonic,
    maxError: ok ? parts.reduce((a, b) => a + b, 0) : Infinity,
    growthRate,
    status: ok ? "synchronised" : "unsynchronised",
    leap: ok ? tracking.leapStatus : 3,
  };
}

/** The selected source's last sample from the `sources` report, or null. */
export function selectedSample(sources: SourceReport[]): BoundSample | null {
  const s = sources.find((r) => r.state === "selected");
  if (s === undefined || s.sinceSample === null) return null;
  return { offset: s.latestOffset, error: s.latestError, age: s.sinceSample };
}

/** selectdata's option bits of the sources the configuration vouches for: prefer, trust. */
const VOUCHED_OPTIONS = 2 | 4;

/**
 * The last samples of the sources configured `prefer` or `trust` that the selection marks as
 * falsetickers. The published bound rests on the selected source being truthful within its
 * root distance, which holds when the majority of the sources is truthful; when a source the
 * operator vouches for disagrees with that majority, either may be the liar (chrony's
 * 120-selectoptions: two of three servers agree on a wrong time and outvote the preferred,
 * truthful one), so the bound must cover both. Ordinary falsetickers do not widen it: the
 * majority is what the bound assumes, as the selection does.
 */
export function dissentingSamples(
  sources: readonly SourceReport[],
  selectData: readonly SelectDataReport[],
): BoundSample[] {
  const vouched = new Set(
    selectData.filter((d) => (d.configuredOptions & VOUCHED_OPTIONS) !== 0).map((d) => d.id),
  );
  const out: BoundSample[] = [];
  for (const s of sources) {
    if (s.state !== "falseticker" || !vouched.has(s.id) || s.sinceSample === null) continue;
    out.push({ offset: s.latestOffset, error: s.latestError, age: s.sinceSample });
  }
  return out;
}

/** `earliest ≤ true time ≤ latest` for a system clock reading `now`. */
export interface TimeInterval {
  /** Earliest true time, Unix ns (rounded down). */
  earliest: Instant;
  /** Latest true time, Unix ns (rounded up). */
  latest: Instant;
  /** Half-width of the interval, seconds. */
  maxError: number;
}

/**
 * Evaluates a snapshot at the system clock reading `now` (with CLOCK_MONOTONIC `monotonic`
 * read beside it): null when the snapshot promises nothing (unsynchronised) or is older than
 * `maxAge` seconds. A step of the clock since the snapshot (any change of realtime minus
 * monotonic) widens the bound by its size, so the bound survives steps the publisher has not
 * yet seen.
 */
export function boundAt(
  snapshot: ErrorBoundSnapshot,
  now: Instant,
  monotonic: bigint,
  maxAge = ERROR_BOUND_MAX_AGE_SECONDS,
): TimeInterval | null {
  if (snapshot.status !== "synchronised" || !Number.isFinite(snapshot.maxError)) return null;
  const age = Number(monotonic - snapshot.asOfMonotonic) / 1e9;
  if (age < 0 || age > maxAge) return null;
  const stepped = Number((now - monotonic) - (snapshot.asOf - snapshot.asOfMonotonic)) / 1e9;
  const maxError = snapshot.maxError + age * snapshot.growthRate + Math.abs(stepped);
  const errNs = BigInt(Math.ceil(maxError * 1e9));
  return { earliest: now - errNs, latest: now + errNs, maxError };
}

/**
 * The publisher's memory of steps it did not make: the system clock's distance from the
 * engine's estimate is unknown after an outside step until the engine has updated again, so
 * every such step is added to the bound until then. Steps the engine makes itself are
 * announced through `ownStep` and are not counted.
 */
export class StepWatch {
  #offset: bigint | null = null;
  #own = 0;
  #slack = 0;
  #slackRefTime: Instant | null = null;
  /** Steps smaller than this (seconds) are reading noise of the two clocks. */
  readonly tolerance: number;

  /** `tolerance`: how far realtime minus monotonic may wander between two readings. */
  constructor(tolerance = 1e-5) {
    this.tolerance = tolerance;
  }

  /** The engine stepped the clock by `seconds` (ClockChangeEvent kind "step"). */
  ownStep(seconds: number): void {
    this.#own += seconds;
  }

  /**
   * Observes the two clocks (ns) before a publication and returns the extra seconds to add to
   * the bound; `refTime` is the tracking report's reference time.
   */
  observe(realtime: Instant, monotonic: bigint, refTime: Instant): number {
    const offset = realtime - monotonic;
    if (this.#offset !== null) {
      const external = Number(offset - this.#offset) / 1e9 - this.#own;
      if (Math.abs(external) > this.tolerance) {
        this.#slack += Math.abs(external);
        this.#slackRefTime = refTime;
      }
    }
    this.#offset = offset;
    this.#own = 0;
    if (this.#slackRefTime !== null && refTime !== this.#slackRefTime) {
      this.#slack = 0;
      this.#slackRefTime = null;
    }
    return this.#slack;
  }
}
