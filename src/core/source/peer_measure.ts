/**
 * Measures a packet from a symmetric peer with the one measurement function
 * (`measureReply` in symmetric mode) against our newest packet and the association's
 * timestamps, and says whether it is authentic (test 5) for the timestamp bookkeeping.
 *
 * @module
 */
import type { NtpPacket } from "../../ntp/packet.ts";
import type { Instant } from "../../base/time.ts";
import { type MeasureContext, measureReply, type ReplyVerdict, TestBit } from "./measure.ts";
import type { PeerTimestamps } from "./peer_timestamps.ts";
import type { InterleavedRequest, PreviousExchange } from "./interleave.ts";

/** The tests' context less what the association's timestamps supply. */
export type PeerMeasureContext = Omit<MeasureContext, "lastRemoteTx" | "symmetric">;

/** A peer packet's verdict (null: we sent nothing yet) and whether it is authentic. */
export interface PeerMeasurement {
  /** The verdict, or null before our first packet. */
  verdict: ReplyVerdict | null;
  /** Test 5 passed (or, without a verdict, no MAC where none is expected). */
  authentic: boolean;
}

/**
 * Stands in for the peer's previous packet when none was valid yet: an interleaved packet
 * then passes test 2 (its timestamps are taken, as chrony does) but gives no sample.
 */
function noPreviousExchange(packet: NtpPacket, rx: Instant): PreviousExchange {
  return {
    remoteRx: packet.receiveTime,
    remoteTx: packet.transmitTime,
    localRx: rx,
    localTx: null,
    rootDelay: 0,
    rootDispersion: 0,
    synced: false,
  };
}

/**
 * Measures `bytes` (decoded as `packet`) received at cooked `rx`; with xleave, `interleave`
 * holds the receive field of our newest packet, which an interleaved packet echoes.
 */
export function measurePeerPacket(
  bytes: Uint8Array,
  packet: NtpPacket,
  rx: Instant,
  ts: PeerTimestamps,
  ctx: PeerMeasureContext,
  interleave: InterleavedRequest | null = null,
): PeerMeasurement {
  const verdict = ts.localTx === null ? null : measureReply(bytes, rx, {
    cookie: ts.localNtpTx,
    localTx: ts.localTx,
    presend: false,
    answered: false,
    interleave,
  }, {
    ...ctx,
    lastRemoteTx: ts.remoteTx === 0n ? null : ts.remoteTx,
    symmetric: true,
    previousExchange: ctx.previousExchange ??
      (interleave === null ? null : noPreviousExchange(packet, rx)),
  });
  const authentic = verdict === null || verdict.kind === "ignored"
    ? ctx.auth === null && packet.mac === null
    : (verdict.tests & TestBit.T5) !== 0;
  return { verdict, authentic };
}
