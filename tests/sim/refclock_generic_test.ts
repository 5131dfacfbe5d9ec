/**
 * chrony's test/simulation/106-refclock, first loop, in tempus's simulator: `refclock DRIVER
 * stratum 3 delay 1e-3 refid GPS` for chrony's SHM 0, PHC /dev/ptp0, PHC /dev/ptp0:nocrossts
 * and RTC /dev/rtc:utc, the device giving true time once a second, with 100 µs Gaussian jitter
 * (clknetsim's refclock with test.common's jitter; its RTC has none) on test.common's client clock (0.1 s off,
 * 100 ppm, wander 1e-9). chrony's checks, at its thresholds:
 *
 * - check_sync with min_sync_time 45 and max_sync_time 70 (test.common's offset and frequency
 *   limits); for the RTC, run as `chronyd -x` on a clock with no frequency error or wander, the
 *   clock is not touched and tracking's system time is 0.10000 s fast instead;
 * - check_source_selection (a source selected, never "no majority" / "no selectable");
 * - tracking at 70 s: reference ID GPS, stratum 4, root delay 0.001 s, update interval 16.x s;
 * - refclocks.log: 997-1001 raw sample lines and 61-63 filtered ones (leap N).
 *
 * The simulator has no device drivers: the samples go to the engine as the drivers hand them
 * over (Engine.refclockSample), so the four runs differ only in the parsed line (and the RTC's
 * clock control); what is checked is the engine's refclock path: filter, statistics, selection,
 * reference and reports. chrony's PHC delay and jitter (1 µs, 0.1 µs) are the driver's business
 * (its ten-reading bracket) and are not modelled here.
 */
import assert from "node:assert/strict";
import { NullClockDriver } from "../../src/clock/null.ts";
import { parseRefclockArgs } from "../../src/config/refclock_options.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { refIdFromAscii } from "../../src/ntp/packet.ts";
import type { TrackingReport } from "../../src/core/reports.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import {
  runScenario,
  type ScenarioContext,
  type SimEngineFactory,
} from "../../src/sim/scenario.ts";
import { SIM_CLOCK_PRECISION, tempusEngine } from "../../src/sim/tempus_engine.ts";

const S = 1_000_000_000n;

interface Seen {
  raw: number;
  filtered: number;
  tracking: TrackingReport | null;
  systemTime: number | null;
}

/** The refclock read once a second; its time is true time plus 100 µs Gaussian jitter. */
function device(line: string, seen: Seen, jitter: number) {
  return (ctx: ScenarioContext) => {
    const engine = ctx.engine;
    if (!(engine instanceof Engine)) throw new Error("the scenario runs tempus's Engine");
    const r = parseRefclockArgs(line.split(" "));
    if (!r.ok) throw new Error(r.error);
    const id = engine.addRefclock(r.refclock, r.refclock.refId ?? "REF0");
    engine.onRefclockSample = (s) => {
      if (s.refId !== "GPS" || s.leap !== 0) return;
      if (s.count === null) seen.filtered++;
      else seen.raw++;
    };
    const rnd = new SimRandom(11);
    const read = () => {
      const raw = engine.clock.rawNow();
      engine.refclockSample(id, raw, Number(ctx.vt.now - raw) / 1e9 + jitter * rnd.normal(), 0);
      ctx.vt.scheduleIn(S, read);
    };
    ctx.vt.scheduleIn(S, read);
  };
}

/** chronyd -x in the simulator: tempus's null driver over the simulated clock's reading. */
function noClockControl(holder: { driver: NullClockDriver | null }): SimEngineFactory {
  return (config, deps, drift) => {
    const sim = deps.driver;
    const driver = new NullClockDriver({
      timeSource: { realtime: () => sim.readRawTime(), monotonic: () => sim.readRawTime() },
    });
    holder.driver = driver;
    return new Engine(config, { ...deps, driver }, drift, {
      measurePrecision: () => SIM_CLOCK_PRECISION,
    });
  };
}

function run(driverLine: string) {
  const rtc = driverLine.startsWith("RTC");
  const line = `${driverLine} stratum 3 delay 1e-3 refid GPS`;
  const seen: Seen = { raw: 0, filtered: 0, tracking: null, systemTime: null };
  const holder: { driver: NullClockDriver | null } = { driver: null };
  const result = runScenario({
    name: `106-refclock ${driverLine}`,
    duration: 1000,
    servers: [],
    clock: rtc ? { freq: 0, wander: 0 } : {},
    actions: [
      // clknetsim's RTC is exact (its time follows the monotonic clock); the others jitter.
      { at: 0, run: device(line, seen, rtc ? 0 : 1e-4) },
      {
        // chronyc_start=70: tracking then.
        at: 70,
        run: (ctx) => {
          const engine = ctx.engine as Engine;
          seen.tracking = engine.tracking();
          // As the daemon reports it under -x (src/daemon/serve.ts): virtual + remaining.
          if (holder.driver !== null) {
            seen.systemTime = holder.driver.virtualOffsetSeconds() +
              engine.clock.remainingCorrection();
          }
        },
      },
    ],
    limits: { minSyncTime: 45, maxSyncTime: 70 },
  }, rtc ? noClockControl(holder) : tempusEngine);
  return { result, seen };
}

for (
  const driverLine of ["SHM 0", "PHC /dev/ptp0", "PHC /dev/ptp0:nocrossts", "RTC /dev/rtc:utc"]
) {
  Deno.test(`sim refclock (106-refclock): ${driverLine} stratum 3 delay 1e-3 refid GPS`, () => {
    const { result, seen } = run(driverLine);
    const m = result.metrics;
    if (driverLine.startsWith("RTC")) {
      // chrony: "System time *: 0\.10000.... seconds fast" (the clock is ahead by 0.1 s).
      const st = seen.systemTime ?? NaN;
      assert.ok(st <= -0.1 && st > -0.10001, `system time ${st}`);
      assert.equal(result.clockSteps, 0);
    } else {
      assert.ok(
        result.pass,
        `${
          result.failures.join("; ")
        } (sync ${m.syncTime}, rms ${m.rmsOffset}, max ${m.maxOffset})`,
      );
    }
    // check_source_selection.
    assert.ok(result.logCounts["Selected source"] >= 1);
    assert.equal(result.logCounts["no majority"] ?? 0, 0);
    assert.equal(result.logCounts["no selectable sources"] ?? 0, 0);
    const t = seen.tracking!;
    assert.equal(t.refId, refIdFromAscii("GPS"));
    assert.equal(t.stratum, 4);
    assert.ok(Math.abs(t.rootDelay - 0.001) < 1e-12, `root delay ${t.rootDelay}`);
    assert.ok(
      t.lastUpdateInterval >= 16 && t.lastUpdateInterval < 17,
      `update interval ${t.lastUpdateInterval}`,
    );
    // refclocks.log: "[0-9] N" 997-1001 lines, "- N" 61-63 lines.
    assert.ok(seen.raw >= 997 && seen.raw <= 1001, `${seen.raw} raw lines`);
    assert.ok(seen.filtered >= 61 && seen.filtered <= 63, `${seen.filtered} filtered lines`);
    console.log(
      `${driverLine}: sync ${m.syncTime} s, rms ${m.rmsOffset.toExponential(2)} s, max ` +
        `${m.maxOffset.toExponential(2)} s, raw ${seen.raw}, filtered ${seen.filtered}, ` +
        `update interval ${t.lastUpdateInterval.toFixed(2)} s` +
        (seen.systemTime === null ? "" : `, system time ${seen.systemTime.toFixed(7)} s`),
    );
  });
}
