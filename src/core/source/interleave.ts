/**
 * The client side of interleaved mode (RFC 9769; chrony's `xleave`), pure: how an
 * interleaved request is formed and which four timestamps an interleaved reply's sample is
 * made of.
 *
 * The exchange: a server that saves transmit times (src/core/serve/tx_timestamps.ts) marks
 * its receive timestamps with a low bit of 1. The client's next request carries, as its
 * origin, the receive timestamp of the previous reply, and a random receive field (which
 * differs from its random transmit field, the basic cookie). A server that recognises the
 * origin answers with origin = that receive field and transmit = the time its previous
 * reply really left (the kernel's timestamp, taken after sending); any other server echoes
 * the transmit field as in basic mode, so the client falls back by itself.
 *
 * The sample of an interleaved reply (chrony's choice of timestamps):
 * - normally the whole previous exchange: T1 = previous request's local transmit time,
 *   T2 = previous reply's receive timestamp, T3 = this reply's transmit timestamp (the
 *   previous reply's true departure), T4 = previous reply's local receive time; allowed
 *   only when the previous reply was interleaved too (after a basic reply, that exchange
 *   was already a sample of its own, made with the late transmit time);
 * - when the gap from the previous reply to this request is short compared with the
 *   previous exchange (fast polling over a slow path), the current request and the
 *   previous reply: T1 = this request, T2 = this reply's receive timestamp, T3, T4 as above.
 * Symmetric peers pair their packets differently and do not use this module's selection;
 * they may use {@link interleavedRequestFields} for their own requests' fields.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import type { ClockChangeEvent } from "../types.ts";
import { adjustForClockChange } from "../types.ts";
import { ntp64ToInstant } from "../../ntp/timestamp.ts";
import type { NtpPacket } from "../../ntp/packet.ts";

/** Requests sent without a valid reply after which a client stops interleaving (chrony). */
export const MAX_CLIENT_INTERLEAVED_TX = 4;

/**
 * The previous exchange's interval must exceed the gap to this request by this ratio for
 * the current request to be paired with the previous reply (chrony MAX_INTERLEAVED_L2L_RATIO).
 */
export const MAX_INTERLEAVED_L2L_RATIO = 0.1;

/** What the client keeps of its last valid exchange. */
export interface PreviousExchange {
  /** The reply's receive timestamp (raw 64 bits): the origin of the next request. */
  remoteRx: bigint;
  /** The reply's transmit timestamp (raw 64 bits). */
  remoteTx: bigint;
  /** Local (cooked) receive time of the reply. */
  localRx: Instant;
  /**
   * Local transmit time of the request that reply answered, when the reply was interleaved
   * (null after a basic reply: that exchange already gave its sample).
   */
  localTx: Instant | null;
  /** The reply's root delay and dispersion, seconds. */
  rootDelay: number;
  /** See rootDelay. */
  rootDispersion: number;
  /** The reply passed tests 6 and 7 (its timestamps may be used). */
  synced: boolean;
}

/** The interleaved fields of one request. */
export interface InterleavedRequest {
  /** The origin sent: the receive timestamp of the reply it follows. */
  origin: bigint;
  /** The random receive field sent, which an interleaved reply echoes as its origin. */
  receiveCookie: bigint;
}

/** Reads 8 octets as a 64-bit value. */
function octets64(b: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
}

/**
 * The origin and receive fields of an interleaved request following `previous`, from 8
 * random octets; the receive field is never zero and never equal to `transmitCookie` (a
 * server takes equal fields as a basic request).
 */
export function interleavedRequestFields(
  previous: Pick<PreviousExchange, "remoteRx">,
  random8: Uint8Array,
  transmitCookie: bigint,
): InterleavedRequest {
  let receiveCookie = octets64(random8, 0);
  if (receiveCookie === 0n || receiveCookie === transmitCookie) receiveCookie ^= 0x5a5a_5a5an;
  if (receiveCookie === 0n) receiveCookie = 1n;
  return { origin: previous.remoteRx, receiveCookie };
}

