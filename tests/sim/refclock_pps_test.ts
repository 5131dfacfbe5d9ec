/**
 * chrony's test/simulation/106-refclock, PPS part, in tempus's simulator: an NMEA-like SHM
 * refclock whose samples are 0.35 s late with 50 ms jitter, and a PPS refclock whose edges
 * are true to 1 µs, on a clock starting 0.1 s off with 100 ppm of frequency error.
 *
 * - `refclock SHM 0 refid NMEA noselect` + `refclock PPS /dev/pps0 lock NMEA`: the pulses take
 *   their seconds from NMEA; chrony expects PPS1 selected, stratum 1, 610-740 raw PPS lines
 *   of 1000 (pulses whose lock disagrees by more than 0.4 s with dispersion are dropped).
 * - `refclock SHM 0 refid NMEA offset 0.35 delay 0.1` + `refclock PPS /dev/pps0` (no lock):
 *   the clock first follows NMEA; once it is good to 0.5 s the pulses count and PPS1 takes
 *   over, stratum 1 (chrony: sync within 80-260 s, 800-960 raw and 50-63 filtered PPS lines);
 *   the same with PPS configured first (refid PPS0; chrony: sync within 80-180 s).
 * - `refclock SHM 0 noselect` + `refclock PPS /dev/pps0` + `local`: the unlocked pulses take
 *   their seconds from the local reference; PPS1 is selected at the local stratum, 10, and
 *   every pulse counts (chrony: 997-1001 of 1000).
 * - Without a lock and never synchronised, no pulse is ever accepted.
 */
import assert from "node:assert/strict";
import { parseRefclockArgs } from "../../src/config/refclock_options.ts";
import { DEFAULT_LOCAL } from "../../src/config/defaults.ts";
import type { Config } from "../../src/config/model.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { runScenario, type ScenarioContext } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";
import { refIdFromAscii } from "../../src/ntp/packet.ts";

const S = 1_000_000_000n;

interface Feeds {
  nmea: number;
  pps: number;
  tracking: { refId: number; stratum: number; rootDelay: number } | null;
  ppsAccepted?: number;
  /** Filtered PPS samples (refclocks.log "- N" lines). */
  ppsFiltered?: number;
  /** Add the PPS refclock first (chrony's refid then PPS0). */
  ppsFirst?: boolean;
}

/** Adds the two refclocks and feeds them: NMEA at each half second, PPS at each second. */
function nmeaAndPps(nmeaLine: string, ppsLine: string, feeds: Feeds) {
  return (ctx: ScenarioContext) => {
    const engine = ctx.engine;
    if (!(engine instanceof Engine)) throw new Error("the scenario runs tempus's Engine");
    const add = (line: string, refId: string) => {
      const r = parseRefclockArgs(line.split(" "));
      if (!r.ok) throw new Error(r.error);
      return engine.addRefclock(r.refclock, r.refclock.refId ?? refId);
    };
    let nmea: number, pps: number;
    if (feeds.ppsFirst) {
      pps = add(ppsLine, "PPS0");
      nmea = add(nmeaLine, "SHM1");
    } else {
      nmea = add(nmeaLine, "SHM0");
      pps = add(ppsLine, "PPS1");
    }
    const ppsRefId = feeds.ppsFirst ? "PPS0" : "PPS1";
    engine.onRefclockSample = (r) => {
      if (r.refId === ppsRefId && r.count === null) {
        feeds.ppsFiltered = (feeds.ppsFiltered ?? 0) + 1;
      }
    };
    const rnd = new SimRandom(7);
    const nmeaTick = () => {
      const raw = ctx.clock.readRawTime();
      const offset = Number(ctx.vt.now - raw) / 1e9 - 0.35 + 0.05 * rnd.normal();
      engine.refclockSample(nmea, raw, offset, 0);
      feeds.nmea++;
      ctx.vt.scheduleIn(S, nmeaTick);
    };
    const ppsTick = () => {
      // At the true second the local clock reads `second` past it (or before it, negative).
      const raw = ctx.clock.readRawTime();
      const second = Number(raw - ctx.vt.now) / 1e9 + 1e-6 * rnd.normal();
      engine.refclockPulse(pps, raw, second);
      feeds.pps++;
      ctx.vt.scheduleIn(S, ppsTick);
    };
    const toSecond = S - ctx.vt.now % S;
    ctx.vt.scheduleIn(toSecond + S / 2n, nmeaTick);
    ctx.vt.scheduleIn(toSecond, ppsTick);
  };
}

function run(
  nmea: string,
  pps: string,
  duration: number,
  maxSyncTime: number,
  config: Partial<Config> = {},
  opts: { minSyncTime?: number; ppsFirst?: boolean } = {},
) {
  const feeds: Feeds = { nmea: 0, pps: 0, tracking: null, ppsFirst: opts.ppsFirst };
  const ppsRefId = opts.ppsFirst ? "PPS0" : "PPS1";
  const result = runScenario({
    name: "refclock pps",
    duration,
    servers: [],
    config: { maxUpdateSkew: 10000, ...config },
    actions: [
      { at: 0, run: nmeaAndPps(nmea, pps, feeds) },
      {
        at: duration - 1,
        run: (ctx) => {
          const engine = ctx.engine as Engine;
          const t = engine.tracking();
          feeds.tracking = { refId: t.refId, stratum: t.stratum, rootDelay: t.rootDelay };
          feeds.ppsAccepted = engine.source(pulses(engine, ppsRefId)!.id)!.counters.validRx;
        },
      },
    ],
    limits: { minSyncTime: opts.minSyncTime ?? 1, maxSyncTime },
  }, tempusEngine);
  const lines = (re: RegExp) => result.log.filter((l) => re.test(l.message)).length;
  return { result, feeds, lines };
}

