/**
 * chrony's leap second scenario (test/simulation/113-leapsecond), its last two runs: a
 * stratum-1 host that knows of the leap second at the end of 2008-12-31 and slews it
 * (`leapsecmode slew`), serving through `smoothtime 400 0.001` and then
 * `smoothtime 400 0.001 leaponly`, and a client of it (`leapsecmode system`, started at 2 h)
 * that must be synchronised to UTC (1 ms, 500 ppm; chrony's default RMS limits after) no
 * sooner than 230 000 s and no later than 240 000 s: the served time carries the leap second
 * away along the smoothing spline (peak 31.6 ppm, about 63 000 s from the leap at 172 800 s),
 * and the leap indicator is not served, so the client does not correct it twice. Also
 * check_source_selection and check_packet_interval's client bounds.
 *
 * The host is the engine of this simulator's 113 scenario (`113-leapsecond slew`: tempus
 * synchronised to a stratum-1 server announcing the leap, where chrony's script uses a
 * refclock with `leapsectz right/UTC`); the smoothing is driven as the daemon's smoothing
 * service drives it.
 */
import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../src/config/defaults.ts";
import { AccessTable } from "../../src/core/access.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { NtpResponder } from "../../src/core/server.ts";
import { smoothedReference, Smoother } from "../../src/core/smoothing.ts";
import { allScenarios } from "../../src/sim/catalog.ts";
import { LogCapture } from "../../src/sim/log_capture.ts";
import { checkSync, CHRONY_DEFAULT_LIMITS, computeSyncMetrics } from "../../src/sim/metrics.ts";
import { SimPath } from "../../src/sim/network.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { DEFAULT_CLIENT_CLOCK, runScenario, type ScenarioContext } from "../../src/sim/scenario.ts";
import { SimClock } from "../../src/sim/sim_clock.ts";
import { SimTimers } from "../../src/sim/sim_timers.ts";
import { type SimResponder, SimTransport } from "../../src/sim/sim_transport.ts";
import { SIM_CLOCK_PRECISION } from "../../src/sim/tempus_engine.ts";

const S = 1_000_000_000n;
/** chrony's client_start: 2 hours. */
const CLIENT_START = 7200;

