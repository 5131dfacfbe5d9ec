/**
 * When the daemon's client transport sends a request, starts waiting for its reply and
 * prepares the socket of the next one: timing policy, kept out of the socket edge
 * (src/io/kernel_client_transport.ts), which only executes it.
 *
 * Why (measured, docs/realtime.md): Linux wakes the receiver of a loopback or veth datagram
 * on the sender's CPU, so a sender that keeps working right after sendto delays the
 * forwarding of its own request (through a user-space relay: up-direction median 1.6 ms
 * against chronyd's 0.8 ms, a 0.4 ms offset bias). So with kernel transmit timestamps the
 * request leaves at the end of the engine's turn, the process then goes idle: the reply
 * wait starts `idleAfterSendMs` later (the reply waits in the socket with its kernel
 * timestamp) and the next spare socket is opened `spareRefillMs` later. Requests to one
 * server closer than `frequentSendMs` (sub-second polling, bursts) skip the idle delay,
 * since their replies must be processed before the next request goes out. Starting the
 * reply wait before sending was tried: its thread wake-up made it worse (1.28 ms).
 *
 * A new request to a server ends the wait for replies to the previous one (chrony closes
 * the previous client socket too).
 *
 * Pure.
 *
 * @module
 */

/** The transport's timing rules. */
export interface ClientSendTiming {
  /** Milliseconds the process stays idle after a request left before it waits for the reply. */
  idleAfterSendMs: number;
  /** Requests to one server closer than this (ms) are waited for without the idle delay. */
  frequentSendMs: number;
  /** Milliseconds after a send before the next spare socket is opened. */
  spareRefillMs: number;
  /** A new request to a server ends the wait for replies to the previous one. */
  endPreviousWait: boolean;
}

/** The daemon's timing (the figures of the module comment). */
export const DEFAULT_CLIENT_SEND_TIMING: Readonly<ClientSendTiming> = Object.freeze({
  idleAfterSendMs: 3,
  frequentSendMs: 100,
  spareRefillMs: 100,
  endPreviousWait: true,
});

/**
 * Milliseconds between a request leaving and the start of the wait for its reply, given the
 * milliseconds since the previous request to the same server (null: none known).
 */
export function replyWaitDelayMs(
  timing: ClientSendTiming,
  sincePreviousMs: number | null,
): number {
  const frequent = sincePreviousMs !== null && sincePreviousMs < timing.frequentSendMs;
  return frequent ? 0 : timing.idleAfterSendMs;
}

/**
 * Whether the record of a server's last request (sent `sinceMs` ago) still matters to a
 * later `replyWaitDelayMs` decision; older records may be forgotten.
 */
export function sendRecordMatters(timing: ClientSendTiming, sinceMs: number): boolean {
  return sinceMs < timing.frequentSendMs;
}
