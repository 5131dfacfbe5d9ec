/**
 * `deno task bench:simlongpoll`: the `delaygate` option at long polls, in the simulator. At polls
 * of 16 s and more its gate never acts, but its statistics (steeper delay weights, a rate-change
 * test on two new points) still apply; this checks they cost nothing there. A LAN path and an
 * internet-like one (10 ms + 2 ms·Exp up, 12 ms + 4 ms·Exp down, 2 % loss), a client clock 1 ms
 * off at +10 ppm with 0.002 ppm/√s wander, polls 4–6 (8000 s) and 6–10 (40000 s), iburst; the
 * error of cooked time is scored from a quarter of the run on. Per case: the mean RMS error over
 * the seeds without and with `delaygate`, the mean requests, and the geometric mean of the
 * per-seed ratios with its 95 % interval.
 *
 * Arguments: `--seeds=N` (default 24).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { PathSpec } from "../../src/sim/network.ts";
import { runScenario } from "../../src/sim/scenario.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";
import { formatRatioInterval, ratioInterval } from "./ratio_interval.ts";

const PATHS: Record<string, PathSpec> = {
  lan: { up: { base: 5e-4, jitter: 1e-4 }, down: { base: 5e-4, jitter: 1e-4 } },
  internet: {
    up: { base: 0.01, jitter: 0.002 },
    down: { base: 0.012, jitter: 0.004 },
    loss: 0.02,
  },
};

/** Poll range and run length, seconds. */
const POLLS: readonly [number, number, number][] = [[4, 6, 8000], [6, 10, 40000]];

let seeds = NaN;
try {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seeds: { type: "string", default: "24" } },
  });
  seeds = Number(values.seeds);
} catch {
  // Reported below with the usage.
}
if (!(Number.isInteger(seeds) && seeds >= 2)) {
  console.error("usage: sim_longpoll.ts [--seeds=N] (N >= 2)");
  Deno.exit(2);
}

const average = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;

console.log(`seeds 1-${seeds}; error of cooked time from a quarter of the run; µs`);
console.log(
  "| path | polls | s | default mean RMS | delaygate mean RMS | requests default | " +
    "requests delaygate | ratio |",
);
console.log("|------|-------|---|---:|---:|---:|---:|-------|");
for (const [name, path] of Object.entries(PATHS)) {
  for (const [minPoll, maxPoll, seconds] of POLLS) {
    const rms: [number[], number[]] = [[], []];
    const requests: [number[], number[]] = [[], []];
    for (let seed = 1; seed <= seeds; seed++) {
      for (const k of [0, 1] as const) {
        const r = runScenario({
          name,
          seed,
          duration: seconds,
          ticksPerSecond: 1,
          clock: { offset: 1e-3, freq: 10e-6, wander: 2e-9 },
          servers: [{ path }],
          sourceParams: { minPoll, maxPoll, iburst: true, ...(k === 1 ? { delayGate: true } : {}) },
        }, tempusEngine);
        const cooked = Array.from(r.cookedOffsets ?? r.offsets).slice(Math.floor(seconds / 4));
        rms[k].push(Math.sqrt(average(cooked.map((x) => x * x))) * 1e6);
        requests[k].push(r.serverRequests);
      }
    }
    const interval = ratioInterval(rms[1].map((x, i) => x / rms[0][i]));
    const cells = [
      `${minPoll}–${maxPoll}`,
      `${seconds}`,
      average(rms[0]).toFixed(1),
      average(rms[1]).toFixed(1),
      average(requests[0]).toFixed(0),
      average(requests[1]).toFixed(0),
      formatRatioInterval(interval),
    ];
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
}