/** The four timestamps and the server's figures of an interleaved sample. */
export interface InterleavedTimestamps {
  /** Local transmit time of the request measured. */
  t1: Instant;
  /** Server receive time of that request. */
  t2: Instant;
  /** Server transmit time of the reply measured (the previous reply's true departure). */
  t3: Instant;
  /** Local receive time of that reply. */
  t4: Instant;
  /** Server processing time of the previous exchange (T3 - its T2), seconds. */
  responseTime: number;
  /** Root delay and dispersion to use, seconds. */
  rootDelay: number;
  /** See rootDelay. */
  rootDispersion: number;
  /**
   * Null when the sample may be used; otherwise why not: "after-basic" (the previous reply
   * was basic: its exchange was already a sample), "unsynchronised" (its timestamps failed
   * tests 6/7), "stale" (the origin sent does not name the previous reply kept).
   */
  unusable: "after-basic" | "unsynchronised" | "stale" | null;
}

/** The packet fields an interleaved sample is measured with. */
export type InterleavedPacket = Pick<
  NtpPacket,
  "receiveTime" | "transmitTime" | "rootDelay" | "rootDispersion"
>;

/**
 * The four timestamps and root figures of interleaved packet `pkt` (received at `rx`) after
 * `previous`, for client and symmetric mode alike: T3 is the previous packet's departure and
 * T4 its arrival; T1 and T2 the previous exchange's when the newest request sent at
 * `localTx` would make the local interval much longer (MAX_INTERLEAVED_L2L_RATIO), else the
 * newest request's.
 */
export function interleavedPairing(
  pkt: InterleavedPacket,
  rx: Instant,
  localTx: Instant,
  previous: PreviousExchange,
): Omit<InterleavedTimestamps, "responseTime" | "unusable"> {
  const t3 = ntp64ToInstant(pkt.transmitTime, rx);
  const t4 = previous.localRx;
  const prevT1 = previous.localTx;
  if (prevT1 !== null && MAX_INTERLEAVED_L2L_RATIO * Number(localTx - t4) > Number(t4 - prevT1)) {
    return {
      t1: prevT1,
      t2: ntp64ToInstant(previous.remoteRx, rx),
      t3,
      t4,
      rootDelay: previous.rootDelay,
      rootDispersion: previous.rootDispersion,
    };
  }
  return {
    t1: localTx,
    t2: ntp64ToInstant(pkt.receiveTime, rx),
    t3,
    t4,
    rootDelay: Math.max(pkt.rootDelay, previous.rootDelay),
    rootDispersion: Math.max(pkt.rootDispersion, previous.rootDispersion),
  };
}

/**
 * Chooses the timestamps of the sample of interleaved reply `pkt` (received at `rx`) to a
 * request sent at `localTx` with fields `request`, after `previous`.
 */
export function interleavedTimestamps(
  pkt: InterleavedPacket,
  rx: Instant,
  localTx: Instant,
  request: InterleavedRequest,
  previous: PreviousExchange,
): InterleavedTimestamps {
  const times = interleavedPairing(pkt, rx, localTx, previous);
  const responseTime = Number(times.t3 - ntp64ToInstant(previous.remoteRx, rx)) / 1e9;
  const unusable = previous.remoteRx !== request.origin
    ? "stale"
    : !previous.synced
    ? "unsynchronised"
    : previous.localTx === null
    ? "after-basic"
    : null;
  return { ...times, responseTime, unusable };
}

/** `previous` moved onto the new clock scale after a clock change. */
export function adjustPreviousExchange(
  previous: PreviousExchange,
  change: ClockChangeEvent,
): PreviousExchange {
  return {
    ...previous,
    localRx: adjustForClockChange(previous.localRx, change).instant,
    localTx: previous.localTx === null
      ? null
      : adjustForClockChange(previous.localTx, change).instant,
  };
}
