/**
 * A `LogPort` that keeps what the engine says during a simulation: every line (up to a
 * cap) stamped with the simulated second, and counters for chosen substrings such as
 * "Selected source", "no majority", "no selectable sources".
 *
 * @module
 */
import type { LogLevel, LogPort } from "../base/ports.ts";

/** One captured log line. */
export interface CapturedLine {
  /** Simulated second when it was logged. */
  t: number;
  /** Level. */
  level: LogLevel;
  /** Message text. */
  message: string;
}

/** Captures engine log lines with the simulated time. */
export class LogCapture implements LogPort {
  /** Captured lines (the first `maxLines`). */
  readonly lines: CapturedLine[] = [];
  /** Count of lines containing each watched substring. */
  readonly counts: Map<string, number> = new Map();
  /** Total lines logged. */
  total = 0;
  readonly #now: () => number;
  readonly #maxLines: number;
  readonly #echo: boolean;

  /**
   * `now` gives the simulated second; `watch` lists substrings to count; `echo` also prints
   * lines through `console.log` (for debugging scenarios by hand).
   */
  constructor(now: () => number, watch: string[], maxLines = 5000, echo = false) {
    this.#now = now;
    this.#maxLines = maxLines;
    this.#echo = echo;
    for (const w of watch) this.counts.set(w, 0);
  }

  /** Records one line. */
  log(level: LogLevel, message: string): void {
    this.total++;
    const t = this.#now();
    if (this.lines.length < this.#maxLines) this.lines.push({ t, level, message });
    for (const [w, n] of this.counts) {
      if (message.includes(w)) this.counts.set(w, n + 1);
    }
    if (this.#echo) console.log(`[${t.toFixed(3)}] ${level}: ${message}`);
  }

  /** Number of lines containing `substring` (watched or not, over the captured lines). */
  count(substring: string): number {
    const watched = this.counts.get(substring);
    if (watched !== undefined) return watched;
    return this.lines.filter((l) => l.message.includes(substring)).length;
  }
}
