/**
 * `deno task bench:simpaths`: the real-time comparison's paths (docs/realtime.md) in the
 * simulator, over many seeds, so that an engine change can be judged before the 47-minute
 * real-time run. Each path runs with iburst, minpoll -2, maxpoll 2 and 16 ticks a second, as
 * `bench:realtime` polls; the error is scored from 30 s on, as it scores it. The chronyd-served
 * paths start with the client's clock on time (offset 1 µs, no frequency error), as the `-x`
 * clients of the real-time bench do; the scripted-server paths start with the script's offset
 * and frequency.
 *
 * The error is the engine's cooked time (its clock plus the correction still to be slewed in)
 * against true time: what the real-time bench measures, since `chronyc tracking`'s "System
 * time" of a `-x` client is its cooked time's distance from the host clock. Per path it prints
 * the mean over the seeds of that RMS error, of |mean error| (the part a slow error leaves
 * over a run) and of the standard deviation about that mean; the mean RMS error of the clock
 * itself (the slewed clock, what a system without `-x` would show); the mean number of
 * requests that reached the server; then each seed's RMS error of cooked time.
 *
 * Arguments: `--seeds=N` (default 12), `--delaygate` (the sources get tempus's `delaygate`
 * option), `--compare` (each path without and with `delaygate`, paired by seed: the
 * geometric mean of the per-seed RMS ratios with its 95 % interval, ratio_interval.ts), and
 * path names to run only those; with `--compare`, `--default-polltarget=N` runs the default at
 * chrony's polltarget N (8 otherwise), so that it polls about as often as `delaygate` does;
 * `--scale=K` stretches every path's duration and event times K times (scoring still from 30 s).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { PathSpec } from "../../src/sim/network.ts";
import { runScenario } from "../../src/sim/scenario.ts";
import type { ClockSpec } from "../../src/sim/sim_clock.ts";
import { tempusEngine } from "../../src/sim/tempus_engine.ts";
import { formatRatioInterval, ratioInterval } from "./ratio_interval.ts";

const TICKS_PER_SECOND = 16;
const SCORED_FROM_SECOND = 30;

/** One real-time scenario as a simulated path. */
interface SimPath {
  /** The client clock against the server (the scripted server's offset and rate). */
  clock: ClockSpec;
  /** One-way delays and loss. */
  path: PathSpec;
  /** Seconds run. */
  seconds: number;
}

const ON_TIME: ClockSpec = { offset: 1e-6, freq: 0, wander: 1e-9 };

function symmetric(base: number, jitter: number, loss = 0): PathSpec {
  return { up: { base, jitter }, down: { base, jitter }, loss };
}

/** The LAN path with nothing passing from `from` to `to` seconds. */
function withOutage(from: number, to: number): PathSpec {
  return { ...symmetric(5e-4, 1e-4), drop: (t) => t >= from && t < to };
}

/**
 * The paths, with every duration and event time stretched `k` times (1: the real-time
 * bench's own). Scoring still starts at 30 s, so a longer run weighs the steady state more.
 */
function paths(k: number): Record<string, SimPath> {
  return {
    clean: { clock: ON_TIME, path: symmetric(5e-4, 1e-4), seconds: 60 * k },
    jitter: { clock: ON_TIME, path: symmetric(5e-4, 2e-3), seconds: 60 * k },
    asymjitter: {
      clock: ON_TIME,
      path: { up: { base: 5e-4, jitter: 3e-3 }, down: { base: 5e-4, jitter: 2e-4 } },
      seconds: 60 * k,
    },
    loss: { clock: ON_TIME, path: symmetric(5e-4, 1e-4, 0.163), seconds: 60 * k },
    congestion: {
      clock: ON_TIME,
      // The bench adds 20-50 ms uniform per packet; the simulator's extra delay is base + Exp.
      path: {
        ...symmetric(5e-4, 1e-4),
        congestion: [{ from: 35 * k, to: 65 * k, extraBase: 0.02, extraJitter: 0.015 }],
      },
      seconds: 100 * k,
    },
    outage: { clock: ON_TIME, path: withOutage(35 * k, 65 * k), seconds: 100 * k },
    ratejump: {
      clock: { offset: 1e-3, freq: 1e-6, wander: 1e-9, freqSteps: [{ at: 50 * k, delta: 7e-6 }] },
      path: symmetric(5e-4, 1e-4),
      seconds: 100 * k,
    },
    holdover: {
      clock: { offset: 1e-6, freq: 10e-6, wander: 5e-9 },
      path: withOutage(35 * k, 75 * k),
      seconds: 100 * k,
    },
    wander: {
      clock: { offset: 1e-3, freq: -5e-6, wander: 5e-8 },
      path: symmetric(5e-4, 3e-4),
      seconds: 90 * k,
    },
    wan: {
      clock: { offset: 3e-3, freq: 40e-6, wander: 1e-8 },
      path: symmetric(0.01, 0.002, 0.05),
      seconds: 100 * k,
    },
  };
}

