/**
 * The real-time bench's `ratejump` scenario in the simulator with `delaygate` (issue 12): the
 * client 1 ms off at +1 ppm, its rate up 7 ppm at 50 s, a LAN path (500 µs + 100 µs·Exp each
 * way), iburst minpoll -2 maxpoll 2, 100 s, error of cooked time scored from 30 s on as
 * bench:realtime does. Once its regression finds the change of rate, a `delaygate` source
 * polls at minpoll (sample_intake.ts RATE_CHANGE_POLL_ADJ), so the few samples on the new line
 * come in quickly: over seeds 1-12 the RMS error is 33.0 µs (mean; worst seed 56) with 131
 * requests reaching the server (37.3, 64 and 137 before the minimax line), where without the
 * drop it was 49.1 µs (worst 100) with 68. On the same path without the step the requests
 * are 72.5 (52-126 per seed) against 64 (53-83): a false alarm now and then also drops the
 * poll, and the gate, holding most replies back, lets the window regrow slowly, so chrony's
 * rule raises the poll slowly.
 */
import assert from "node:assert/strict";
import { runScenario } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";

const TICKS = 16;

function lanRun(seed: number, step: boolean) {
  return runScenario({
    name: `rate step ${seed}`,
    seed,
    duration: 100,
    ticksPerSecond: TICKS,
    clock: step
      ? { offset: 1e-3, freq: 1e-6, wander: 1e-9, freqSteps: [{ at: 50, delta: 7e-6 }] }
      : { offset: 1e-6, freq: 0, wander: 1e-9 },
    servers: [{ path: { up: { base: 5e-4, jitter: 1e-4 }, down: { base: 5e-4, jitter: 1e-4 } } }],
    sourceParams: { minPoll: -2, maxPoll: 2, iburst: true, delayGate: true },
  }, tempusEngine);
}

function mean(xs: number[]): number {
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}

Deno.test("delaygate: after a rate step the source polls at minpoll and recovers fast", () => {
  const rms: number[] = [];
  const requests: number[] = [];
  const steady: number[] = [];
  for (let seed = 1; seed <= 12; seed++) {
    const r = lanRun(seed, true);
    const o = r.cookedOffsets!.slice(30 * TICKS);
    rms.push(Math.sqrt(o.reduce((a, x) => a + x * x, 0) / o.length) * 1e6);
    requests.push(r.serverRequests);
    steady.push(lanRun(seed, false).serverRequests);
  }
  assert.ok(mean(rms) <= 43, `mean RMS ${mean(rms).toFixed(1)} µs (was 33.0; 49.1 without)`);
  assert.ok(Math.max(...rms) <= 80, `worst seed ${Math.max(...rms).toFixed(0)} µs (was 56)`);
  // The drop happened: about twice the requests of a source that kept chrony's rule.
  assert.ok(mean(requests) >= 100, `requests ${mean(requests).toFixed(1)} (was 131; 68 without)`);
  // Without a step it stays near chrony's rule.
  assert.ok(mean(steady) <= 85, `requests without the step ${mean(steady).toFixed(1)} (was 72.5)`);
  for (const n of steady) assert.ok(n <= 150, `requests without the step ${n}`);
});
