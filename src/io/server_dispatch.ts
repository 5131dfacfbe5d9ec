/**
 * What the NTP server does with one received datagram, whichever the socket backend: mode 6
 * goes to the control responder (ntpq), symmetric packets of configured peers to the peers,
 * broadcasts to the broadcast client routing, everything else to the pure responder
 * (src/core/server.ts). Never throws.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import type { NtpResponder, ServerPolicy } from "../core/server.ts";
import type { ReferenceState } from "../core/types.ts";
import type { TimeScale } from "./kernel_timestamps.ts";

/** What the server needs from the daemon. */
export interface NtpServerDeps {
  /**
   * The cooked clock (the engine's `LocalClock`): receive times are cooked onto it, and the
   * transmit time is read from it as late as possible.
   */
  clock: TimeScale;
  /** The current reference state (called once per request). */
  reference: () => ReferenceState;
  /** Access table and client log shared by all sockets. */
  policy: ServerPolicy;
  /** Log port (errors only; nothing is logged per packet). */
  log: LogPort;
  /**
   * Broadcasts (mode 5) go here instead of the responder (a copy of the datagram, its
   * sender and cooked receive time): the broadcast client routing. Absent: ignored.
   */
  onBroadcast?: (data: Uint8Array, from: { address: string; port: number }, rx: Instant) => void;
  /**
   * Mode 6 (ntpq) answers: the fragments to send for a mode 6 datagram (empty: none).
   * Absent: mode 6 is ignored like mode 7.
   */
  control?: (request: Uint8Array, from: { address: string }, rxTime: Instant) => Uint8Array[];
  /**
   * Symmetric associations (normally the engine's `receivePeerPacket`): a mode 1 or 2
   * datagram is offered here first and, when a configured peer took it, not answered by the
   * responder. Unknown senders' mode 1 packets go on to the responder (a stateless mode 2
   * answer where the access rules allow).
   */
  peers?: PeerPacketSink;
}

/** Where packets of symmetric peers go. */
export interface PeerPacketSink {
  /**
   * Takes a packet from `from` received at cooked `rx` on a socket bound to `localAddress`
   * (null: a wildcard socket); false when no peer is configured there.
   */
  receive(
    from: { address: string; port: number },
    data: Uint8Array,
    rx: Instant,
    localAddress: string | null,
  ): boolean;
  /** A peer has xleave: kernel transmit timestamps of its packets go to `transmitted`. */
  interleaved?: boolean;
  /** The kernel's transmit time of a mode 1 packet sent from the NTP port. */
  transmitted?(payload: Uint8Array, tx: Instant): void;
}

/** One received datagram, as a loop hands it to {@link dispatchDatagram}. */
export interface Datagram {
  /** The datagram's octets (valid until the next receive). */
  data: Uint8Array;
  /** Its sender. */
  from: { address: string; port: number };
  /** Its cooked receive time. */
  rx: Instant;
  /** The receiving socket's address, or null for a wildcard socket. */
  localAddress: string | null;
}

/**
 * Handles one datagram and says what to send back to its sender: a reply, the fragments
 * of a mode 6 answer (an array, possibly empty), or null for nothing (taken by a peer or
 * the broadcast routing, or not answered). `reference` is called once for a datagram that
 * is neither mode 6 nor a peer's; `readTxTime` is the responder's clock for the transmit time. Never throws.
 */
export function dispatchDatagram(
  responder: NtpResponder,
  d: Datagram,
  deps: NtpServerDeps,
  reference: () => ReferenceState,
  readTxTime: () => Instant,
): Uint8Array | Uint8Array[] | null {
  const data = d.data;
  if (deps.control && data.length > 0 && (data[0] & 7) === 6) {
    return control(data, d.from, d.rx, deps);
  }
  if (
    deps.peers !== undefined && isSymmetric(data) &&
    deps.peers.receive(d.from, data, d.rx, d.localAddress)
  ) return null;
  return answer(responder, data, d.from, d.rx, reference, deps, readTxTime);
}

/** True for a datagram in symmetric active or passive mode (the peers' packets). */
function isSymmetric(data: Uint8Array): boolean {
  const mode = data.length >= 48 ? data[0] & 7 : 0;
  return mode === 1 || mode === 2;
}

/** Routes a broadcast or answers one datagram; never throws. */
function answer(
  responder: NtpResponder,
  data: Uint8Array,
  from: { address: string; port: number },
  rxTime: Instant,
  reference: () => ReferenceState,
  deps: NtpServerDeps,
  readTxTime: () => Instant,
): Uint8Array | null {
  const ref = reference();
  if (deps.onBroadcast !== undefined && data.length >= 48 && (data[0] & 7) === 5) {
    try {
      deps.onBroadcast(data.slice(), { address: from.address, port: from.port }, rxTime);
    } catch (e) {
      deps.log.log("error", `Broadcast not processed: ${String(e)}`);
    }
    return null;
  }
  try {
    return responder.respond(data, from, rxTime, ref, readTxTime);
  } catch (e) {
    // The responder never throws on input; this guards the loop against bugs.
    deps.log.log("error", `NTP responder failed: ${String(e)}`);
    return null;
  }
}

/** Answers one mode 6 datagram (`deps.control` is set); never throws. */
function control(
  data: Uint8Array,
  from: { address: string },
  rxTime: Instant,
  deps: NtpServerDeps,
): Uint8Array[] {
  try {
    return deps.control?.(data, from, rxTime) ?? [];
  } catch (e) {
    deps.log.log("error", `mode 6 responder failed: ${String(e)}`);
    return [];
  }
}