/** Prints `message` and exits with the usage status. */
function usage(message: string): never {
  console.error(message);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      seeds: { type: "string", default: "12" },
      delaygate: { type: "boolean", default: false },
      compare: { type: "boolean", default: false },
      "default-polltarget": { type: "string" },
      scale: { type: "string", default: "1" },
    },
    allowPositionals: true,
  });
} catch (e) {
  usage(
    `${
      (e as Error).message
    }; known: --seeds=N, --delaygate, --compare, --default-polltarget=N, --scale=K`,
  );
}
const { values, positionals: names } = parsed;
const seeds = Number(values.seeds);
const delayGate = values.delaygate;
const compare = values.compare;
const basePollArg = values["default-polltarget"];
const basePollTarget = basePollArg === undefined ? 8 : Number(basePollArg);
const scale = Number(values.scale);
if (!(Number.isFinite(scale) && scale >= 1 && scale <= 100)) {
  usage(`--scale must be a number 1-100, not ${values.scale}`);
}
const PATHS = paths(scale);
const scaleNote = scale === 1 ? "" : `; durations and event times x${scale}`;
if (compare && delayGate) {
  usage("--compare runs each path without and with delaygate: drop --delaygate");
}
for (const name of names) {
  if (!(name in PATHS)) usage(`unknown path ${name}; known: ${Object.keys(PATHS).join(", ")}`);
}
if (
  basePollArg !== undefined &&
  !(compare && Number.isInteger(basePollTarget) && basePollTarget >= 6 && basePollTarget <= 60)
) {
  usage(`--default-polltarget needs --compare and an integer 6-60, not ${basePollArg}`);
}
if (!(Number.isInteger(seeds) && seeds >= 1)) {
  usage(`--seeds must be a positive integer, not ${values.seeds}`);
}

const average = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
const rmsOf = (xs: number[]): number => Math.sqrt(average(xs.map((x) => x * x))) * 1e6;

/** Per seed: RMS and mean error of cooked time (µs), RMS of the clock, requests served. */
interface PathFigures {
  rms: number[];
  means: number[];
  clockRms: number[];
  requests: number[];
}

/** Runs `p` over the seeds, with or without the delaygate option, at `pollTarget`. */
function runPath(name: string, p: SimPath, gate: boolean, pollTarget = 8): PathFigures {
  const f: PathFigures = { rms: [], means: [], clockRms: [], requests: [] };
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario({
      name,
      seed,
      duration: p.seconds,
      ticksPerSecond: TICKS_PER_SECOND,
      clock: p.clock,
      servers: [{ path: p.path }],
      sourceParams: {
        minPoll: -2,
        maxPoll: 2,
        iburst: true,
        pollTarget,
        ...(gate ? { delayGate: true } : {}),
      },
    }, tempusEngine);
    const from = SCORED_FROM_SECOND * TICKS_PER_SECOND;
    const cooked = Array.from((r.cookedOffsets ?? r.offsets).slice(from));
    f.rms.push(rmsOf(cooked));
    f.means.push(average(cooked) * 1e6);
    f.clockRms.push(rmsOf(Array.from(r.offsets.slice(from))));
    f.requests.push(r.serverRequests);
  }
  return f;
}

const selected = Object.entries(PATHS).filter(([name]) =>
  names.length === 0 || names.includes(name)
);

if (compare) {
  console.log(
    `seeds 1-${seeds}; error from ${SCORED_FROM_SECOND} s${scaleNote}; µs; delaygate against the default, ` +
      "paired by seed: geometric mean of the per-seed RMS ratios with its 95 % interval" +
      (basePollTarget !== 8 ? `; the default at polltarget ${basePollTarget}` : ""),
  );
  console.log(
    "| path | default mean RMS | delaygate mean RMS | requests default | requests delaygate | " +
      "ratio |",
  );
  console.log(
    "|------|-----------------:|-------------------:|-----------------:|-------------------:|" +
      "-------|",
  );
  for (const [name, p] of selected) {
    const base = runPath(name, p, false, basePollTarget);
    const gated = runPath(name, p, true);
    const interval = ratioInterval(gated.rms.map((r, i) => r / base.rms[i]));
    const cells = [
      average(base.rms).toFixed(1),
      average(gated.rms).toFixed(1),
      average(base.requests).toFixed(1),
      average(gated.requests).toFixed(1),
      formatRatioInterval(interval),
    ];
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
} else {
  console.log(
    `seeds 1-${seeds}; error from ${SCORED_FROM_SECOND} s${scaleNote}; µs${
      delayGate ? "; delaygate" : ""
    }`,
  );
  console.log(
    "| path | mean RMS | mean abs(mean) | mean sd | clock mean RMS | requests | RMS per seed |",
  );
  console.log(
    "|------|---------:|---------------:|--------:|---------------:|---------:|--------------|",
  );
  for (const [name, p] of selected) {
    const { rms, means, clockRms, requests } = runPath(name, p, delayGate);
    const sds = rms.map((r, i) => Math.sqrt(Math.max(0, r * r - means[i] * means[i])));
    const cells = [
      average(rms).toFixed(1),
      average(means.map(Math.abs)).toFixed(1),
      average(sds).toFixed(1),
      average(clockRms).toFixed(1),
      average(requests).toFixed(1),
      rms.map((x) => x.toFixed(0)).join(" "),
    ];
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
}
