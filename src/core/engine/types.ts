/**
 * What an engine is built with and what it tells its listeners.
 *
 * @module
 */
import type { KeyStore } from "../../ntp/keyfile.ts";
import type { ClockDriver, LogPort, RandomPort, TimerPort } from "../../base/ports.ts";
import type { OneShotOptions } from "./one_shot.ts";

/** The ports an engine is built with (the transport comes with `start`). */
export interface EngineDeps {
  /** Clock driver. */
  driver: ClockDriver;
  /** Timers. */
  timers: TimerPort;
  /** Randomness. */
  random: RandomPort;
  /** Log lines. */
  log: LogPort;
}

/** Extra engine options. */
export interface EngineOptions {
  /** One-shot mode (null: continuous). */
  oneShot?: OneShotOptions | null;
  /** Measures the clock precision (seconds) when config.clockPrecision is null. */
  measurePrecision?: () => number;
  /**
   * Reference ID of our own address as the other orphan-mode servers see it (the IPv4
   * address, or the MD5-derived ID for IPv6). With `local ... orphan`, an orphan source is
   * followed only if its ID is smaller; without it we never follow orphans.
   */
  localRefId?: number;
  /**
   * Symmetric keys from the keyfile, for sources with the `key` option (absent: none; such a
   * source then logs an error and sends nothing).
   */
  keys?: KeyStore | null;
  /** LocalClock's `slewTimerMargin` (the daemon's real timers; default 0). */
  slewTimerMargin?: number;
}

/** What the reference update told its listener (for tracking logs). */
export interface ReferenceUpdate {
  /** Offset applied, seconds. */
  offset: number;
  /** Its standard deviation, seconds. */
  offsetSd: number;
  /** Sources combined. */
  combinedCount: number;
  /** Correction still being slewed just before this update (tracking.log "Rem. corr."). */
  remainingBefore: number;
}
