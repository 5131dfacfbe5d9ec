/**
 * The I/O counters of the NTP server edge (send and receive failures, kernel receive
 * timestamps) and the rule for logging failures without flooding the log.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { ResponderStats } from "../core/server.ts";

/** Responder counters plus I/O counters of the edge. */
export interface NtpServerStats extends ResponderStats {
  /** sendto/send failures. */
  sendErrors: number;
  /** receive failures (other than "nothing to read"). */
  receiveErrors: number;
  /** Requests timestamped by the kernel. */
  kernelRxTimestamps: number;
}

/** The I/O counters shared by all sockets of one server. */
export type IoCounters = { sendErrors: number; receiveErrors: number; kernelRxTimestamps: number };

/** Fresh I/O counters, all zero. */
export function emptyIoCounters(): IoCounters {
  return { sendErrors: 0, receiveErrors: 0, kernelRxTimestamps: 0 };
}

/** Counts an I/O error; logs the first and every 1000th of a kind (never per packet). */
export function countError(
  io: IoCounters,
  kind: "sendErrors" | "receiveErrors",
  e: unknown,
  log: LogPort,
): void {
  io[kind]++;
  if (io[kind] === 1 || io[kind] % 1000 === 0) {
    log.log("warning", `NTP server ${kind === "sendErrors" ? "send" : "receive"} error: ${e}`, {
      count: io[kind],
    });
  }
}
