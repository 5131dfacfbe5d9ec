/**
 * The timestamp bookkeeping of one symmetric association (RFC 5905's peer process: org, rec
 * and xmt, kept per association), in chrony's form: the peer's last transmit and receive
 * timestamps with our receive time of that packet, the "initial" copies taken from packets
 * that failed test 2 (so that the protocol can start and restart after a loss), our own
 * last transmit timestamp (test 2) and transmit time (T1), and at most one valid answer per
 * packet we send. Pure state.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "../types.ts";

/** True when NTP timestamp `a` is later than `b` (era-wrapping 64-bit comparison). */
export function ntpLater(a: bigint, b: bigint): boolean {
  const d = BigInt.asIntN(64, a - b);
  return d > 0n;
}

/** What a received packet brought, as the bookkeeping needs it. */
export interface PeerPacketFacts {
  /** The packet's receive timestamp (raw). */
  receiveField: bigint;
  /** The packet's transmit timestamp (raw). */
  transmitField: bigint;
  /** Tests 1, 2, 3 and 5 passed (a valid packet). */
  valid: boolean;
  /** Test 5 passed (authentication, or none expected). */
  authentic: boolean;
}

/** The echo fields of the next packet we send. */
export interface EchoFields {
  /** Origin: the peer's transmit timestamp to echo (0n: none). */
  origin: bigint;
  /** Our receive time of the packet it came in (null: none). */
  receive: Instant | null;
  /** Answering a packet that failed test 2 (start or restart of the protocol). */
  initial: boolean;
}

/** Per-association timestamps of a symmetric peer. */
export class PeerTimestamps {
  /** The peer's transmit timestamp of the last packet taken (echoed as origin). */
  remoteTx = 0n;
  /** The peer's receive timestamp of that packet. */
  remoteRx = 0n;
  /** Our cooked receive time of that packet. */
  localRx: Instant | null = null;
  /** Transmit timestamp of the newest packet that failed test 2 (restart). */
  initRemoteTx = 0n;
  /** Our cooked receive time of that packet. */
  initLocalRx: Instant | null = null;
  /** Transmit timestamp we wrote in our newest packet (its answer echoes it: test 2). */
  localNtpTx = 0n;
  /** Cooked transmit time of our newest packet (T1), or null before the first. */
  localTx: Instant | null = null;
  /** A valid answer to our newest packet was taken. */
  validRx = false;
  #updatedInit = false;

  /**
   * Before sending: the echo fields, chrony's way - if nothing valid came since our last
   * packet, answer the newest packet seen even if it failed test 2 (start and restart).
   */
  nextEcho(): EchoFields {
    const initial = !this.validRx && this.initRemoteTx !== 0n;
    const echo = initial
      ? { origin: this.initRemoteTx, receive: this.initLocalRx, initial }
      : { origin: this.remoteTx, receive: this.localRx, initial };
    this.validRx = false;
    this.#updatedInit = false;
    return echo;
  }

  /** Records our packet: its transmit timestamp and (provisional) transmit time. */
  sent(transmitField: bigint, txTime: Instant): void {
    this.localNtpTx = transmitField;
    this.localTx = txTime;
  }

  /**
   * Takes the timestamps of a received packet (chrony's update rules: a valid packet when it
   * is the first answer or newer; otherwise a fresh, authentic, non-duplicate packet as the
   * initial copy). Returns whether the packet counts as the answer to our packet: false for
   * a second answer to the same packet (at most one per packet sent).
   */
  receive(facts: PeerPacketFacts, rx: Instant): boolean {
    const fresh = facts.transmitField !== this.remoteTx || facts.receiveField !== this.remoteRx;
    if (facts.valid && (!this.validRx || ntpLater(facts.transmitField, this.remoteTx))) {
      this.remoteRx = facts.receiveField;
      this.remoteTx = facts.transmitField;
      this.localRx = rx;
      this.initRemoteTx = 0n;
      this.initLocalRx = null;
      this.#updatedInit = false;
    } else if (
      fresh && facts.transmitField !== 0n && facts.authentic &&
      (!this.#updatedInit || ntpLater(facts.transmitField, this.initRemoteTx))
    ) {
      this.initRemoteTx = facts.transmitField;
      this.initLocalRx = rx;
      this.#updatedInit = true;
    }
    if (!facts.valid) return false;
    if (this.validRx) return false;
    this.validRx = true;
    return true;
  }

  /** Forgets the peer's side (restart of the association). */
  reset(): void {
    this.remoteTx = this.remoteRx = this.initRemoteTx = 0n;
    this.localRx = this.initLocalRx = null;
    this.validRx = false;
    this.#updatedInit = false;
  }

  /** Moves stored local times onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    const move = (t: Instant | null) => t === null ? null : adjustForClockChange(t, change).instant;
    this.localRx = move(this.localRx);
    this.initLocalRx = move(this.initLocalRx);
    this.localTx = move(this.localTx);
  }
}
