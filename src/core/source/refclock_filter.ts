/**
 * chrony's refclock sample filter (samplefilt.c): the samples a driver delivers between two
 * polls are kept in a ring of at most `maxSamples`; at each poll the samples whose offsets
 * lie closest to the median (`combineRatio` of them, at least one dropped at each end when
 * there are more than two) are combined into one sample - mean offset at the mean time, with
 * the dispersion estimated from their spread (a weighted line fit with four or more) - and
 * the ring is emptied. A combined variance above `maxDispersion`² drops the whole poll.
 *
 * @module
 */
import { weightedRegression } from "../regress.ts";
import { adjustForClockChange, type ClockChangeEvent, type NtpSample } from "../types.ts";

/** One sample in the filter (chrony's NTP_Sample without stratum/leap). */
export type FilterSample = Omit<NtpSample, "stratum" | "leap">;

/** Largest ring chrony allows. */
export const MAX_FILTER_SAMPLES = 256;

/** chrony's RGR_GetChi2Coef: chi-square quantiles (p = 0.9) for 1..64 degrees of freedom. */
const CHI2 = [
  2.706,
  4.605,
  6.251,
  7.779,
  9.236,
  10.645,
  12.017,
  13.362,
  14.684,
  15.987,
  17.275,
  18.549,
  19.812,
  21.064,
  22.307,
  23.542,
  24.769,
  25.989,
  27.204,
  28.412,
  29.615,
  30.813,
  32.007,
  33.196,
  34.382,
  35.563,
  36.741,
  37.916,
  39.087,
  40.256,
  41.422,
  42.585,
  43.745,
  44.903,
  46.059,
  47.212,
  48.363,
  49.513,
  50.66,
  51.805,
  52.949,
  54.09,
  55.23,
  56.369,
  57.505,
  58.641,
  59.774,
  60.907,
  62.038,
  63.167,
  64.295,
  65.422,
  66.548,
  67.673,
  68.796,
  69.919,
  71.04,
  72.16,
  73.279,
  74.397,
  75.514,
  76.63,
  77.745,
  78.86,
];

/** Chi-square coefficient for `dof` degrees of freedom. */
export function chi2Coefficient(dof: number): number {
  return dof <= 64 ? CHI2[Math.max(1, dof) - 1] : 1.2 * dof;
}

/** Options of a filter. */
export interface RefclockFilterOptions {
  /** Samples needed for a filtered sample (chrony: 1). */
  minSamples: number;
  /** Ring length (the `filter` option). */
  maxSamples: number;
  /** `maxdispersion`, seconds (0: no limit). */
  maxDispersion: number;
  /** Share of the samples around the median that are combined (chrony: 0.6). */
  combineRatio: number;
  /** Precision of the local clock, seconds: the first variance estimate. */
  precision: number;
}

/** The refclock median filter. */
export class RefclockFilter {
  readonly #min: number;
  readonly #max: number;
  readonly #maxVar: number;
  readonly #ratio: number;
  #samples: FilterSample[] = [];
  #last: FilterSample | null = null;
  #avgVar: number;
  #avgVarN = 0;

  /** Creates an empty filter. */
  constructor(o: RefclockFilterOptions) {
    const clamp = (v: number) => Math.min(MAX_FILTER_SAMPLES, Math.max(1, Math.floor(v)));
    this.#min = clamp(o.minSamples);
    this.#max = Math.max(this.#min, clamp(o.maxSamples));
    this.#maxVar = o.maxDispersion * o.maxDispersion;
    this.#ratio = Math.min(1, Math.max(0, o.combineRatio));
    this.#avgVar = o.precision * o.precision;
  }

  /** Samples held now. */
  get size(): number {
    return this.#samples.length;
  }

