/**
 * Decoder of the frames the kernel returns with software transmit timestamps on a socket's
 * error queue (SO_TIMESTAMPING without OPT_TSONLY): the datagram as it left, from the
 * link-layer header on (Ethernet, loopback included, optionally VLAN-tagged), then IPv4 or
 * IPv6 (with the usual extension headers), then UDP. What it gives is the UDP payload, so
 * the NTP server can tell which reply a late timestamp belongs to (chrony's
 * extract_udp_data). Pure; any byte string gives a payload view or null, never a throw.
 *
 * @module
 */

/** Ethernet destination and source addresses. */
const MAC_ADDRESSES = 12;
/** IPv6 extension headers skipped at most (a loop guard). */
const MAX_EXTENSION_HEADERS = 8;
const UDP = 17;
const UDP_HEADER = 8;

/**
 * The UDP payload of `frame` (a view into it), or null when the frame is not Ethernet +
 * IPv4/IPv6 + UDP, or is cut short.
 */
export function udpPayloadOfFrame(frame: Uint8Array): Uint8Array | null {
  let at = MAC_ADDRESSES;
  // VLAN tags (802.1Q).
  while (at + 4 <= frame.length && frame[at] === 0x81 && frame[at + 1] === 0x00) at += 4;
  if (at + 2 > frame.length) return null;
  const etherType = (frame[at] << 8) | frame[at + 1];
  at += 2;
  if (etherType === 0x0800) {
    if (at + 20 > frame.length || frame[at] >> 4 !== 4) return null;
    const ihl = (frame[at] & 0xf) * 4;
    if (ihl < 20 || frame[at + 9] !== UDP || at + ihl + UDP_HEADER > frame.length) return null;
    at += ihl;
  } else if (etherType === 0x86dd) {
    if (at + 40 > frame.length || frame[at] >> 4 !== 6) return null;
    let next = frame[at + 6];
    at += 40;
    for (let i = 0; next !== UDP; i++) {
      if (i >= MAX_EXTENSION_HEADERS || at + 8 > frame.length) return null;
      let length: number;
      switch (next) {
        case 44: // fragment: only a first fragment carries the UDP header
          if (((frame[at + 2] << 8) | frame[at + 3]) >> 3 !== 0) return null;
          length = 8;
          break;
        case 0: // hop-by-hop
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
          length = 8 * (frame[at + 1] + 1);
          break;
        case 51: // authentication header
          length = 4 * (frame[at + 1] + 2);
          break;
        default:
          return null;
      }
      next = frame[at];
      at += length;
    }
    if (at + UDP_HEADER > frame.length) return null;
  } else return null;
  return frame.subarray(at + UDP_HEADER);
}
