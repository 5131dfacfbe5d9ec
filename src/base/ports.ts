/**
 * The ports through which the sans-IO engine sees the world. The daemon plugs in real
 * adapters (src/clock, src/io); the simulator plugs in virtual ones (src/sim). Nothing in
 * src/core may call Deno.*, Date.now, setTimeout or Math.random: it uses these instead.
 *
 * @module
 */
import type { Instant } from "./time.ts";

/** Leap-second state handed to a clock driver. */
export type LeapAction = "none" | "insert" | "delete";

/**
 * A system clock driver: the thin OS edge, holding no policy (chrony's sys_* drivers minus
 * the offset register, which lives in core/local_clock.ts).
 *
 * Frequencies are in the tempus sense: ppm > 0 makes the clock run faster.
 */
export interface ClockDriver {
  /** Short name for logs and reports ("linux", "null", "sim"). */
  readonly name: string;
  /** Largest |frequency| in ppm the driver can set (about 100 000 on Linux with tick+freq). */
  readonly maxFrequencyPpm: number;
  /** The raw system clock now: what the kernel (or simulated clock) says, no correction. */
  readRawTime(): Instant;
  /**
   * The raw clock's reading at the CLOCK_REALTIME instant `realtime` (a device's or the
   * kernel's timestamp). Absent: the raw clock is CLOCK_REALTIME itself.
   */
  rawFromRealtime?(realtime: Instant): Instant;
  /** The frequency correction currently applied, ppm (> 0 = running faster). */
  readFrequencyPpm(): number;
  /** Sets the frequency correction; returns the value actually applied (quantised/clamped). */
  setFrequencyPpm(ppm: number): number;
  /** Steps the clock: the clock's reading increases by `deltaSeconds` (negative = back). */
  stepBy(deltaSeconds: number): void;
  /**
   * False when the driver cannot make the kernel insert/delete a leap second itself (the
   * null driver); `leapsecmode system` then falls back to stepping, as chrony does.
   * Absent means true.
   */
  readonly canSystemLeap?: boolean;
  /** Arms or clears a leap second at the end of the current UTC day. */
  setLeap(action: LeapAction, taiOffset?: number): void;
  /** Reports sync status, estimated and maximum error to the kernel (adjtimex). */
  setSyncStatus(synchronised: boolean, estErrorSeconds: number, maxErrorSeconds: number): void;
}

/** An opaque handle for a pending timer. */
export type TimerHandle = number;

/** Timers in local-clock seconds. The daemon uses real timers; the simulator virtual ones. */
export interface TimerPort {
  /** Calls `callback` once after `delaySeconds` (>= 0). */
  setTimer(delaySeconds: number, callback: () => void): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  cancelTimer(handle: TimerHandle): void;
}

/** A source of randomness (seeded in the simulator, crypto in the daemon). */
export interface RandomPort {
  /** A uniform number in [0, 1). */
  next(): number;
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warning" | "error";

/** Where the engine's log lines go. */
export interface LogPort {
  /** Writes one line at a level; `fields` carries structured data when useful. */
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/** A network address: IPv4/IPv6 literal plus UDP port. */
export interface SocketAddress {
  /** IP literal ("192.0.2.1", "::1"). */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
}

/**
 * Sending NTP requests for a client source. The adapter opens a fresh socket with a random
 * source port per request (RFC 9109) and hands the reply back through
 * `NtpClientEngine.receiveReply` with the cooked receive time taken at once.
 */
export interface NtpTransport {
  /**
   * Sends `packet` to `to` for request `requestId`. Returns false if sending failed at once
   * (no route, socket error); the engine treats that like a lost packet (and auto_offline).
   */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean;
}

/** A do-nothing logger for tests. */
export const silentLog: LogPort = { log() {} };
