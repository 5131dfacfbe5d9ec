/**
 * The `filter N` option: N good samples in, the one with the median offset out (a simple
 * form of chrony's sample filter).
 *
 * @module
 */
import { adjustForClockChange, type ClockChangeEvent, type NtpSample } from "../types.ts";

/** Collects samples and releases their median every `size` samples. */
export class MedianFilter {
  #samples: NtpSample[] = [];

  /** Adds a sample; returns the median once `size` (> 1) are collected, else null. */
  add(sample: NtpSample, size: number): NtpSample | null {
    this.#samples.push(sample);
    if (this.#samples.length < size) return null;
    const sorted = [...this.#samples].sort((a, b) => a.offset - b.offset);
    this.#samples = [];
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  /** Drops the collected samples. */
  clear(): void {
    this.#samples = [];
  }

  /** Moves the collected samples onto the new clock scale (drops them on an unknown step). */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.clear();
      return;
    }
    for (const s of this.#samples) {
      const { instant, shift } = adjustForClockChange(s.time, change);
      s.time = instant;
      s.offset -= shift;
    }
  }
}
