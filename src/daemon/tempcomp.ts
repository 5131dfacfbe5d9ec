/**
 * tempcomp: chrony's temperature compensation of the clock's frequency. Every `interval`
 * seconds the first number of a sensor file is read as the temperature T, the compensation
 * is computed, in ppm, from the quadratic k0 + (T - T0) k1 + (T - T0)^2 k2 or by linear
 * interpolation/extrapolation in a table of (T, comp) points, and handed to the local
 * clock (LocalClock.setTempComp), which corrects the frequency it gives the clock driver.
 * A compensation beyond 10 ppm is refused with a warning, as chrony does; each update is
 * written to tempcomp.log when `log tempcomp` is on.
 *
 * @module
 */
import type { TempCompConfig } from "../config/model.ts";
import type { LogPort } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";

/** chrony's sanity limit of a compensation, ppm. */
export const MAX_COMP_PPM = 10.0;

/** One point of a compensation table. */
export interface TempCompPoint {
  /** Temperature. */
  temp: number;
  /** Compensation, ppm. */
  comp: number;
}

/**
 * Parses a point file: one "temperature compensation" pair per line, at least two, in
 * increasing temperature. Throws an Error with a clear message otherwise.
 */
export function parsePointFile(text: string, path: string): TempCompPoint[] {
  const points: TempCompPoint[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const f = line.split(/\s+/);
    const temp = Number(f[0]);
    const comp = Number(f[1]);
    if (f.length < 2 || !Number.isFinite(temp) || !Number.isFinite(comp)) {
      throw new Error(`${path}:${i + 1}: expected a temperature and a compensation`);
    }
    const prev = points.at(-1);
    if (prev !== undefined && temp <= prev.temp) {
      throw new Error(`${path}:${i + 1}: points not in increasing temperature order`);
    }
    points.push({ temp, comp });
  });
  if (points.length < 2) throw new Error(`${path}: not enough points (at least 2)`);
  return points;
}

/** The compensation (ppm) for temperature `temp`, as chrony's get_tempcomp. */
export function compensation(
  config: Pick<TempCompConfig, "t0" | "k0" | "k1" | "k2">,
  points: readonly TempCompPoint[] | null,
  temp: number,
): number {
  if (points === null || points.length < 2) {
    const d = temp - config.t0;
    return config.k0 + d * config.k1 + d * d * config.k2;
  }
  let i = 1;
  while (i < points.length - 1 && points[i].temp < temp) i++;
  const p1 = points[i - 1];
  const p2 = points[i];
  return (temp - p1.temp) / (p2.temp - p1.temp) * (p2.comp - p1.comp) + p1.comp;
}

/** Reads the first number of a sensor file; null when unreadable or not a number. */
export function readTemperature(text: string): number | null {
  const m = text.trim().match(/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/);
  return m === null ? null : Number(m[0]);
}

/** What the service needs from the daemon. */
export interface TempCompDeps {
  /** Applies a compensation (LocalClock.setTempComp). */
  apply: (ppm: number) => void;
  /** Cooked time now, for the log line. */
  now: () => Instant;
  /** Writes a tempcomp.log line (or does nothing when that log is off). */
  logLine: (time: Instant, temperature: number, compPpm: number) => void;
  /** The daemon's log. */
  log: LogPort;
  /** Reads a file as text (default Deno.readTextFileSync). */
  readFile?: (path: string) => string;
}

/** The running compensation: reads the sensor every interval until stopped. */
export class TempCompService {
  readonly #config: TempCompConfig;
  readonly #deps: TempCompDeps;
  readonly #points: TempCompPoint[] | null;
  readonly #read: (path: string) => string;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  /** Loads the point file if any (throws a clear Error when it is bad). */
  constructor(config: TempCompConfig, deps: TempCompDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#read = deps.readFile ?? ((p) => Deno.readTextFileSync(p));
    this.#points = config.pointFile === null
      ? null
      : parsePointFile(this.#read(config.pointFile), config.pointFile);
  }

  /** Reads the sensor once and applies the result; returns the compensation or null. */
  update(): number | null {
    let temp: number | null = null;
    try {
      temp = readTemperature(this.#read(this.#config.file));
    } catch {
      temp = null;
    }
    if (temp === null) {
      this.#deps.log.log("warning", `Could not read temperature from ${this.#config.file}`);
      return null;
    }
    const comp = compensation(this.#config, this.#points, temp);
    if (!(Math.abs(comp) <= MAX_COMP_PPM)) {
      this.#deps.log.log(
        "warning",
        `Temperature compensation of ${comp.toFixed(3)} ppm exceeds sanity limit of ${
          MAX_COMP_PPM.toFixed(1)
        }`,
      );
      return null;
    }
    this.#deps.apply(comp);
    this.#deps.logLine(this.#deps.now(), temp, comp);
    return comp;
  }

  /** Starts: one reading now, then one every interval. */
  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.update();
      this.#timer = setTimeout(tick, this.#config.interval * 1000);
    };
    tick();
  }

  /** Stops the readings (the compensation in force stays). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