function pulses(engine: Engine, refId: string) {
  return engine.sources().find((s) => s.address === refId);
}

Deno.test("sim refclock (106-refclock): PPS locked to a late, noisy NMEA is selected, stratum 1", () => {
  const { result, feeds } = run(
    "SHM 0 refid NMEA noselect",
    "PPS /dev/pps0 refid PPS1 lock NMEA",
    1000,
    200,
  );
  const m = result.metrics;
  assert.ok(result.pass, `${result.failures.join("; ")} (rms ${m.rmsOffset}, max ${m.maxOffset})`);
  assert.equal(feeds.tracking?.refId, refIdFromAscii("PPS1"));
  assert.equal(feeds.tracking?.stratum, 1);
  assert.ok(m.rmsOffset < 1e-4, `rms ${m.rmsOffset}`);
  // chrony: 610-740 raw PPS lines of 1000 (tempus, seed 1: 659).
  const n = feeds.ppsAccepted ?? 0;
  assert.ok(n >= 610 && n <= 740, `${n} pulses accepted of ${feeds.pps}`);
  // chrony: 60-63 filtered PPS lines.
  const f = feeds.ppsFiltered ?? 0;
  assert.ok(f >= 60 && f <= 63, `${f} filtered PPS samples`);
});

for (const ppsFirst of [false, true]) {
  const refId = ppsFirst ? "PPS0" : "PPS1";
  // chrony: sync within 80-260 s (80-180 s with PPS first), PPS selected at stratum 1 with root
  // delay 1e-9, 800-960 raw and 50-63 filtered PPS lines (tempus, seed 1: sync 114 s, 936, 58).
  Deno.test(
    `sim refclock (106-refclock): unlocked PPS takes over from NMEA once the clock is good${
      ppsFirst ? " (PPS configured first: PPS0)" : ""
    }`,
    () => {
      const { result, feeds } = run(
        "SHM 0 refid NMEA offset 0.35 delay 0.1",
        "PPS /dev/pps0",
        1000,
        ppsFirst ? 180 : 260,
        {},
        { minSyncTime: 80, ppsFirst },
      );
      const m = result.metrics;
      assert.ok(
        result.pass,
        `${
          result.failures.join("; ")
        } (sync ${m.syncTime}, rms ${m.rmsOffset}, max ${m.maxOffset})`,
      );
      assert.equal(feeds.tracking?.refId, refIdFromAscii(refId));
      assert.equal(feeds.tracking?.stratum, 1);
      assert.ok(Math.abs((feeds.tracking?.rootDelay ?? 0) - 1e-9) < 1e-15);
      const n = feeds.ppsAccepted ?? 0;
      assert.ok(n >= 800 && n <= 960, `${n} pulses accepted of ${feeds.pps}`);
      const f = feeds.ppsFiltered ?? 0;
      assert.ok(f >= 50 && f <= 63, `${f} filtered PPS samples`);
    },
  );
}

Deno.test("sim refclock (106-refclock): unlocked PPS on the local reference: stratum 10", () => {
  const { result, feeds } = run(
    "SHM 0 refid NMEA noselect",
    "PPS /dev/pps0 refid PPS1",
    1000,
    300,
    { local: { ...DEFAULT_LOCAL } },
  );
  const m = result.metrics;
  assert.ok(result.pass, `${result.failures.join("; ")} (rms ${m.rmsOffset}, max ${m.maxOffset})`);
  assert.equal(feeds.tracking?.refId, refIdFromAscii("PPS1"));
  assert.equal(feeds.tracking?.stratum, 10);
  // chrony: 997-1001 raw PPS lines of 1000 (every pulse counts on the local reference).
  const n = feeds.ppsAccepted ?? 0;
  assert.ok(n >= 990 && n <= 1001, `${n} pulses accepted of ${feeds.pps}`);
  const f = feeds.ppsFiltered ?? 0;
  assert.ok(f >= 60 && f <= 63, `${f} filtered PPS samples (chrony: 60-63)`);
});

Deno.test("sim refclock: unlocked pulses on a clock that never synchronises are all dropped", () => {
  let engine: Engine | null = null;
  const feeds: Feeds = { nmea: 0, pps: 0, tracking: null };
  runScenario({
    name: "refclock pps alone",
    duration: 300,
    servers: [],
    actions: [
      { at: 0, run: nmeaAndPps("SHM 0 refid NMEA noselect", "PPS /dev/pps0 refid PPS1", feeds) },
      { at: 299, run: (ctx) => void (engine = ctx.engine as Engine) },
    ],
  }, tempusEngine);
  assert.ok(feeds.pps >= 290);
  const row = pulses(engine!, "PPS1")!;
  assert.equal(row.reachability, 0, "pulses without seconds do not reach it (chrony)");
  assert.notEqual(row.state, "selected");
  assert.equal(engine!.source(row.id)!.counters.validRx, 0);
});
