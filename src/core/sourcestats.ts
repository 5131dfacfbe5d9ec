/**
 * Per-source statistics (chrony's sourcestats): a window of up to 64 samples plus extra
 * history for the runs test, delay-based weights, jitter-asymmetry correction, and a weighted
 * regression of offset against time that yields the source's offset, frequency, skew and
 * jitter, the best single sample for root distance, and the data that selection, the
 * reference update and the delay tests need.
 *
 * Signs: offsets are tempus offsets (reference − local). The estimated frequency is the slope
 * of offset over local time (> 0: the local clock falls behind, it needs speeding up), which
 * is the tempus freqPpm sense. chrony negates offsets internally; this module does not.
 *
 * @module
 */
import type { DelayTestInput } from "./delay_tests.ts";
import type { SourceStatsReport } from "./reports.ts";
import type { LeapStatus } from "./reports.ts";
import { findBestRegression, median, multipleRegression, tCoefficient } from "./regress.ts";
import { type MinimaxLine, minimaxLine } from "./minimax_line.ts";
import { GATED_RATE_CHANGE_TEST, RATE_CHANGE_TEST } from "./rate_change.ts";
import { type Instant, NS_PER_SECOND, secondsBetween } from "../base/time.ts";
import {
  adjustForClockChange,
  type ClockChangeEvent,
  type NtpSample,
  type SelectionData,
  type TrackingData,
} from "./types.ts";

/** Most samples held in the regression window. */
export const MAX_SAMPLES = 64;

/** Extra history kept for the runs test, as a multiple of the window. */
const RUNS_RATIO = 2;

/**
 * Shortest span of samples, in seconds, the runs test may cut the window to (a tempus
 * addition; chrony has no such floor). It only binds at sub-second polls: 64 samples at
 * 128 requests/s span 0.5 s, a white-noise false alarm of the runs test (one of ~100 tests a
 * second) could leave 10 samples over 0.07 s with a ±40 ppm slope, and chrony's gain rules then
 * moved the clock's rate by 15-30 ppm (101 at poll -7). No oscillator changes its rate
 * measurably within a second, so nothing is lost by keeping a second of data.
 */
const MIN_RUNS_TEST_SPAN = 1.0;

/** Worst-case frequency bound when nothing is known (2000 ppm). */
export const WORST_CASE_FREQ_BOUND = 2000e-6;

/** Skew limits (fractions). */
export const MIN_SKEW = 1e-12;
/** Largest skew (a fraction: 1.0 = 1e6 ppm). */
export const MAX_SKEW = 1.0;

/** Smallest standard deviation reported, seconds. */
export const MIN_STDDEV = 1e-9;

/** Std-dev reported before the first successful regression, seconds. */
export const WORST_CASE_STDDEV = 4.0;

/** Ratio between the sample standard deviation and the spread of peer distances. */
const SD_TO_DIST_RATIO = 0.7;

/**
 * The ratio for a source whose slow replies the delay gate holds back (`delaygate`): four
 * times chrony's, so the delay weights are steeper. A gated sample's offset error is bounded
 * by half its extra delay, which the fastest ones make small, and the weight of an extra
 * delay of the median's is 3.8² against chrony's 1.7². Measured over 200 seeds of each
 * real-time path in the simulator (docs/realtime.md).
 */
const GATED_SD_TO_DIST_RATIO = 2.8;

/**
 * Fewest window samples from which a delay-gated source (`delaygate`) takes its offset and
 * frequency from the minimax line (minimax_line.ts) rather than the weighted regression,
 * while the jitter-asymmetry correction is off. Each sample's offset error is bounded by half
 * its delay over the window's shortest, which the gated samples make tight; the line pinned by
 * the tightest samples beat the regression at the same requests on every real-time path in the
 * simulator: 200 seeds, clean 0.54 → 0.29 and jitter 0.76 → 0.40 of the default's error
 * (docs/realtime.md). With the correction on, an offset's error is no longer centred in its
 * bound, and the regression, which then corrects it, did better (asymmetric jitter 0.72
 * against 1.22). The regression still gives the standard deviations and the skew.
 */
