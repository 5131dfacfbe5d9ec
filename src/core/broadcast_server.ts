/**
 * The broadcast server's packet (chrony's broadcast, ntpd's broadcast/multicast server):
 * a mode-5 packet from the reference state, its poll field the broadcast interval, origin
 * and receive timestamps zero, the transmit time read last, and a MAC when a key is given.
 * Pure: the daemon's broadcast service sends it.
 *
 * @module
 */
import { NTP_HEADER_LENGTH } from "../ntp/packet.ts";
import { MAX_MAC_LENGTH, writeMac } from "../ntp/auth.ts";
import type { SymmetricKey } from "../ntp/keyfile.ts";
import { secondsToNtpShort } from "../ntp/timestamp.ts";
import type { Instant } from "../base/time.ts";
import { rootDispersionAt, writeNtpTimestamp } from "./server.ts";
import type { ReferenceState } from "./types.ts";

/** NTP mode of a broadcast. */
const MODE_BROADCAST = 5;

/** The poll field announcing `interval` seconds: the nearest log2, within -7..17. */
export function broadcastPoll(interval: number): number {
  const p = Math.round(Math.log2(Math.max(interval, 2 ** -7)));
  return Math.max(-7, Math.min(17, p));
}

/**
 * Builds one broadcast (48 octets, plus a MAC with `key`) stamped with `readTxTime()`, read
 * once, after the header octets and before the MAC.
 */
export function buildBroadcastPacket(
  reference: ReferenceState,
  interval: number,
  key: SymmetricKey | null,
  readTxTime: () => Instant,
): Uint8Array {
  const buffer = new Uint8Array(NTP_HEADER_LENGTH + MAX_MAC_LENGTH);
  const view = new DataView(buffer.buffer);
  const synced = reference.synchronised;
  const leap = synced ? reference.leap & 3 : 3;
  buffer[0] = (leap << 6) | (4 << 3) | MODE_BROADCAST;
  buffer[1] = synced ? reference.stratum & 0xff : 16;
  buffer[2] = broadcastPoll(interval) & 0xff;
  buffer[3] = reference.precisionLog2 & 0xff;
  const tx = readTxTime();
  view.setUint32(4, secondsToNtpShort(reference.rootDelay));
  view.setUint32(
    8,
    secondsToNtpShort(synced ? rootDispersionAt(reference, tx) : reference.rootDispersion),
  );
  view.setUint32(12, reference.refId >>> 0);
  if (reference.refTime !== 0n) writeNtpTimestamp(view, 16, reference.refTime);
  // Origin and receive timestamps stay zero: a broadcast answers nothing.
  writeNtpTimestamp(view, 40, tx);
  if (key === null) return buffer.slice(0, NTP_HEADER_LENGTH);
  return buffer.slice(0, writeMac(buffer, NTP_HEADER_LENGTH, key));
}
