/**
 * What the reference (src/core/reference.ts) is built with, takes and answers.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { LocalClock } from "./local_clock.ts";
import type { ClockDriver, LogPort, TimerPort } from "../base/ports.ts";
import type { LeapStatus } from "./reports.ts";
import type { TrackingData } from "./types.ts";

/**
 * One estimate handed to the reference by selection (chrony REF_SetReference arguments): the
 * combined tracking data, with the selected source's identity.
 */
export interface ReferenceUpdate extends TrackingData {
  /** Stratum of the selected source (we become stratum + 1). */
  stratum: number;
  /** The sources' leap vote. */
  leap: LeapStatus;
  /** Number of combined sources. */
  combinedCount: number;
  /** Reference ID of the selected source. */
  refId: number;
  /** Address of the selected source, or null. */
  refAddress: string | null;
}

/** What an update did. */
export type ReferenceOutcome = "slewed" | "stepped" | "ignored";

/** The part of Config the reference uses. */
export type ReferenceConfig = Pick<
  Config,
  | "makeStep"
  | "maxChange"
  | "maxUpdateSkew"
  | "corrTimeRatio"
  | "maxClockError"
  | "fallbackDrift"
  | "leapSecMode"
  | "local"
  | "rtcSync"
  | "driftFileInterval"
  | "logChange"
>;

/** Dependencies of the reference. */
export interface ReferenceDeps {
  /** The disciplined clock. */
  clock: LocalClock;
  /** The driver, for leap and kernel sync status. */
  driver: ClockDriver;
  /** Timers (leap seconds, fallback drifts). */
  timers: TimerPort;
  /** Log lines. */
  log: LogPort;
}
