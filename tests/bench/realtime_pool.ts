/**
 * `deno run -A tests/bench/realtime_pool.ts FILE...`: pools the runs of several
 * `bench:realtime` rounds per scenario, so that runs made at different times (different
 * `--seed`s, the same code) decide a ratio together. Each FILE is either the output of a
 * `bench:realtime` run (its stderr lines `# run k/N NAME (S s, seed X)`, the relay line and
 * one `#   CLIENT: RMS err E µs` line per client) or a table of runs, one per line:
 * `scenario seed tempusRmsUs chronydRmsUs [tempusRequests chronydRequests]`, blank and `#`
 * lines ignored. A scenario and seed seen twice is an error: a run counts once.
 *
 * Per scenario it prints the runs, the median per-run RMS ratio (tempus / chronyd), their
 * geometric mean with its 95 % interval and what that shows against the 0.8
 * (ratio_interval.ts), the pooled ratio (tempus's RMS error over every run's samples against
 * chronyd's, runs weighted equally) with a 95 % bootstrap interval over runs, and tempus's
 * requests over chronyd's (summed over the runs that have them, and how many when not all).
 *
 * @module
 */
import { median } from "../../src/core/regress.ts";
import { seededRandom } from "../helpers/random.ts";
import { formatRatioInterval, ratioInterval, verdictAgainst } from "./ratio_interval.ts";

/** One paired run of one scenario. */
export interface PooledRun {
  /** Scenario name. */
  scenario: string;
  /** The run's seed. */
  seed: number;
  /** tempus's RMS error, µs. */
  tempusRmsUs: number;
  /** chronyd's RMS error, µs. */
  chronydRmsUs: number;
  /** Requests that reached tempus's relay, when known. */
  tempusRequests?: number;
  /** Requests that reached chronyd's relay, when known. */
  chronydRequests?: number;
}

const RUN_LINE = /^# run \d+\/\d+ (\S+) \(\d+(?:\.\d+)? s, seed (\d+)\)/;
const RMS_LINE = /^#\s+(chronyd|tempus): RMS err ([\d.]+) µs/;
const RELAY_LINE = /^#\s+relay packets .*?chronyd: up (\d+)\/\d+.*?; tempus: up (\d+)\/\d+/;

/** The runs in a `bench:realtime` output; a run without both clients' errors is left out. */
export function parseBenchOutput(text: string): PooledRun[] {
  const runs: PooledRun[] = [];
  let current: Partial<PooledRun> | null = null;
  const finish = () => {
    if (
      current?.scenario !== undefined && current.seed !== undefined &&
      current.tempusRmsUs !== undefined && current.chronydRmsUs !== undefined
    ) runs.push(current as PooledRun);
  };
  for (const line of text.split("\n")) {
    const run = RUN_LINE.exec(line);
    if (run) {
      finish();
      current = { scenario: run[1], seed: Number(run[2]) };
      continue;
    }
    if (current === null) continue;
    const relay = RELAY_LINE.exec(line);
    if (relay) {
      current.chronydRequests = Number(relay[1]);
      current.tempusRequests = Number(relay[2]);
      continue;
    }
    const rms = RMS_LINE.exec(line);
    if (rms) {
      if (rms[1] === "tempus") current.tempusRmsUs = Number(rms[2]);
      else current.chronydRmsUs = Number(rms[2]);
    }
  }
  finish();
  return runs;
}

/** The runs of a table (`scenario seed tempus chronyd [tempusReq chronydReq]`); throws on a bad line. */
export function parseRunTable(text: string): PooledRun[] {
  const runs: PooledRun[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const f = line.split(/\s+/);
    const nums = f.slice(1).map(Number);
    if (
      (f.length !== 4 && f.length !== 6) || !nums.every((x) => Number.isFinite(x) && x >= 0) ||
      !Number.isInteger(nums[0])
    ) {
      throw new Error(
        `line ${i + 1}: want "scenario seed tempusRmsUs chronydRmsUs [tempusReq chronydReq]"`,
      );
    }
    const run: PooledRun = {
      scenario: f[0],
      seed: nums[0],
      tempusRmsUs: nums[1],
      chronydRmsUs: nums[2],
    };
    if (f.length === 6) {
      run.tempusRequests = nums[3];
      run.chronydRequests = nums[4];
    }
    runs.push(run);
  });
  return runs;
}

