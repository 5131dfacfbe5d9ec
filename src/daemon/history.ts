/**
 * A running daemon's recent history for `tempus plot --url`: clock updates and per-source
 * samples, taken once a second from the reports (`tracking`, `sources`, `ntpdata`) into
 * bounded rings, in the shape the log parser gives (io/log_parse.ts), so the plot draws a
 * live daemon exactly as it draws its logs.
 *
 * @module
 */
import type { EngineControl } from "../core/control.ts";
import type { MeasurementEntry, TrackingEntry } from "../io/log_parse.ts";

/** What /history serves. */
export interface HistoryData {
  /** Clock updates, oldest first. */
  tracking: TrackingEntry[];
  /** Samples, oldest first. */
  measurements: MeasurementEntry[];
}

const LEAP_CHARS = ["N", "+", "-", "?"];

/** Bounded rings filled by `sample()`. */
export class History {
  readonly #tracking: TrackingEntry[] = [];
  readonly #measurements: MeasurementEntry[] = [];
  readonly #capacity: number;
  #lastRefTime = 0n;
  readonly #counts = new Map<string, { rx: number; good: number }>();

  /** Keeps at most `capacity` entries of each kind (default 20 000, a few MB). */
  constructor(capacity = 20_000) {
    this.#capacity = capacity;
  }

  #push<T>(ring: T[], item: T): void {
    ring.push(item);
    if (ring.length > this.#capacity) ring.splice(0, ring.length - this.#capacity);
  }

  /** Takes what changed since the last call; `nowSeconds` is Unix time. */
  sample(control: EngineControl, nowSeconds: number): void {
    const t = control.tracking();
    if (t.refTime !== 0n && t.refTime !== this.#lastRefTime) {
      this.#lastRefTime = t.refTime;
      this.#push(this.#tracking, {
        t: Number(t.refTime) / 1e9,
        reference: t.refAddress ?? "",
        stratum: t.stratum,
        freqPpm: -t.freqPpm, // chrony's sense, as tracking.log
        skewPpm: t.skewPpm,
        offset: t.lastOffset,
        leap: LEAP_CHARS[t.leapStatus] ?? "?",
        rootDelay: t.rootDelay,
        rootDispersion: t.rootDispersion,
        maxError: t.rootDelay / 2 + t.rootDispersion + Math.abs(t.lastOffset),
      });
    }
    for (const s of control.sources()) {
      const d = control.ntpData(s.address);
      if (d === null) continue;
      const before = this.#counts.get(s.address);
      this.#counts.set(s.address, { rx: d.totalValidRx, good: d.totalGoodRx });
      if (before === undefined || d.totalValidRx <= before.rx) continue;
      this.#push(this.#measurements, {
        t: nowSeconds - (s.sinceSample ?? 0),
        source: s.address,
        offset: d.offset,
        delay: d.peerDelay,
        valid: d.totalGoodRx > before.good,
        poll: s.poll,
      });
    }
  }

  /** A copy of the rings. */
  data(): HistoryData {
    return { tracking: [...this.#tracking], measurements: [...this.#measurements] };
  }
}
