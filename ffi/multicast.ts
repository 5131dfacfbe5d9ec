/**
 * Socket options for broadcast and multicast on a libc socket descriptor (Deno's UDP API
 * exposes no descriptor): SO_BROADCAST, the multicast TTL / IPv6 hop limit, and joining a
 * group (IP_ADD_MEMBERSHIP, IPV6_JOIN_GROUP) on the interface the kernel routes it to or on
 * a given interface index. Linux constants. Each function throws one clear error.
 *
 * @module
 */
import { describeErrno } from "./errno.ts";
import { lastErrno, libcSymbols } from "./libc.ts";
import { parseIpv4, parseIpv6 } from "../src/base/ip.ts";

const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_BROADCAST = 6;
const IPPROTO_IP = 0;
const IP_MULTICAST_TTL = 33;
const IP_ADD_MEMBERSHIP = 35;
const IPPROTO_IPV6 = 41;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_JOIN_GROUP = 20;

function intOption(fd: number, level: number, name: number, value: number, what: string): void {
  const v = new Uint8Array(new Int32Array([value]).buffer);
  if (libcSymbols().setsockopt(fd, level, name, v, 4) < 0) {
    throw new Error(`setsockopt(${what}) failed: ${describeErrno(lastErrno())}`);
  }
}

/** Allows sending to broadcast addresses (SO_BROADCAST). */
export function enableBroadcast(fd: number): void {
  intOption(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
}

/**
 * Sets the TTL of IPv4 multicast (also for IPv4 groups sent through a dual-stack socket)
 * and, on an IPv6 socket, the hop limit of IPv6 multicast.
 */
export function setMulticastTtl(fd: number, family: number, ttl: number): void {
  intOption(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
  if (family === AF_INET6) {
    intOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
  }
}

/**
 * Joins multicast `group` (an IPv4 or IPv6 literal) on interface `ifindex` (0: the one the
 * kernel routes the group to). An IPv4 group may be joined through an IPv6 dual-stack socket.
 */
export function joinMulticastGroup(fd: number, family: number, group: string, ifindex = 0): void {
  const v4 = parseIpv4(group);
  if (v4 !== null) {
    // struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }
    const mreq = new Uint8Array(12);
    mreq.set(v4, 0);
    new DataView(mreq.buffer).setInt32(8, ifindex, true);
    if (libcSymbols().setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, 12) < 0) {
      throw new Error(`joining ${group} failed: ${describeErrno(lastErrno())}`);
    }
    return;
  }
  const v6 = parseIpv6(group);
  if (v6 === null) throw new Error(`not a multicast address: ${group}`);
  if (family !== AF_INET6) throw new Error(`joining ${group} needs an IPv6 socket`);
  // struct ipv6_mreq { in6_addr ipv6mr_multiaddr; unsigned int ipv6mr_interface; }
  const mreq = new Uint8Array(20);
  mreq.set(v6, 0);
  new DataView(mreq.buffer).setUint32(16, ifindex, true);
  if (libcSymbols().setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, 20) < 0) {
    throw new Error(`joining ${group} failed: ${describeErrno(lastErrno())}`);
  }
}
