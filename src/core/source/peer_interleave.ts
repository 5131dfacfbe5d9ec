/**
 * Interleaved symmetric mode (RFC 9769 for modes 1 and 2; chrony's `peer ... xleave`), pure:
 * when a peer's packet may be sent interleaved, what it carries, which four timestamps an
 * interleaved packet from the peer is measured with, and the per-association state this
 * needs besides `PeerTimestamps`.
 *
 * The exchange (chrony's ntp_core.c in MODE_ACTIVE): an interleaved packet carries, as
 * origin, the peer's receive timestamp of our previous packet, as receive our receive time
 * of the peer's last packet, and as transmit the time our previous packet really left (the
 * kernel's transmit timestamp when there is one). The peer recognises it by its origin,
 * which equals the receive field of the peer's newest packet (test 2 in interleaved form).
 * A packet is sent interleaved only when it is the first answer to the peer's last valid
 * packet and exactly one answer went to the one before (otherwise the peer could pair the
 * transmit timestamp with the wrong packet).
 *
 * The sample of an interleaved packet: T3 is the peer's previous packet's true departure
 * and T4 our receive time of it; T1, T2 are our newest packet and the peer's receive time
 * of it, or, when that makes the intervals much shorter (the previous exchange short next
 * to the gap before our newest packet), our previous packet and its receive time; three
 * extra checks (chrony's test A in symmetric interleaved mode) reject a sample whose delay
 * or remote intervals show that a packet went missing.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import { ntp64ToInstant } from "../../ntp/timestamp.ts";
import { adjustForClockChange, type ClockChangeEvent } from "../types.ts";
import {
  type InterleavedPacket,
  interleavedPairing,
  type InterleavedRequest,
  type InterleavedTimestamps,
  type PreviousExchange,
} from "./interleave.ts";
import type { EchoFields, PeerTimestamps } from "./peer_timestamps.ts";
import type { ReplyVerdict } from "./measure.ts";

/** Largest accepted delay of a kernel transmit timestamp after the daemon's, s (chrony). */
export const MAX_TX_DELAY = 1.0;

/** The polling intervals the symmetric checks compare, log2 s. */
export interface PeerPolls {
  /** The peer's polling interval as its newest valid packet announced it. */
  remotePoll: number;
  /** Our polling interval when that packet arrived. */
  prevLocalPoll: number;
}

/** The timestamps of a symmetric interleaved sample, and why it may not be used. */
export interface SymmetricInterleavedTimestamps extends Omit<InterleavedTimestamps, "unusable"> {
  /**
   * Null when usable; "unsynchronised": the previous packet's timestamps failed tests 6/7;
   * "missed-response": the peer's timestamps do not follow one another as they would
   * without a lost packet (receive not after transmit, or the remote transmit times more
   * than 1.5 polling intervals apart).
   */
  unusable: "unsynchronised" | "missed-response" | null;
  /** Largest delay consistent with no lost packet (half the previous polling interval), s. */
  maxDelay: number;
}

/** True when NTP timestamp `a` is earlier than or equal to `b` (era-wrapping). */
function ntpNotLater(a: bigint, b: bigint): boolean {
  return BigInt.asIntN(64, a - b) <= 0n;
}

/**
 * Chooses the timestamps of the sample of interleaved packet `pkt` (received at `rx`) from
 * the peer, answering our newest packet sent at `localTx`, after the peer's previous valid
 * packet `previous` (its `localTx`: our packet it answered, when that exchange may be
 * reused; its `remoteTx`: its transmit field).
 */
export function symmetricInterleavedTimestamps(
  pkt: InterleavedPacket,
  rx: Instant,
  localTx: Instant,
  previous: PreviousExchange,
  polls: PeerPolls,
): SymmetricInterleavedTimestamps {
  const times = interleavedPairing(pkt, rx, localTx, previous);
  const responseTime = Math.abs(Number(times.t3 - ntp64ToInstant(previous.remoteRx, rx)) / 1e9);
  const pollInterval = 2 ** Math.min(polls.remotePoll, polls.prevLocalPoll);
  const prevRemoteTx = ntp64ToInstant(previous.remoteTx, rx);
  const missed = ntpNotLater(pkt.receiveTime, pkt.transmitTime) ||
    (polls.remotePoll <= polls.prevLocalPoll &&
      Number(times.t3 - prevRemoteTx) / 1e9 > 1.5 * pollInterval);
  const unusable = !previous.synced ? "unsynchronised" : missed ? "missed-response" : null;
  return { ...times, responseTime, unusable, maxDelay: 0.5 * pollInterval };
}

/** The origin and transmit time of an interleaved packet (its receive field is basic). */
export interface InterleavedPeerFields {
  /** Origin: the peer's receive timestamp of our previous packet. */
  origin: bigint;
  /** Transmit: our previous packet's true departure (cooked). */
  transmit: Instant;
}

/** What a valid packet from the peer brought, as the interleaved state needs it. */
export interface PeerPacketOutcome {
  /** Tests 6 and 7 passed. */
  synced: boolean;
  /** It was measured (synced, and not interleaved before any usable timestamps). */
  measured: boolean;
  /** It was an interleaved packet. */
  interleaved: boolean;
  /** All further tests passed (a good sample). */
  good: boolean;
  /** The association's timestamps were taken from it (first or newer valid packet). */
  taken: boolean;
  /** Its root delay and dispersion, s. */
  rootDelay: number;
  /** See rootDelay. */
  rootDispersion: number;
}