const MIN_MINIMAX_SAMPLES = 4;

/** Asymmetry when all jitter is on one path. */
const MAX_ASYMMETRY = 0.5;
/** Smallest estimated asymmetry that can switch the correction on. */
const MIN_ASYMMETRY = 0.45;
/** Consecutive same-sign estimates needed to switch the correction on. */
const MIN_ASYMMETRY_RUN = 10;
/**
 * For a source the delay gate thins (`delaygate`), the smallest ratio of an estimate to its
 * standard error that counts towards switching the correction on. The gate keeps only the
 * fastest replies, so the spread of delays the estimate rests on is narrow and a symmetric
 * path's estimate strays past MIN_ASYMMETRY often, and chrony's rule switched the correction
 * on in about 7 % of the simulator's runs of the symmetric real-time paths (3 % without the
 * gate). Over 100 seeds, 7 % of those strays had a ratio of 8 or more, against 84 % of the
 * estimates past MIN_ASYMMETRY on the asymmetric-jitter path, where the correction still
 * switches on (docs/realtime.md).
 */
const MIN_GATED_ASYMMETRY_T = 8;
/** Cap of the same-sign counter. */
const MAX_ASYMMETRY_RUN = 1000;

/** Options of one source's statistics. */
export interface SourceStatsOptions {
  /** minsamples: fewest samples the runs test may shorten the window to. */
  minSamples: number;
  /** maxsamples: most samples kept (0 = only the built-in limit of 64). */
  maxSamples: number;
  /**
   * asymmetry option in chrony's sense (negative: the delay of packets sent to the source is
   * more variable): null estimates it, a value in [−0.5, 0.5] fixes it, 0 disables.
   */
  asymmetry: number | null;
  /** Local clock precision, seconds. */
  precision: number;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /** mindelay option: a fixed minimum round-trip delay, seconds (null = measured). */
  minDelay?: number | null;
  /** maxjitter, seconds: the std-dev given to a single-sample source when maxsamples < 3. */
  maxJitter?: number;
  /**
   * The source's slow replies are held back by the delay gate (`delaygate`): the regression
   * weights delay more steeply (GATED_SD_TO_DIST_RATIO), looks for rate changes with
   * GATED_RATE_CHANGE_TEST, switches the asymmetry correction on only on an estimate
   * MIN_GATED_ASYMMETRY_T standard errors clear of zero, and while that correction is off the
   * offset and frequency come from the minimax line (MIN_MINIMAX_SAMPLES).
   */
  delayGated?: boolean;
}

/** One stored sample. Times and offsets are corrected for later clock changes. */
type StoredSample = Omit<NtpSample, "stratum" | "leap"> & { origOffset: number };

/** Statistics of one source. */
export class SourceStats {
  readonly #opts: SourceStatsOptions;
  /** Extra runs-test samples first (oldest), then the regression window. */
  #samples: StoredSample[] = [];
  #runsSamples = 0;
  #regressionOk = false;
  #bestIndex = 0;
  #estimatedOffset = 0;
  #estimatedOffsetSd = 86400;
  #offsetTime: Instant = 0n;
  #frequency = 0;
  #frequencySd = WORST_CASE_FREQ_BOUND;
  #skew = WORST_CASE_FREQ_BOUND;
  #stdDev = WORST_CASE_STDDEV;
  #runs = 0;
  #rateChanged = false;
  /** The last successful regression's stress, runs-test start and sample count (statistics.log). */
  #lastRegression: { stress: number; bestStart: number; samples: number } | null = null;
  #asymmetry = 0;
  #asymmetryRun = 0;
  #stratum = 0;
  #leap: LeapStatus = 3;
  #outOfOrderResets = 0;

  /** Creates empty statistics. */
  constructor(opts: SourceStatsOptions) {
    this.#opts = { ...opts };
  }

  /** Samples in the regression window. */
  get sampleCount(): number {
    return this.#samples.length - this.#runsSamples;
  }

  /** The minsamples option in force. */
  get minSamples(): number {
    return this.#opts.minSamples;
  }

