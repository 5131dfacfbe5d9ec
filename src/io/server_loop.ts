/**
 * What the NTP server's per-socket loops share, whichever the backend: the bound socket,
 * the loop's state, binding the configured hosts and the size of the receive buffer.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import type { NtpResponder } from "../core/server.ts";

/** Largest datagram read; longer ones are truncated by the kernel (and then rejected). */
export const MAX_REQUEST_LENGTH = 4096;

/** One bound socket of either backend. */
export interface BoundSocket {
  /** Bound address. */
  hostname: string;
  /** Bound port. */
  port: number;
  /** Closes the socket (its loop then ends). */
  close(): void;
  /** Sends a datagram: null when it went out, else why not. */
  send(data: Uint8Array, address: string, port: number): Promise<string | null>;
}

/** One socket and the loop serving it. */
export interface SocketLoop {
  /** The socket. */
  socket: BoundSocket;
  /** The socket's responder (with its reused reply buffer and counters). */
  responder: NtpResponder;
  /** Cooked time now, on the server's clock. */
  readCookedTime: () => Instant;
  /** Settles when the loop has ended. */
  done: Promise<void>;
  /** Set by close(): the loop stops. */
  closed: boolean;
}

/** The bound address of a socket, or null for a wildcard one. */
export function specificAddress(hostname: string): string | null {
  return hostname === "::" || hostname === "0.0.0.0" || hostname === "" ? null : hostname;
}

/** Binds every host with `bind`; empty hosts: "::" then "0.0.0.0". Closes all on failure. */
export function bindAll<T extends { close(): void }>(
  hosts: readonly string[],
  bind: (host: string) => T,
): T[] {
  const out: T[] = [];
  try {
    if (hosts.length === 0) {
      try {
        out.push(bind("::"));
      } catch {
        out.push(bind("0.0.0.0"));
      }
    } else {
      for (const host of hosts) out.push(bind(host));
    }
  } catch (e) {
    for (const c of out) c.close();
    throw e;
  }
  return out;
}
