/**
 * The one-shot controller (chronyd -q/-Q, ntpd-rs force_sync): the engine's own sources and
 * selection run with iburst until the first combined estimate, which is printed or applied
 * once; or until no source can give one any more.
 *
 * @module
 */
import type { LocalClock } from "../local_clock.ts";
import type { LogPort } from "../../base/ports.ts";
import type { Source } from "../source/source.ts";

/** Result of a one-shot measurement (`tempus sync`, daemon -q/-Q). */
export interface OneShotResult {
  /** Offset measured, seconds (> 0: the clock was behind). */
  offset: number;
  /** Residual frequency measured, ppm (tempus sense). */
  freqPpm: number;
  /** Address of the selected source. */
  source: string | null;
  /** What was done with it. */
  action: "step" | "slew" | "print";
}

/** One-shot mode: report the first estimate and (for -q) correct the clock with it. */
export interface OneShotOptions {
  /** step (-q, chronyd default), slew, or print only (-Q). */
  action: "step" | "slew" | "print";
  /** Receives the first estimate; the engine stops polling afterwards. */
  onResult: (result: OneShotResult) => void;
  /**
   * Called (once, polling stopped) when no source can give an estimate any more: every
   * source has used up its initial burst without enough samples (chrony "No suitable
   * source for synchronisation").
   */
  onFailure?: (reason: string) => void;
}

/** Samples selection needs from one source within its initial burst (chrony). */
const NEEDED_SAMPLES = 3;
/** Reachability bits after which a source's initial burst counts as used up. */
const BURST_POLLS = 7;

/** Decides when a one-shot run is over and applies its result. */
export class OneShotController {
  readonly #options: OneShotOptions;
  #done = false;

  /** A controller for one run. */
  constructor(options: OneShotOptions) {
    this.#options = options;
  }

  /** True once a result or a failure was reported. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Ends the run without a result when no source could still collect the samples selection
   * needs within its initial burst of 8 requests (chrony special_mode_end): logs, calls
   * `stopAll` and reports the failure. `counted` gives the sample count of the source whose
   * reply is being processed as it was before the reply (chrony checks before accumulating).
   */
  checkEnd(
    sources: Iterable<Source>,
    counted: { id: number; samples: number },
    log: LogPort,
    stopAll: () => void,
  ): void {
    if (this.#done) return;
    for (const s of sources) {
      if (s.denied || s.mode === "offline") continue;
      if (s.reachabilitySize >= BURST_POLLS) continue;
      const samples = s.id === counted.id ? counted.samples : s.stats.sampleCount;
      if (BURST_POLLS - s.reachabilitySize + samples >= NEEDED_SAMPLES) return;
    }
    this.#done = true;
    const reason = "No suitable source for synchronisation";
    log.log("warning", reason);
    stopAll();
    this.#options.onFailure?.(reason);
  }

  /**
   * Applies the first estimate (offset now and residual frequency) as asked, calls `stopAll`
   * and reports the result; nothing when the run had already ended.
   */
  finish(
    clock: LocalClock,
    log: LogPort,
    stopAll: () => void,
    estimate: { offset: number; freqPpm: number; source: string },
  ): void {
    if (this.#done) return;
    const { offset, freqPpm, source } = estimate;
    this.#done = true;
    const action = this.#options.action;
    const verb = action === "print" ? "ignored" : action;
    log.log("info", `System clock wrong by ${offset.toFixed(6)} seconds (${verb})`);
    if (action === "step") {
      clock.accumulateFrequencyAndOffset(freqPpm, 0, 0);
      clock.step(offset);
    } else if (action === "slew") {
      clock.accumulateFrequencyAndOffset(freqPpm, offset, 0);
    }
    stopAll();
    this.#options.onResult({ offset, freqPpm, source, action });
  }
}