  /** Skew as a fraction (worst case before a regression). */
  get skew(): number {
    return this.#skew;
  }

  /** Estimated frequency as a fraction (slope of offset over time, tempus sense). */
  get frequency(): number {
    return this.#frequency;
  }

  /** Standard deviation of the offsets, seconds. */
  get stdDev(): number {
    return this.#stdDev;
  }

  /** Whether the newest regression succeeded (its estimates are in use). */
  get regressionOk(): boolean {
    return this.#regressionOk;
  }

  /** Estimated jitter asymmetry in chrony's sense (−0.5..0.5; 0 when not corrected). */
  get jitterAsymmetry(): number {
    return this.#asymmetry;
  }

  /** How many times an out-of-order sample discarded the history. */
  get outOfOrderResets(): number {
    return this.#outOfOrderResets;
  }

  /** Forgets all samples and estimates. */
  reset(): void {
    this.#samples = [];
    this.#runsSamples = 0;
    this.#regressionOk = false;
    this.#bestIndex = 0;
    this.#estimatedOffset = 0;
    this.#estimatedOffsetSd = 86400;
    this.#offsetTime = 0n;
    this.#frequency = 0;
    this.#frequencySd = WORST_CASE_FREQ_BOUND;
    this.#skew = WORST_CASE_FREQ_BOUND;
    this.#stdDev = WORST_CASE_STDDEV;
    this.#runs = 0;
    this.#rateChanged = false;
    this.#lastRegression = null;
    this.#asymmetry = 0;
    this.#asymmetryRun = 0;
    this.#leap = 3;
  }