  /** Square root of the long-term average variance (chrony SPF_GetAvgSampleDispersion). */
  get averageDispersion(): number {
    return Math.sqrt(this.#avgVar);
  }

  /** The newest sample added (kept across polls, dropped by `clear`), or null. */
  get lastSample(): Readonly<FilterSample> | null {
    return this.#last;
  }

  /** Adds a sample; false (dropped) when its time does not follow the newest one. */
  add(sample: FilterSample): boolean {
    if (this.#samples.length > 0 && this.#last !== null && sample.time <= this.#last.time) {
      return false;
    }
    if (this.#samples.length >= this.#max) this.#samples.shift();
    this.#samples.push({ ...sample });
    this.#last = this.#samples[this.#samples.length - 1];
    return true;
  }

  /** Drops every sample. */
  clear(): void {
    this.#samples = [];
    this.#last = null;
  }

  /** Indices (oldest first) of the samples to combine, or [] with too few samples. */
  #select(): number[] {
    const s = this.#samples;
    const used = s.length;
    if (used < this.#min || used === 0) return [];
    let chosen: number[] = [];
    if (used > 4) {
      const minDisp = Math.min(...s.map((x) => x.peerDispersion));
      for (let i = 0; i < used; i++) if (s[i].peerDispersion <= 1.5 * minDisp) chosen.push(i);
    }
    if (chosen.length < 4) chosen = s.map((_, i) => i);
    chosen.sort((a, b) => s[a].offset - s[b].offset);
    const j = chosen.length;
    let from = 0;
    if (j > 2) {
      from = Math.floor(j * (1 - this.#ratio) / 2);
      from = Math.min(Math.floor((j - 1) / 2), Math.max(1, from));
    }
    return chosen.slice(from, j - from).sort((a, b) => a - b);
  }

  /**
   * At a poll: combines the samples around the median into one and empties the ring; null
   * when there are too few samples or their dispersion exceeds the maximum.
   */
  filtered(): FilterSample | null {
    const idx = this.#select();
    if (idx.length === 0) return null;
    const result = this.#combine(idx.map((i) => this.#samples[i]));
    this.#samples = [];
    return result;
  }

  #combine(sel: FilterSample[]): FilterSample | null {
    const n = sel.length;
    const lastTime = sel[n - 1].time;
    const x = sel.map((s) => Number(s.time - lastTime) / 1e9);
    const y = sel.map((s) => s.offset);
    const w = sel.map((s) => s.peerDispersion);
    const meanX = x.reduce((a, b) => a + b, 0) / n;
    const meanY = y.reduce((a, b) => a + b, 0) / n;
    let variance: number;
    let disp: number;
    let dof: number;
    const fit = n >= 4 ? weightedRegression(x.map((v) => v - meanX), y, w) : null;
    if (fit !== null) {
      variance = fit.variance;
      disp = fit.interceptSd;
      dof = n - 2;
    } else if (n >= 2) {
      variance = y.reduce((a, v) => a + (v - meanY) ** 2, 0) / (n - 1);
      disp = Math.sqrt(variance);
      dof = n - 1;
    } else {
      variance = this.#avgVar;
      disp = Math.sqrt(variance);
      dof = 1;
    }
    if (!(variance >= 1e-20)) {
      variance = 1e-20;
      disp = Math.sqrt(variance);
    }
    if (this.#maxVar > 0 && variance > this.#maxVar) return null;
    let prevAvg = this.#avgVar;
    if (this.#avgVarN > 50) {
      this.#avgVar += dof / (dof + 50) * (variance - this.#avgVar);
    } else {
      this.#avgVar = (this.#avgVar * this.#avgVarN + variance * dof) / (dof + this.#avgVarN);
      if (this.#avgVarN === 0) prevAvg = this.#avgVar;
      this.#avgVarN += dof;
    }
    if (variance * dof / chi2Coefficient(dof) < prevAvg) {
      disp = Math.sqrt(this.#avgVar) * disp / Math.sqrt(variance);
    }
    const mean = (f: (s: FilterSample) => number) => sel.reduce((a, s) => a + f(s), 0) / n;
    const peerDisp = mean((s) => s.peerDispersion);
    const rootDisp = mean((s) => s.rootDispersion);
    return {
      time: lastTime + BigInt(Math.round(meanX * 1e9)),
      offset: meanY,
      peerDispersion: Math.max(disp, peerDisp),
      rootDispersion: Math.max(disp, rootDisp),
      peerDelay: mean((s) => s.peerDelay),
      rootDelay: mean((s) => s.rootDelay),
    };
  }

  /** Adds `doffset` seconds to the held samples and the newest one (chrony SPF_CorrectOffset). */
  correctOffset(doffset: number): void {
    for (const s of this.#held()) s.offset += doffset;
  }

  /** The samples held and the newest one (once each). */
  #held(): FilterSample[] {
    return this.#last !== null && !this.#samples.includes(this.#last)
      ? [...this.#samples, this.#last]
      : this.#samples;
  }

  /** Moves held samples onto the new clock scale; an unknown step drops them. */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.clear();
      return;
    }
    for (const s of this.#held()) {
      const { instant, shift } = adjustForClockChange(s.time, change);
      s.time = instant;
      s.offset -= shift;
    }
  }
}
