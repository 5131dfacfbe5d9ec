/**
 * chrony's smoothtime scenario (test/simulation 119, first part), built here from the
 * simulator's parts: a perfect stratum-1 server, a stratum-2 tempus host (test.common's server
 * oscillator: 100 ppm, wander 1e-9) polling it with minpoll 8 and serving its time through
 * `smoothtime 400 0.001`, and a client (0.1 s, 100 ppm) of the stratum-2 host. chrony's
 * thresholds: check_sync with min_sync_time 600 and max_sync_time 800 (the smoothed server
 * moves slowly, so the client must not be in sync before 600 s, and must be by 800 s). The
 * same network without smoothing is printed beside it: here the window is set mostly by the
 * stratum-2 host's own convergence (minpoll 8), smoothing starting once its skew is small.
 */
import assert from "node:assert/strict";
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../../src/config/defaults.ts";
import { AccessTable } from "../../src/core/access.ts";
import { Engine } from "../../src/core/engine/engine.ts";
import { NtpResponder } from "../../src/core/server.ts";
import { Smoother } from "../../src/core/smoothing.ts";
import { LogCapture } from "../../src/sim/log_capture.ts";
import { checkSync, CHRONY_DEFAULT_LIMITS, computeSyncMetrics } from "../../src/sim/metrics.ts";
import { SimPath } from "../../src/sim/network.ts";
import { SimRandom } from "../../src/sim/prng.ts";
import { DEFAULT_CLIENT_CLOCK, DEFAULT_START_EPOCH } from "../../src/sim/scenario.ts";
import { SimClock } from "../../src/sim/sim_clock.ts";
import { SimServer } from "../../src/sim/sim_server.ts";
import { SimTimers } from "../../src/sim/sim_timers.ts";
import { type SimResponder, SimTransport } from "../../src/sim/sim_transport.ts";
import { SIM_CLOCK_PRECISION } from "../../src/sim/tempus_engine.ts";
import { VirtualTime } from "../../src/sim/virtual_time.ts";

const S = 1_000_000_000n;

function run(smoothing: boolean, seed: number) {
  const duration = 10_000;
  const start = DEFAULT_START_EPOCH;
  const vt = new VirtualTime(start);
  const master = new SimRandom(seed);
  let maxSmoothing = 0;
  const host = (clockSpec: typeof DEFAULT_CLIENT_CLOCK) => {
    const clock = new SimClock(vt, clockSpec, duration, master.fork());
    const timers = new SimTimers(vt, clock);
    const log = new LogCapture(() => clock.secondsSinceStart(vt.now), []);
    const engine = new Engine(
      defaultConfig(),
      { driver: clock, timers, random: master.fork(), log },
      null,
      { measurePrecision: () => SIM_CLOCK_PRECISION },
    );
    const transport = new SimTransport(vt, start, (id, bytes) => {
      engine.receiveReply(id, bytes, engine.clock.cookedNow());
    });
    return { clock, engine, transport };
  };
  // Stratum 1, perfect.
  const s1 = new SimServer({}, start);
  // Stratum 2: tempus, serving smoothed time.
  const s2 = host({ offset: 0, freq: 1e-4, wander: 1e-9 });
  s2.transport.addRoute("192.168.123.1", { server: s1, path: new SimPath({}, master.fork()) });
  s2.engine.addSource(
    "server",
    { address: "192.168.123.1", port: 123 },
    { ...DEFAULT_SOURCE_PARAMS, minPoll: 8 },
    null,
  );
  const smoother = new Smoother({ maxFreqPpm: 400, maxWanderPpm: 0.001, leapOnly: false });
  s2.engine.clock.addObserver((c) => smoother.applyClockChange(c));
  const served = (t: bigint) => smoothing ? smoother.serve(t) : t;
  const responder = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: true }]),
    clientLog: null,
  });
  const stratum2: SimResponder = {
    respond(request, rxTrue) {
      if (rxTrue !== vt.now) return null;
      const rx = served(s2.engine.clock.cookedNow());
      const reply = responder.respond(
        request,
        { address: "192.168.123.3", port: 40123 },
        rx,
        s2.engine.referenceState(),
        () => rx + 1000n,
      );
      return reply === null ? null : { bytes: reply.slice(), processing: 1e-6 };
    },
  };
  // The client.
  const client = host(DEFAULT_CLIENT_CLOCK);
  client.transport.addRoute("192.168.123.2", {
    server: stratum2,
    path: new SimPath({}, master.fork()),
  });
  client.engine.addSource(
    "server",
    { address: "192.168.123.2", port: 123 },
    DEFAULT_SOURCE_PARAMS,
    null,
  );
  s2.engine.start(s2.transport);
  client.engine.start(client.transport);
  vt.scheduleTicks(start + S, S, duration, (k, at) => {
    s2.clock.tick(k, at);
    client.clock.tick(k, at);
    const t = s2.engine.tracking();
    const now = s2.engine.clock.cookedNow();
    smoother.updateSkew(now, t.skewPpm);
    maxSmoothing = Math.max(maxSmoothing, Math.abs(smoother.offsetAt(now)));
  });
  vt.runUntil(start + BigInt(duration) * S);
  const limits = { ...CHRONY_DEFAULT_LIMITS, minSyncTime: 600, maxSyncTime: 800 };
  const metrics = computeSyncMetrics(client.clock.offsets, client.clock.freqErrors, limits);
  return { metrics, failures: checkSync(metrics, limits), maxSmoothing };
}

Deno.test("chrony 119 smoothtime: a client of a smoothing stratum-2 server syncs in 600-800 s", () => {
  const r = run(true, 1);
  console.log(`  smoothtime 400 0.001: ${JSON.stringify(r.metrics)}`);
  assert.deepEqual(r.failures, []);
  // The smoothing did absorb the stratum-2 host's corrections.
  assert.ok(r.maxSmoothing > 1e-6, `largest smoothing offset ${r.maxSmoothing}`);
  const plain = run(false, 1);
  console.log(
    `  largest smoothing offset ${r.maxSmoothing.toExponential(2)} s; without smoothing: ` +
      JSON.stringify(plain.metrics),
  );
});