  #window(): StoredSample[] {
    return this.#samples.slice(this.#runsSamples);
  }

  /** Drops the `count` oldest window samples into the runs history. */
  #prune(count: number): void {
    if (count <= 0) return;
    const n = this.sampleCount - count;
    const runs = Math.min(this.#runsSamples + count, n * (RUNS_RATIO - 1));
    this.#samples = this.#samples.slice(this.#samples.length - (n + runs));
    this.#runsSamples = runs;
  }

  /** Adds one accepted sample (call {@link regress} afterwards). */
  accumulate(sample: NtpSample): void {
    const n = this.sampleCount;
    const limit = this.#opts.maxSamples > 0
      ? Math.min(MAX_SAMPLES, this.#opts.maxSamples)
      : MAX_SAMPLES;
    if (n > 0 && n >= limit) this.#prune(n - limit + 1);
    const last = this.#lastStored();
    if (last !== null && last.time >= sample.time) {
      this.#outOfOrderResets++;
      this.reset();
    }
    let peerDelay = sample.peerDelay;
    const fixedMin = this.#opts.minDelay ?? 0;
    if (fixedMin > 0 && peerDelay < fixedMin) peerDelay = 2 * fixedMin - peerDelay;
    this.#samples.push({
      time: sample.time,
      offset: sample.offset,
      origOffset: sample.offset,
      peerDelay,
      peerDispersion: sample.peerDispersion,
      rootDelay: sample.rootDelay,
      rootDispersion: sample.rootDispersion,
    });
    this.#stratum = sample.stratum;
    this.#leap = sample.leap;
  }

  #lastStored(): StoredSample | null {
    return this.#samples.length > this.#runsSamples
      ? this.#samples[this.#samples.length - 1]
      : null;
  }

  /** The newest sample (offset corrected for clock changes since), or null. */
  lastSample(): NtpSample | null {
    const s = this.#lastStored();
    if (s === null) return null;
    const { origOffset: _, ...sample } = s;
    return { ...sample, stratum: this.#stratum, leap: this.#leap };
  }

  /** Offset of the newest sample as originally measured, or null. */
  lastOriginalOffset(): number | null {
    return this.#lastStored()?.origOffset ?? null;
  }

  /** Smallest round-trip delay in the history (or the fixed mindelay), Infinity if none. */
  minRoundTripDelay(): number {
    const fixed = this.#opts.minDelay ?? 0;
    if (fixed > 0) return fixed;
    let min = Infinity;
    for (const s of this.#samples) if (s.peerDelay < min) min = s.peerDelay;
    return min;
  }

  /** Corrects the (extra and window) offsets for jitter asymmetry, as chrony does. */
  #correctAsymmetry(timesBack: number[], offsets: number[]): void {
    const fixed = this.#opts.asymmetry;
    if (fixed === 0) return;
    const minDelay = this.minRoundTripDelay();
    const delays = this.#samples.map((s) => s.peerDelay - minDelay);
    if (fixed !== null && Math.abs(fixed) <= MAX_ASYMMETRY) {
      this.#asymmetry = fixed;
    } else {
      // The slope of tempus offsets against extra delay is −asymmetry in chrony's sense.
      const fit = multipleRegression(timesBack, delays, offsets);
      if (fit === null || -fit.b2 * this.#asymmetryRun < 0) {
        this.#asymmetry = 0;
        this.#asymmetryRun = 0;
        return;
      }
      const a = -fit.b2;
      const weak = this.#opts.delayGated === true && this.#asymmetry === 0 &&
        !(Math.abs(a) >= MIN_GATED_ASYMMETRY_T * fit.sdB2);
      if (weak) return;
      if (a <= -MIN_ASYMMETRY && this.#asymmetryRun > -MAX_ASYMMETRY_RUN) this.#asymmetryRun--;
      else if (a >= MIN_ASYMMETRY && this.#asymmetryRun < MAX_ASYMMETRY_RUN) {
        this.#asymmetryRun++;
      }
      if (Math.abs(this.#asymmetryRun) < MIN_ASYMMETRY_RUN) return;
      this.#asymmetry = Math.min(MAX_ASYMMETRY, Math.max(-MAX_ASYMMETRY, a));
    }
    // chrony subtracts asymmetry·extra from its (negated) offsets: add it to ours.
    for (let i = 0; i < offsets.length; i++) offsets[i] += this.#asymmetry * delays[i];
  }

  /** Runs the regression over the stored samples (chrony SST_DoNewRegression). */
  regress(): void {
    const n = this.sampleCount;
    if (n === 0) {
      this.#regressionOk = false;
      return;
    }
    const newest = this.#samples[this.#samples.length - 1].time;
    const timesBack = this.#samples.map((s) => secondsBetween(s.time, newest));
    const offsets = this.#samples.map((s) => s.offset);
    const window = this.#window();
    const distances = window.map((s) => 0.5 * s.peerDelay + s.peerDispersion);
    let minDistance = Infinity;
    for (const d of distances) if (d < minDistance) minDistance = d;
    const precision = this.#opts.precision;
    const med = median(distances);
    const gated = this.#opts.delayGated === true;
    let sd = (med - minDistance) / (gated ? GATED_SD_TO_DIST_RATIO : SD_TO_DIST_RATIO);
    sd = Math.max(precision, Math.min(sd, minDistance));
    if (!(sd > 0)) sd = precision > 0 ? precision : 1e-9;
    const threshold = minDistance + precision;
    const weights = distances.map((d) => {
      const w = d > threshold ? 1 + (d - threshold) / sd : 1;
      return w * w;
    });

    this.#correctAsymmetry(timesBack, offsets);

    const result = findBestRegression(
      timesBack,
      offsets,
      weights,
      this.#runsSamples,
      this.#opts.minSamples,
      MIN_RUNS_TEST_SPAN,
      gated ? GATED_RATE_CHANGE_TEST : RATE_CHANGE_TEST,
    );
    let bestStart = 0;
    if (result !== null) {
      const line = gated && this.#asymmetry === 0
        ? this.#minimaxLine(timesBack, offsets, distances, minDistance, result.start)
        : null;
      const slope = line?.slope ?? result.slope;
      this.#lastRegression = {
        stress: Math.abs(this.#frequency - slope) / this.#skew,
        bestStart: result.start,
        samples: n,
      };
      this.#regressionOk = true;
      this.#frequency = slope;
      this.#frequencySd = clamp(result.slopeSd, MIN_SKEW, MAX_SKEW);
      this.#skew = clamp(result.slopeSd * tCoefficient(result.dof), MIN_SKEW, MAX_SKEW);
      this.#estimatedOffset = line?.intercept ?? result.intercept;
      this.#estimatedOffsetSd = result.interceptSd;
      this.#offsetTime = newest;
      this.#stdDev = Math.max(MIN_STDDEV, Math.sqrt(result.variance));
      this.#runs = result.runs;
      this.#rateChanged = result.rateChanged;
      bestStart = result.start;
      this.#prune(bestStart);
    } else {
      this.#regressionOk = false;
      this.#frequency = 0;
      this.#frequencySd = WORST_CASE_FREQ_BOUND;
      this.#skew = WORST_CASE_FREQ_BOUND;
    }
    this.#findBestSample(newest);
  }

  /**
   * The minimax line (minimax_line.ts) through the window's points from `start` on, each bounded
   * by its peer distance over the window's smallest, or null with fewer than
   * MIN_MINIMAX_SAMPLES of them. `timesBack` and `offsets` hold the runs-test points first.
   */
  #minimaxLine(
    timesBack: readonly number[],
    offsets: readonly number[],
    distances: readonly number[],
    minDistance: number,
    start: number,
  ): MinimaxLine | null {
    const extra = this.#runsSamples;
    const n = distances.length;
    if (n - start < MIN_MINIMAX_SAMPLES) return null;
    return minimaxLine(
      timesBack.slice(extra + start, extra + n),
      offsets.slice(extra + start, extra + n),
      distances.slice(start).map((d) => d - minDistance),
    );
  }

  /** Picks the window sample with the smallest root distance at the newest sample's time. */
  #findBestSample(newest: Instant): void {
    const window = this.#window();
    let best = 0;
    let bestDistance = Infinity;
    for (let i = 0; i < window.length; i++) {
      const s = window[i];
      const age = secondsBetween(newest, s.time);
      const d = s.rootDispersion + age * this.#skew + 0.5 * s.rootDelay;
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    this.#bestIndex = best;
  }

  #best(): StoredSample | null {
    const window = this.#window();
    if (window.length === 0) return null;
    return window[Math.min(this.#bestIndex, window.length - 1)];
  }

  /** What selection needs at `now`; null when there are no samples (no valid statistics). */
  selectionData(now: Instant): SelectionData | null {
    const window = this.#window();
    const best = this.#best();
    if (best === null) return null;
    const elapsed = Math.abs(secondsBetween(now, best.time));
    const offset = best.offset + elapsed * this.#frequency;
    const rootDistance = 0.5 * best.rootDelay + best.rootDispersion + elapsed * this.#skew;
    let selectOk = this.#regressionOk;
    let stdDev = this.#stdDev;
    if (
      !selectOk && window.length < 3 && this.#opts.maxSamples > 0 &&
      window.length === this.#opts.maxSamples
    ) {
      // Too few samples allowed for a regression: select on a single sample (fast -q mode).
      stdDev = this.#opts.maxJitter ?? 1.0;
      selectOk = true;
    }
    return {
      stratum: this.#stratum,
      leap: this.#leap,
      offset,
      lowLimit: offset - rootDistance,
      highLimit: offset + rootDistance,
      rootDistance,
      stdDev,
      firstSampleAgo: secondsBetween(now, window[0].time),
      lastSampleAgo: secondsBetween(now, window[window.length - 1].time),
      selectOk,
    };
  }

  /** What the reference update needs (chrony SST_GetTrackingData); null with no samples. */
  trackingData(): TrackingData | null {
    const best = this.#best();
    if (best === null) return null;
    const last = this.#lastStored()!;
    const ok = this.#regressionOk;
    const refTime = ok ? this.#offsetTime : last.time;
    const elapsed = secondsBetween(refTime, best.time);
    const offset = ok ? this.#estimatedOffset : last.offset;
    // Without a regression (a single-sample source) the newest sample's own error stands in.
    const offsetSd = ok ? this.#estimatedOffsetSd : 0.5 * last.peerDelay + last.peerDispersion;
    return {
      refTime,
      offset,
      offsetSd,
      frequencyPpm: this.#frequency * 1e6,
      frequencySdPpm: this.#frequencySd * 1e6,
      skewPpm: this.#skew * 1e6,
      rootDelay: best.rootDelay,
      rootDispersion: best.rootDispersion + this.#skew * elapsed + offsetSd,
    };
  }

  /** What the delay tests need; null with fewer than 6 samples. */
  delayTestData(now: Instant): DelayTestInput | null {
    if (this.sampleCount < 6) return null;
    const ago = secondsBetween(now, this.#offsetTime);
    return {
      minDelay: this.minRoundTripDelay(),
      delaySd: this.#stdDev,
      lastSampleAgo: ago,
      skewPpm: this.#skew * 1e6,
      predictedOffset: this.#estimatedOffset + ago * this.#frequency,
    };
  }

  /**
   * The last regression's rate-change test (rate_change.ts) found a change of slope in the
   * window, which then starts at the change or keeps `minSamples` points (so the change can
   * be found again by the next few regressions); false without a regression.
   */
  get rateChanged(): boolean {
    return this.#regressionOk && this.#rateChanged;
  }

  /** The offset expected at `when` (latest sample with < 3 samples, 0 with none). */
  predictOffset(when: Instant): number {
    if (this.sampleCount < 3 || !this.#regressionOk) {
      return this.#lastStored()?.offset ?? 0;
    }
    return this.#estimatedOffset + secondsBetween(when, this.#offsetTime) * this.#frequency;
  }

  /**
   * Adds `doffset` seconds to every stored offset and the estimate (chrony SST_CorrectOffset):
   * a `local` refclock keeps its offsets near zero by whole seconds.
   */
  correctOffset(doffset: number): void {
    if (this.#samples.length === 0 || !Number.isFinite(doffset)) return;
    for (const s of this.#samples) s.offset += doffset;
    this.#estimatedOffset += doffset;
  }

  /**
   * Moves stored timestamps and offsets onto the new clock scale after a clock change
   * (chrony SST_SlewSamples); an unknown step discards everything.
   */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.reset();
      return;
    }
    if (this.#samples.length === 0) return;
    for (const s of this.#samples) {
      const { instant, shift } = adjustForClockChange(s.time, change);
      s.time = instant;
      s.offset -= shift;
    }
    if (this.#offsetTime !== 0n) {
      const { instant, shift } = adjustForClockChange(this.#offsetTime, change);
      this.#offsetTime = instant;
      this.#estimatedOffset -= shift;
    }
    this.#frequency = (this.#frequency - change.dfreq) / (1 + change.dfreq);
  }

  /**
   * The window in chrony 4.3's dump-file format (sourcestats.c SST_SaveToFile, for chronyc
   * `dump` and chronyd `-r`): "N ASYMMETRY_RUN", then per sample "SEC.NSEC offset
   * orig_offset peer_delay peer_dispersion root_delay root_dispersion" (%.6e) with chrony's
   * offset sign (local − reference). Null when there is no sample (chrony writes no file).
   */
  dump(): string | null {
    const window = this.#window();
    if (window.length === 0) return null;
    const lines = [`${window.length} ${this.#asymmetryRun}`];
    for (const s of window) {
      const sec = s.time / NS_PER_SECOND;
      const nsec = s.time - sec * NS_PER_SECOND;
      lines.push(
        [
          `${sec}.${nsec.toString().padStart(9, "0")}`,
          ...[-s.offset, -s.origOffset, s.peerDelay, s.peerDispersion, s.rootDelay].map(exp6),
          exp6(s.rootDispersion),
        ].join(" "),
      );
    }
    return lines.join("\n") + "\n";
  }

  /**
   * Replaces the samples with the lines of a dump made by {@link dump} (or chronyd 4.3's
   * SST_LoadFromFile input), at cooked time `now`, with the stratum and leap status of the
   * source's dump header, and runs the regression. Refuses (false, nothing kept) what
   * chrony refuses: a count outside 1..64, a sample from the future or more than ~68 years
   * off, values of 10^6 s or more, samples out of order.
   */
  restore(lines: readonly string[], now: Instant, stratum: number, leap: LeapStatus): boolean {
    this.reset();
    const head = (lines[0] ?? "").trim().split(/\s+/);
    const count = parseDecimal(head[0]);
    const run = parseDecimal(head[1]);
    if (head.length !== 2 || count === null || run === null) return false;
    if (count < 1 || count > MAX_SAMPLES || lines.length < count + 1) return false;
    const samples: StoredSample[] = [];
    for (let i = 1; i <= count; i++) {
      const w = lines[i].trim().split(/\s+/);
      const time = parseDumpTime(w[0]);
      const nums = w.slice(1).map(Number);
      if (w.length !== 7 || time === null || nums.some((v) => !Number.isFinite(v))) return false;
      if (time > now || Math.abs(secondsBetween(now, time)) > MAX_DUMP_AGE) return false;
      if (nums.slice(2).some((v) => Math.abs(v) >= 1e6) || Math.abs(nums[0]) > MAX_DUMP_AGE) {
        return false;
      }
      if (samples.length > 0 && samples[samples.length - 1].time >= time) return false;
      samples.push({
        time,
        offset: -nums[0],
        origOffset: -nums[1],
        peerDelay: nums[2],
        peerDispersion: nums[3],
        rootDelay: nums[4],
        rootDispersion: nums[5],
      });
    }
    this.#samples = samples;
    this.#stratum = stratum;
    this.#leap = leap;
    this.#asymmetryRun = clamp(run, -MAX_ASYMMETRY_RUN, MAX_ASYMMETRY_RUN);
    this.regress();
    return true;
  }

  /** The numeric fields of chronyc `sourcestats` for this source at `now`. */
  report(now: Instant): Omit<SourceStatsReport, "id" | "refId" | "address"> {
    const window = this.#window();
    const n = window.length;
    let spanSeconds = 0;
    let estimatedOffset = 0;
    let estimatedOffsetError = 0;
    if (n > 1) {
      const last = window[n - 1];
      spanSeconds = Math.floor(secondsBetween(last.time, window[0].time) + 0.5);
      if (n > 3) {
        const best = this.#best()!;
        const elapsed = secondsBetween(now, this.#offsetTime);
        const sampleElapsed = secondsBetween(now, best.time);
        estimatedOffset = this.#estimatedOffset + elapsed * this.#frequency;
        estimatedOffsetError = this.#estimatedOffsetSd + sampleElapsed * this.#skew +
          (0.5 * best.rootDelay + best.rootDispersion);
      } else {
        estimatedOffset = last.offset;
        estimatedOffsetError = 0.5 * last.rootDelay + last.rootDispersion;
      }
    }
    return {
      samples: n,
      runs: this.#runs,
      spanSeconds,
      stdDev: this.#stdDev,
      residualFreqPpm: this.#frequency * 1e6,
      skewPpm: this.#skew * 1e6,
      estimatedOffset,
      estimatedOffsetError,
      offsetSd: this.#regressionOk ? this.#estimatedOffsetSd : 0,
      asymmetry: this.#asymmetry,
      ...this.#lastRegression === null ? {} : {
        stress: this.#lastRegression.stress,
        bestStart: this.#lastRegression.bestStart,
        regressionSamples: this.#lastRegression.samples,
      },
    };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** chrony's "%.6e". */
function exp6(v: number): string {
  const [m, e] = v.toExponential(6).split("e");
  const n = Number(e);
  return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
}

/** chrony's sanity bound on a time offset (UTI_IsTimeOffsetSane): about 68 years. */
const MAX_DUMP_AGE = 2 ** 31;

/** "SEC.NSEC" (chrony's UTI_TimespecToString) as an instant, or null. */
function parseDumpTime(text: string | undefined): Instant | null {
  const m = /^(\d{1,12})\.(\d{1,9})$/.exec(text ?? "");
  if (m === null) return null;
  return BigInt(m[1]) * NS_PER_SECOND + BigInt(m[2].padEnd(9, "0"));
}

/** A whole decimal number, or null. */
function parseDecimal(text: string | undefined): number | null {
  if (text === undefined || !/^\s*[+-]?\d+\s*$/.test(text)) return null;
  return Number(text.trim());
}