/** The interleaved-mode state of one symmetric association (chrony's extra fields). */
export class PeerInterleave {
  /** xleave is on. */
  readonly enabled: boolean;
  /** The receive field of our newest packet (an interleaved answer echoes it). */
  localNtpRx = 0n;
  /** Our packets sent before the peer's newest valid one, since the one before. */
  prevTxCount = 0;
  /** Our polling interval when the peer's newest valid packet came, log2 s. */
  prevLocalPoll = 0;
  /** Transmit time of our packet the previous exchange used (null: not reusable). */
  prevLocalTx: Instant | null = null;
  /** The timestamps kept from the peer may be used (its packet passed tests 6 and 7). */
  validTimestamps = false;
  /** The peer's root delay and dispersion of its newest valid packet, s. */
  remoteRootDelay = 0;
  /** See remoteRootDelay. */
  remoteRootDispersion = 0;

  /** State for an association with (`enabled`) or without xleave. */
  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /**
   * The interleaved fields of our next packet, or null for a basic one: only with xleave,
   * not when answering an initial packet, when exactly one packet of ours answered the
   * peer's previous valid packet and none yet its newest (`txCount`), and when our previous
   * packet's time and the peer's receive timestamp of it are known.
   */
  nextFields(echo: EchoFields, ts: PeerTimestamps, txCount: number): InterleavedPeerFields | null {
    // Answering an initial packet restarts the exchange: the kept timestamps are not usable.
    if (echo.initial) this.validTimestamps = false;
    if (!this.enabled || echo.initial || this.prevTxCount !== 1 || txCount !== 0) return null;
    if (ts.remoteRx === 0n || ts.localTx === null) return null;
    return { origin: ts.remoteRx, transmit: ts.localTx };
  }

  /** The interleaved request fields to test the peer's packets against, or null. */
  request(): InterleavedRequest | null {
    if (!this.enabled || this.localNtpRx === 0n) return null;
    return { origin: 0n, receiveCookie: this.localNtpRx };
  }

  /** The peer's previous valid packet as the measurement needs it, or null. */
  previous(ts: PeerTimestamps): PreviousExchange | null {
    if (!this.enabled || ts.localRx === null || ts.remoteRx === 0n) return null;
    return {
      remoteRx: ts.remoteRx,
      remoteTx: ts.remoteTx,
      localRx: ts.localRx,
      localTx: this.prevLocalTx,
      rootDelay: this.remoteRootDelay,
      rootDispersion: this.remoteRootDispersion,
      synced: this.validTimestamps,
    };
  }

  /** The measurement context's interleaved part for a packet from the peer. */
  measureContext(
    ts: PeerTimestamps,
    remotePoll: number,
  ): { previousExchange: PreviousExchange | null; peerPolls: PeerPolls } {
    return {
      previousExchange: this.previous(ts),
      peerPolls: { remotePoll, prevLocalPoll: this.prevLocalPoll },
    };
  }

  /**
   * After the verdict on a packet from the peer (`taken`: the association's timestamps were
   * taken from it): the bookkeeping of a valid packet, see `validPacket`.
   */
  afterVerdict(
    verdict: ReplyVerdict | null,
    taken: boolean,
    localTx: Instant | null,
    poll: number,
    txCount: number,
  ): void {
    if (verdict === null || verdict.kind !== "valid") return;
    const m = verdict.measurement;
    const synced = verdict.synced;
    this.validPacket(
      {
        synced,
        measured: synced && (!m.interleaved || this.validTimestamps),
        interleaved: m.interleaved,
        good: verdict.rejection === null,
        taken,
        rootDelay: verdict.packet.rootDelay,
        rootDispersion: verdict.packet.rootDispersion,
      },
      localTx,
      poll,
      txCount,
    );
  }

  /**
   * After a valid packet (tests 1, 2, 3, 5): keeps what the next packets need (chrony's
   * receive_packet bookkeeping), with `localTx` the transmit time of our newest packet,
   * `poll` ours now and `txCount` our packets since the peer's previous valid one.
   */
  validPacket(o: PeerPacketOutcome, localTx: Instant | null, poll: number, txCount: number): void {
    if (o.measured) {
      // Timestamps of an accumulated basic sample are not reused by an interleaved one.
      this.prevLocalTx = o.interleaved || !o.good ? localTx : null;
    }
    if (o.taken) this.validTimestamps = o.synced;
    this.remoteRootDelay = o.rootDelay;
    this.remoteRootDispersion = o.rootDispersion;
    this.prevLocalPoll = poll;
    this.prevTxCount = txCount;
  }

  /** Forgets the exchange (restart of the association). */
  reset(): void {
    this.prevLocalTx = null;
    this.validTimestamps = false;
    this.prevTxCount = 0;
  }

  /** Moves the stored local time onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    if (this.prevLocalTx !== null) {
      this.prevLocalTx = adjustForClockChange(this.prevLocalTx, change).instant;
    }
  }
}

/**
 * The kernel's transmit time `tx` of a mode 1 packet whose transmit and receive fields are
 * `transmitField`, `receiveField`: the better transmit time of our newest packet when it is
 * that packet and `tx` is 0..1 s after the daemon's time (chrony update_tx_timestamp), else
 * null.
 */
export function betterTransmitTime(
  ts: Pick<PeerTimestamps, "localNtpTx" | "localTx">,
  localNtpRx: bigint,
  transmitField: bigint,
  receiveField: bigint,
  tx: Instant,
): Instant | null {
  if (ts.localTx === null || transmitField !== ts.localNtpTx || receiveField !== localNtpRx) {
    return null;
  }
  const delay = Number(tx - ts.localTx) / 1e9;
  return delay < 0 || delay > MAX_TX_DELAY ? null : tx;
}
