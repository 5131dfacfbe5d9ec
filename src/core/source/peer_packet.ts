/**
 * The packet a symmetric association sends (mode 1, or mode 2 for a passive answer): a
 * header announcing our reference like a server reply, the peer's last transmit timestamp
 * echoed as origin, our receive time of that packet, and our transmit time. Pure.
 *
 * @module
 */
import { appendMac, suggestedVersion } from "../../ntp/auth.ts";
import type { SymmetricKey } from "../../ntp/keyfile.ts";
import { encodePacket, type NtpPacket } from "../../ntp/packet.ts";
import { instantToNtp64 } from "../../ntp/timestamp.ts";
import type { Instant } from "../../base/time.ts";
import { rootDispersionAt } from "../server.ts";
import type { ReferenceState } from "../types.ts";

/** Stratum announced while unsynchronised. */
const UNSYNC_STRATUM = 16;

/** What goes into one symmetric packet. */
export interface PeerPacketInput {
  /** 1 (symmetric active) or 2 (symmetric passive). */
  mode: 1 | 2;
  /** NTP version (a key may lower it, as for client requests). */
  version: number;
  /** Our polling interval, log2 s. */
  poll: number;
  /** The peer's last transmit timestamp, echoed (0n: none yet). */
  origin: bigint;
  /** Our cooked receive time of that packet (null: none yet). */
  receive: Instant | null;
  /** Our cooked transmit time. */
  transmit: Instant;
  /** The transmit timestamp of our previous packet (never sent twice). */
  previousTransmit: bigint;
  /** Key to sign with, or null. */
  key: SymmetricKey | null;
  /** The receive field of our previous packet (never sent twice: interleaved test 2). */
  previousReceive?: bigint;
}

/** A packet ready to send and the transmit timestamp its answer must echo. */
export interface PeerPacket {
  /** Octets to send (48, plus a MAC with a key). */
  bytes: Uint8Array;
  /** The transmit timestamp written (raw 64 bits). */
  transmitField: bigint;
  /** The receive timestamp written (raw 64 bits). */
  receiveField: bigint;
}

/** Builds a symmetric packet announcing `reference` (chrony's transmit_packet for peers). */
export function buildPeerPacket(reference: ReferenceState, input: PeerPacketInput): PeerPacket {
  const synced = reference.synchronised;
  let receiveField = input.receive === null ? 0n : instantToNtp64(input.receive);
  // A receive field equal to the origin or to our previous one would let an interleaved
  // answer be taken for an answer to another packet.
  while (
    receiveField !== 0n &&
    (receiveField === input.origin || receiveField === (input.previousReceive ?? 0n))
  ) {
    receiveField = (receiveField + 1n) & 0xffff_ffff_ffff_ffffn;
  }
  let transmitField = instantToNtp64(input.transmit);
  // Never a transmit timestamp equal to the receive or origin timestamp (a packet must not
  // be its own valid answer) or to the previous one (answers to it must fail test 2).
  while (
    transmitField === receiveField || transmitField === input.origin ||
    transmitField === input.previousTransmit || transmitField === 0n
  ) {
    transmitField = (transmitField + 1n) & 0xffff_ffff_ffff_ffffn;
  }
  const key = input.key;
  const packet: NtpPacket = {
    leap: synced ? reference.leap & 3 : 3,
    version: key === null ? input.version : suggestedVersion(key, input.version),
    mode: input.mode,
    stratum: synced ? Math.min(reference.stratum, UNSYNC_STRATUM) : UNSYNC_STRATUM,
    poll: Math.max(-128, Math.min(127, input.poll)),
    precision: reference.precisionLog2,
    rootDelay: Math.min(reference.rootDelay, 65535),
    rootDispersion: Math.min(
      synced ? rootDispersionAt(reference, input.transmit) : reference.rootDispersion,
      65535,
    ),
    refId: reference.refId >>> 0,
    refTime: reference.refTime === 0n ? 0n : instantToNtp64(reference.refTime),
    originTime: input.origin,
    receiveTime: receiveField,
    transmitTime: transmitField,
    extensions: [],
    mac: null,
  };
  const bytes = encodePacket(packet);
  return { bytes: key === null ? bytes : appendMac(bytes, key), transmitField, receiveField };
}
