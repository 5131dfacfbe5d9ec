/**
 * Runs a catalogued scenario with the error-bound publisher of the daemon emulated in
 * virtual time (a snapshot every second and right after each clock change, as
 * src/daemon/ops_services.ts does) and a reader that evaluates the latest snapshot at its
 * own clock reading, several times per simulated second at phases unrelated to the polls.
 * Every reading is checked against true time (UTC of the simulated servers).
 *
 * @module
 */
import { Engine } from "../../src/core/engine/engine.ts";
import {
  boundAt,
  dissentingSamples,
  type ErrorBoundSnapshot,
  errorBoundSnapshot,
  selectedSample,
  StepWatch,
} from "../../src/core/error_bound.ts";
import type { CatalogEntry } from "../../src/sim/catalog.ts";
import { runScenario, type ScenarioContext } from "../../src/sim/scenario.ts";
import { SIM_CLOCK_PRECISION } from "../../src/sim/tempus_engine.ts";

/** What one scenario showed. */
export interface BoundFigures {
  /** Scenario id. */
  id: string;
  /** Readings taken. */
  samples: number;
  /** Readings for which a bound was published (status synchronised). */
  bounded: number;
  /** Bounded readings whose interval did not contain true time. */
  violations: number;
  /** Smallest margin (maxError - |clock error|) over bounded readings, seconds. */
  minMargin: number;
  /** Median half-width of the interval, seconds. */
  medianMaxError: number;
  /** 99th percentile half-width, seconds. */
  p99MaxError: number;
  /** Median |clock error| over bounded readings, seconds. */
  medianError: number;
  /** First violation, for the message. */
  firstViolation: string | null;
}

const PUBLISH_NS = 1_000_000_000n;
/** Reader phases inside each second (not multiples of any poll interval). */
const READ_PHASES_NS = [137_000_000n, 611_000_000n, 953_000_000n];

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `entry` (a single-client scenario) and checks every reading. */
export function checkErrorBound(entry: CatalogEntry): BoundFigures {
  let engine: Engine | null = null;
  let snapshot: ErrorBoundSnapshot | null = null;
  let samples = 0, bounded = 0, violations = 0, minMargin = Infinity;
  let firstViolation: string | null = null;
  const widths: number[] = [];
  const errors: number[] = [];
  const spec = entry.spec;
  const config = { ...spec.config };
  const params = {
    maxClockErrorPpm: config.maxClockError ?? 1,
    precision: SIM_CLOCK_PRECISION,
    maxSlewRatePpm: config.maxSlewRate ?? 1e6 / 12,
  };

  const install = (ctx: ScenarioContext) => {
    const eng = engine!;
    const watch = new StepWatch();
    const mono = () => BigInt(Math.round(ctx.clock.monotonic() * 1e9));
    const publish = () => {
      const tracking = eng.tracking();
      const real = ctx.clock.readRawTime();
      const m = mono();
      const extra = watch.observe(real, m, tracking.refTime);
      const sources = eng.sources();
      snapshot = errorBoundSnapshot(
        tracking,
        selectedSample(sources),
        real,
        m,
        params,
        extra,
        dissentingSamples(sources, eng.selectData()),
      );
    };
    const periodic = () => {
      publish();
      ctx.vt.scheduleIn(PUBLISH_NS, periodic);
    };
    periodic();
    // The daemon republishes after a clock change once the update that caused it is done.
    eng.clock.addObserver((change) => {
      if (change.kind === "step") watch.ownStep(change.doffset);
      ctx.vt.scheduleIn(0n, publish);
    });
    const read = () => {
      samples++;
      const s = snapshot;
      const now = ctx.clock.readRawTime();
      const interval = s === null ? null : boundAt(s, now, mono());
      if (interval === null) return;
      bounded++;
      const ref = ctx.clock.referenceOffset?.(ctx.seconds()) ?? 0;
      const trueNs = ctx.vt.now + BigInt(Math.round(ref * 1e9));
      const error = Number(now - trueNs) / 1e9;
      const margin = interval.maxError - Math.abs(error);
      widths.push(interval.maxError);
      errors.push(Math.abs(error));
      if (margin < minMargin) minMargin = margin;
      if (trueNs < interval.earliest || trueNs > interval.latest) {
        violations++;
        firstViolation ??= `t=${ctx.seconds().toFixed(3)} s: clock error ${error} s, ` +
          `bound ${interval.maxError} s`;
      }
    };
    for (const phase of READ_PHASES_NS) {
      const loop = () => {
        read();
        ctx.vt.scheduleIn(PUBLISH_NS, loop);
      };
      ctx.vt.scheduleIn(phase, loop);
    }
  };

  runScenario(
    { ...spec, actions: [...(spec.actions ?? []), { at: 0, run: install }] },
    (cfg, deps, drift) => {
      engine = new Engine(cfg, deps, drift, { measurePrecision: () => SIM_CLOCK_PRECISION });
      return engine;
    },
  );
  widths.sort((a, b) => a - b);
  errors.sort((a, b) => a - b);
  return {
    id: entry.id,
    samples,
    bounded,
    violations,
    minMargin,
    medianMaxError: quantile(widths, 0.5),
    p99MaxError: quantile(widths, 0.99),
    medianError: quantile(errors, 0.5),
    firstViolation,
  };
}