function run(leapOnly: boolean, seed: number) {
  const entry = allScenarios().find((e) => e.id === "113-leapsecond slew");
  assert.ok(entry, "scenario 113-leapsecond slew");
  const spec = entry.spec;
  const leap = spec.leapAt!;
  const duration = spec.duration ?? 0;
  assert.equal(duration, 4 * 86_400);
  let host: Engine | null = null;
  const smoother = new Smoother({ maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly });
  let client: { clock: SimClock; engine: Engine; log: LogCapture } | null = null;
  const requests: number[] = [];
  let announced = 0;
  let leapServed = 0;
  const install = (ctx: ScenarioContext) => {
    const server = host!;
    const vt = ctx.vt;
    const start = vt.now;
    const random = new SimRandom(seed);
    server.clock.addObserver((c) => smoother.applyClockChange(c));
    const responder = new NtpResponder({
      access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
      clientLog: null,
    });
    const smoothing: SimResponder = {
      respond(request, rxTrue) {
        if (rxTrue !== vt.now) return null;
        requests.push(Number(vt.now - start) / 1e9);
        const now = server.clock.cookedNow();
        const rx = smoother.serve(now);
        const state = server.referenceState();
        if (state.leap === 1 || state.leap === 2) announced++;
        // As the daemon's smoothing service serves it: leapsecmode slew, so no leap announced.
        const reference = smoothedReference(state, smoother.offsetAt(now), true);
        if (reference.leap !== 0 && reference.leap !== 3) leapServed++;
        const reply = responder.respond(
          request,
          { address: "192.168.123.2", port: 40123 },
          rx,
          reference,
          () => rx + 1000n,
        );
        return reply === null ? null : { bytes: reply.slice(), processing: 1e-6 };
      },
    };
    const clock = new SimClock(vt, DEFAULT_CLIENT_CLOCK, duration, random.fork());
    clock.referenceOffset = (t) => (t >= leap ? -1 : 0); // offsets against UTC
    const timers = new SimTimers(vt, clock);
    const log = new LogCapture(() => clock.secondsSinceStart(vt.now), []);
    const engine = new Engine(
      { ...defaultConfig(), leapSecMode: "system" },
      { driver: clock, timers, random: random.fork(), log },
      null,
      { measurePrecision: () => SIM_CLOCK_PRECISION },
    );
    const transport = new SimTransport(vt, start, (id, bytes) => {
      engine.receiveReply(id, bytes, engine.clock.cookedNow());
    });
    transport.addRoute("192.168.123.1", {
      server: smoothing,
      path: new SimPath({}, random.fork()),
    });
    engine.addSource(
      "server",
      { address: "192.168.123.1", port: 123 },
      DEFAULT_SOURCE_PARAMS,
      null,
    );
    vt.scheduleAt(start + BigInt(CLIENT_START) * S, () => engine.start(transport));
    client = { clock, engine, log };
    vt.scheduleTicks(start + S, S, duration, (k, at) => {
      clock.tick(k, at);
      const now = server.clock.cookedNow();
      const t = server.tracking();
      smoother.observeLeap(now, t.leapStatus);
      smoother.updateSkew(now, t.skewPpm);
    });
  };
  runScenario(
    {
      ...spec,
      config: { ...spec.config, leapSecMode: "slew" },
      actions: [...(spec.actions ?? []), { at: 0, run: install }],
    },
    (cfg, deps, drift) => {
      host = new Engine(cfg, deps, drift, { measurePrecision: () => SIM_CLOCK_PRECISION });
      return host;
    },
  );
  const c = client!;
  const limits = { ...CHRONY_DEFAULT_LIMITS, minSyncTime: 230_000, maxSyncTime: 240_000 };
  const metrics = computeSyncMetrics(c.clock.offsets, c.clock.freqErrors, limits);
  const intervals = requests.slice(1).map((t, i) => t - requests[i]);
  return {
    metrics,
    failures: checkSync(metrics, limits),
    intervals,
    announced,
    leapServed,
    selected: c.log.count("Selected source"),
    selectionFailures: c.log.count("no majority") + c.log.count("no selectable sources"),
    clientLeaps: c.clock.leapsApplied,
  };
}

for (const leapOnly of [false, true]) {
  const mode = leapOnly ? " leaponly" : "";
  Deno.test(`chrony 113 smoothtime 400 0.001${mode}: the client is on UTC in 230 000-240 000 s`, () => {
    const r = run(leapOnly, 1);
    const m = r.metrics;
    console.log(
      `  smoothtime 400 0.001${mode}: sync ${m.syncTime} s, max ${
        m.maxOffset.toExponential(2)
      } s, ` +
        `rms ${m.rmsOffset.toExponential(2)} s, max freq ${m.maxFreq.toExponential(2)}, rms freq ${
          m.rmsFreq.toExponential(2)
        }; leap announced by the host's reference for ${r.announced} requests, served as 0`,
    );
    assert.deepEqual(r.failures, []);
    assert.ok(r.announced > 0, "the host knew of the leap second");
    assert.equal(r.leapServed, 0, "no leap indicator served");
    assert.equal(r.clientLeaps, 0, "the client's kernel inserted no leap second");
    assert.ok(r.selected >= 1, "check_source_selection: selected");
    assert.equal(r.selectionFailures, 0, "check_source_selection: no failure");
    const mean = r.intervals.reduce((a, b) => a + b, 0) / r.intervals.length;
    assert.ok(mean >= 0.1, `mean outgoing interval ${mean}`);
    assert.ok(Math.min(...r.intervals) >= 1.8, `minimum interval ${Math.min(...r.intervals)}`);
  });
}
