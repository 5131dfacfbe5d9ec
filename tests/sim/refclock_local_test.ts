/**
 * chrony's test/simulation/106-refclock, `local` part, in tempus's simulator: a PHC that is
 * 0.399 s off and runs 1000 ppm slow but is stable (1 µs reading jitter) is configured as
 * `refclock PHC /dev/ptp0 local poll 2`; the system clock's frequency swings ±100 ppm over
 * 1000 s (clknetsim's `(* 1e-4 (sine 1000))`); one NTP server (`minpoll 4 maxpoll 4 filter 5
 * minsamples 64`) is reachable for the first 5000 s and lost after. The local refclock is
 * never the reference (chrony: no PHC0 line in tracking.log), logs every reading (9999-10001
 * raw, 2499-2501 filtered lines, all unsynchronised `?`) and holds the clock within
 * chrony's limits for that run: sync within 5000 s, then 1 ms max / 0.5 ms RMS offset and
 * 20 ppm max / 5 ppm RMS frequency error - also through the 5000 s without the server.
 * The same run without `local` must fail those limits.
 */
import assert from "node:assert/strict";
import { parseRefclockArgs } from "../../src/config/refclock_options.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { refIdFromAscii } from "../../src/ntp/packet.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { runScenario, type ScenarioContext } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";

const S = 1_000_000_000n;

interface Counts {
  raw: number;
  rawUnsynchronised: number;
  filtered: number;
  filteredUnsynchronised: number;
  updates: number;
  updatesOnPhc: number;
  lostLock: number;
}

/** Adds the PHC refclock and reads it every second, as chrony's PHC driver (dpoll 0). */
function phc(line: string, counts: Counts) {
  return (ctx: ScenarioContext) => {
    const engine = ctx.engine;
    if (!(engine instanceof Engine)) throw new Error("the scenario runs tempus's Engine");
    const r = parseRefclockArgs(line.split(" "));
    if (!r.ok) throw new Error(r.error);
    const id = engine.addRefclock(r.refclock, "PHC0");
    engine.onRefclockSample = (s) => {
      if (s.refId !== "PHC0") return;
      if (s.count === null) {
        counts.filtered++;
        if (s.leap === 3) counts.filteredUnsynchronised++;
      } else {
        counts.raw++;
        if (s.leap === 3) counts.rawUnsynchronised++;
      }
    };
    engine.onReferenceUpdated = () => {
      counts.updates++;
      if (engine.tracking().refId === refIdFromAscii("PHC0")) counts.updatesOnPhc++;
    };
    const rnd = new SimRandom(5);
    let readings = 0;
    const read = () => {
      // clknetsim: PHC time = true time - (0.399 + 1e-3 per reading + 1e-6 normal).
      readings++;
      const raw = ctx.clock.readRawTime();
      const phcOffset = 0.399 + 1e-3 * readings + 1e-6 * rnd.normal();
      engine.refclockSample(id, raw, Number(ctx.vt.now - raw) / 1e9 - phcOffset, 0);
      ctx.vt.scheduleIn(S, read);
    };
    ctx.vt.scheduleIn(S / 2n, read);
  };
}

function run(line: string) {
  const counts: Counts = {
    raw: 0,
    rawUnsynchronised: 0,
    filtered: 0,
    filteredUnsynchronised: 0,
    updates: 0,
    updatesOnPhc: 0,
    lostLock: 0,
  };
  const result = runScenario({
    name: "refclock local",
    duration: 10000,
    clock: { freq: 0, sine: { amplitude: 1e-4, period: 1000 } },
    servers: [{
      path: { drop: (t) => t >= 5000 },
      sourceParams: { minPoll: 4, maxPoll: 4, filter: 5, minSamples: 64 },
    }],
    actions: [{ at: 0, run: phc(line, counts) }],
    limits: {
      minSyncTime: 5,
      maxSyncTime: 5000,
      timeMax: 1e-3,
      timeRms: 5e-4,
      freqMax: 2e-5,
      freqRms: 5e-6,
    },
    watch: ["Local refclock lost lock", "Selected source"],
  }, tempusEngine);
  counts.lostLock = result.logCounts["Local refclock lost lock"] ?? 0;
  return { result, counts };
}

Deno.test("sim refclock local (106-refclock): a stable PHC steadies the clock, also in holdover", () => {
  const { result, counts } = run("PHC /dev/ptp0 local poll 2");
  const m = result.metrics;
  assert.ok(
    result.pass,
    `${result.failures.join("; ")} (sync ${m.syncTime}, max ${m.maxOffset}, rms ${m.rmsOffset}, ` +
      `freq max ${m.maxFreq} rms ${m.rmsFreq})`,
  );
  // chrony: 9999-10001 raw and 2499-2501 filtered refclocks.log lines, all with leap '?'.
  assert.ok(counts.raw >= 9999 && counts.raw <= 10001, `${counts.raw} raw samples`);
  assert.equal(counts.rawUnsynchronised, counts.raw);
  assert.ok(counts.filtered >= 2499 && counts.filtered <= 2501, `${counts.filtered} filtered`);
  assert.equal(counts.filteredUnsynchronised, counts.filtered);
  // chrony: no tracking.log line names PHC0 - the NTP server is the reference.
  assert.ok(counts.updates > 0);
  assert.equal(counts.updatesOnPhc, 0);
  assert.equal(counts.lostLock, 0);
});

Deno.test("sim refclock local: the same run without `local` fails chrony's limits", () => {
  // Without local the PHC's samples are offsets 0.4 s and more off true time: noselect keeps
  // it out, so the clock has only the server and its own ±100 ppm swings.
  const { result } = run("PHC /dev/ptp0 poll 2 noselect");
  assert.equal(result.pass, false, "the local refclock must be what holds the clock");
});
