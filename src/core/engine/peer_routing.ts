/**
 * Routing of symmetric packets (modes 1 and 2) that arrive on the NTP server socket: the
 * peer configured for the sender, and the local reference ID test D compares the peer's
 * reference ID with.
 *
 * @module
 */
import type { SocketAddress } from "../../base/ports.ts";
import { refIdFromAddress } from "../../ntp/packet.ts";
import { PeerSource } from "../source/peer.ts";
import type { Source } from "../source/source.ts";

/** True for an IPv4 or IPv6 loopback address. */
function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/**
 * The peer among `sources` configured for `address` and `port` (null: any port); with
 * several peers at one address and none on that port, the first of them.
 */
export function peerFor(
  sources: Iterable<Source>,
  address: string,
  port: number | null,
): PeerSource | undefined {
  let any: PeerSource | undefined;
  for (const s of sources) {
    if (!(s instanceof PeerSource) || s.address.address !== address) continue;
    if (port === null || s.address.port === port) return s;
    any ??= s;
  }
  return any;
}

/**
 * The reference ID of the address a peer reached us at (chrony's check_sync_loop): the
 * socket's own `localAddress`, or on loopback through a wildcard socket the peer's (the same
 * 127.0.0.1 or ::1); undefined when unknown (the host's address applies).
 */
export function peerLocalRefId(
  from: SocketAddress,
  localAddress: string | null,
): number | undefined {
  const local = localAddress ?? (isLoopback(from.address) ? from.address : null);
  return local === null ? undefined : refIdFromAddress(local) ?? undefined;
}