/** The runs in `text`, whichever of the two forms it is. */
export function parseRuns(text: string): PooledRun[] {
  return text.split("\n").some((l) => RUN_LINE.test(l))
    ? parseBenchOutput(text)
    : parseRunTable(text);
}

/** sqrt(Σ tempus² / Σ chronyd²) over `runs`: the ratio of RMS errors over all their samples. */
export function pooledRatio(runs: readonly PooledRun[]): number {
  const t = runs.reduce((a, r) => a + r.tempusRmsUs ** 2, 0);
  const c = runs.reduce((a, r) => a + r.chronydRmsUs ** 2, 0);
  return Math.sqrt(t / c);
}

/** A 95 % percentile-bootstrap interval of the pooled ratio over runs (seeded, `draws` draws). */
export function pooledInterval(
  runs: readonly PooledRun[],
  draws = 4000,
  seed = 1,
): [number, number] {
  const next = seededRandom(seed);
  const ratios: number[] = [];
  for (let d = 0; d < draws; d++) {
    const sample = runs.map(() => runs[Math.floor(next() * runs.length)]);
    ratios.push(pooledRatio(sample));
  }
  ratios.sort((a, b) => a - b);
  return [ratios[Math.floor(0.025 * draws)], ratios[Math.ceil(0.975 * draws) - 1]];
}

/** The bar. */
const BAR = 0.8;

/** Checks that no scenario and seed comes twice, and groups the runs by scenario in order. */
export function groupRuns(runs: readonly PooledRun[]): Map<string, PooledRun[]> {
  const seen = new Set<string>();
  const groups = new Map<string, PooledRun[]>();
  for (const r of runs) {
    const key = `${r.scenario} ${r.seed}`;
    if (seen.has(key)) throw new Error(`${r.scenario} seed ${r.seed} appears twice`);
    seen.add(key);
    const g = groups.get(r.scenario) ?? [];
    g.push(r);
    groups.set(r.scenario, g);
  }
  return groups;
}

/** A Markdown table of the pooled figures, one row per scenario. */
export function formatPool(runs: readonly PooledRun[]): string {
  const lines = [
    "| scenario | runs | seeds | median ratio | gm (95 % CI) | ≤ 0.8 | pooled (95 % bootstrap) | requests |",
    "| -------- | ---: | ----- | -----------: | ------------ | ----- | ----------------------- | -------: |",
  ];
  for (const [name, group] of groupRuns(runs)) {
    const ratios = group.map((r) => r.tempusRmsUs / r.chronydRmsUs);
    const interval = ratioInterval(ratios);
    const seeds = group.map((r) => r.seed).sort((a, b) => a - b);
    const [low, high] = group.length > 1 ? pooledInterval(group) : [NaN, NaN];
    let tempusReq = 0, chronydReq = 0, counted = 0;
    for (const r of group) {
      if (r.tempusRequests === undefined || !r.chronydRequests) continue;
      tempusReq += r.tempusRequests;
      chronydReq += r.chronydRequests;
      counted++;
    }
    const req = counted === 0 ? "-" : `${(tempusReq / chronydReq).toFixed(2)}×` +
      (counted < group.length ? ` (${counted} runs)` : "");
    const cells = [
      name,
      String(group.length),
      `${seeds[0]}–${seeds[seeds.length - 1]}`,
      median(ratios).toFixed(2),
      formatRatioInterval(interval),
      interval !== null && interval.n > 1 ? verdictAgainst(interval, BAR) : "-",
      group.length > 1
        ? `${pooledRatio(group).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`
        : pooledRatio(group).toFixed(2),
      req,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    console.error("usage: realtime_pool.ts FILE... (bench:realtime outputs or run tables)");
    Deno.exit(2);
  }
  try {
    const runs = Deno.args.flatMap((path) => {
      try {
        return parseRuns(Deno.readTextFileSync(path));
      } catch (e) {
        throw new Error(`${path}: ${(e as Error).message}`);
      }
    });
    console.log(formatPool(runs));
  } catch (e) {
    console.error(`realtime_pool: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
