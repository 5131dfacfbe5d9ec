/**
 * The XDP responder: an eBPF program that answers plain NTP client requests in the kernel,
 * where the packet arrives, and hands everything else to the daemon (XDP_PASS; with the "tc"
 * hook, a tcx ingress program, TCX_NEXT).
 *
 * It answers an Ethernet frame to a unicast MAC address carrying IPv4 (no options, no
 * fragment) + UDP with exactly one 48-octet NTP header, mode 3, version 1-4, to the served
 * port and to the bound address (with a bind-any: to one of this host's addresses, from the
 * `local` map, never to an address the host forwards or bridges for), from a source the
 * access table allows, while the state (responder_state.ts) is enabled and fresh. A request
 * that may be interleaved (NTPv4, origin ending in 1, receive field different from the
 * transmit field: `isInterleavedRequest`) goes to the daemon, as does anything with extension
 * fields or a MAC (authenticated or NTS), every other mode and every denied source. Incoming
 * IPv4 and UDP checksums are not verified (a corrupt request gets a well-formed reply), and
 * netfilter rules on the input path do not apply to what it answers.
 *
 * The reply is the daemon's (`NtpResponder.respond`) octet for octet but for the times and,
 * by at most one 2^-16 s unit, the root dispersion: built in place, addresses and ports swapped,
 * TTL 64, the state's TOS, the IPv4 checksum recomputed and no UDP checksum. The receive time is
 * read when the request is recognised (with "tc", the stack's own receive timestamp when there
 * is a recent one), the transmit time just before the frame is sent back, both on the state's
 * line, with chrony's interleaved flag bits (receive ends in 1, transmit in 0).
 * Unless `noclientlog`, each client has a record in an LRU map (hits, last CLOCK_MONOTONIC,
 * rate-limit credit, drops) and `ratelimit` applies to it as in the daemon's client log: a
 * request over the limit is dropped or answered with a KoD RATE. The stats map counts answers,
 * limited requests and KoDs. Pure: builds the instructions for given map descriptors.
 *
 * @module
 */
import { EbpfAssembler, type Reg } from "./ebpf_assembler.ts";
import { XDP_MAX_AGE_NS, XdpStateField as F } from "./responder_state.ts";

/** XDP verdicts. */
export const XdpAction = { drop: 1, pass: 2, tx: 3 } as const;
/** tcx verdicts: next (the stack goes on), drop, redirect (bpf_redirect's return value). */
export const TcxAction = { next: -1, drop: 2, redirect: 7 } as const;

/**
 * Where the program runs: "xdp" (an XDP program: the driver's receive path, or generic XDP
 * after the backlog), or "tc" (a tcx ingress program: after the stack has stamped the frame,
 * so the receive time is the kernel's own receive timestamp, as a socket gets it; the reply
 * goes back out with bpf_redirect).
 */
export type ResponderHook = "xdp" | "tc";

const HELPER_MAP_LOOKUP_ELEM = 1;
const HELPER_MAP_UPDATE_ELEM = 2;
const HELPER_KTIME_GET_NS = 5;
const HELPER_GET_PRANDOM_U32 = 7;
const HELPER_REDIRECT = 23;
const HELPER_SKB_PULL_DATA = 39;
/** struct __sk_buff offsets (tc). */
const SKB_IFINDEX = 40;
const SKB_DATA = 76;
const SKB_DATA_END = 80;
const SKB_TSTAMP = 152;

/** Indexes of the stats map's counters. */
export const XdpStat = { answered: 0, limited: 1, kod: 2 } as const;

/** Stack slots (offsets from r10). */
const STACK_KEY = -4;
const STACK_PREFIX = -8;
const STACK_VERSION = -16;
const STACK_KOD = -24;
const STACK_IFINDEX = -64;
const STACK_TSTAMP = -72;
/** A new client's value: hits, last, credit, drops. */
const STACK_CLIENT = -56;

/** Frame offsets. */
const ETH = 0;
const IP = 14;
const UDP = 34;
const NTP = 42;
/** Ethernet + IPv4 + UDP + NTP header. */
export const XDP_REQUEST_FRAME_LENGTH: number = NTP + 48;

/** The maps the program uses (descriptors). */
export interface XdpResponderMaps {
  /**
   * Array of 1 + XDP_STATE_SLOTS state values: entry 0's first u32 names the active entry;
   * the daemon writes the entries in turn, so one is rewritten only after as many more writes.
   */
  state: number;
  /** Hash, key 4 address octets, value u8: this host's IPv4 addresses (bind-any only). */
  local: number;
  /** LPM trie, key {u32 prefix length, 4 address octets}, value u8 (1 allow, 0 deny). */
  access: number;
  /** Array of 3 u64 (XdpStat): answered, rate limited, KoD RATE sent. */
  stats: number;
  /**
   * LRU hash, key the 4 address octets, value {u64 hits, u64 last CLOCK_MONOTONIC, u64
   * credit ns, u64 drops}.
   */
  clients: number;
}

/** Looks up u32 `index` (stored at r10-4) in the array map: r0 = value or 0. */
function lookupIndex(p: EbpfAssembler, mapFd: number, index: Reg | number): void {
  p.store(32, "r10", STACK_KEY, index);
  p.mov("r2", "r10").alu64("add", "r2", STACK_KEY);
  p.loadMap("r1", mapFd);
  p.call(HELPER_MAP_LOOKUP_ELEM);
}

/** Atomically adds 1 to counter `index` of the stats map (r1-r5 clobbered). */
function count(p: EbpfAssembler, mapFd: number, index: number, label: string): void {
  lookupIndex(p, mapFd, index);
  p.jump("jeq", "r0", 0, label).mov("r1", 1).atomicAdd64("r0", 0, "r1");
  p.label(label);
}

/**
 * Writes the NTP timestamp of CLOCK_MONOTONIC `ktime` (not r1-r3) on the state's line (r7) at
 * packet offset `off` (r6), with its lowest bit set (`receive`) or cleared.
 */
function writeTimestamp(p: EbpfAssembler, ktime: Reg, off: number, receive: boolean): void {
  p.mov("r1", ktime).load(64, "r2", "r7", F.mono0).alu64("sub", "r1", "r2");
  p.mov("r2", "r1").load(64, "r3", "r7", F.rateError).alu64("mul", "r2", "r3");
  p.alu64("arsh", "r2", 32).alu64("add", "r1", "r2");
  p.load(64, "r3", "r7", F.served0).alu64("add", "r1", "r3");
  p.mov("r2", "r1").alu64("div", "r2", 1_000_000_000);
  p.mov("r3", "r2").alu64("mul", "r3", 1_000_000_000).alu64("sub", "r1", "r3");
  p.alu64("lsh", "r1", 32).alu64("add", "r1", 500_000_000).alu64("div", "r1", 1_000_000_000);
  if (receive) p.alu64("or", "r1", 1);
  else p.alu64("and", "r1", -2);
  p.toBigEndian("r2", 32).store(32, "r6", off, "r2");
  p.toBigEndian("r1", 32).store(32, "r6", off + 4, "r1");
}

/** The program's instructions for `maps`, to run at `hook`. */
export function buildXdpResponder(maps: XdpResponderMaps, hook: ResponderHook = "xdp"): Uint8Array {
  const p = new EbpfAssembler();
  if (hook === "tc") {
    // The interface and the kernel's receive timestamp (CLOCK_REALTIME; 0 when nothing asked
    // for timestamps) for later; the request's headers made linear when they are not.
    p.mov("r9", "r1").load(32, "r2", "r1", SKB_IFINDEX).store(32, "r10", STACK_IFINDEX, "r2");
    p.load(64, "r2", "r1", SKB_TSTAMP).store(64, "r10", STACK_TSTAMP, "r2");
    p.load(32, "r2", "r1", SKB_DATA).load(32, "r3", "r1", SKB_DATA_END);
    p.alu64("add", "r2", XDP_REQUEST_FRAME_LENGTH).jump("jle", "r2", "r3", "linear");
    p.mov("r1", "r9").mov("r2", XDP_REQUEST_FRAME_LENGTH).call(HELPER_SKB_PULL_DATA);
    p.label("linear").load(32, "r2", "r9", SKB_DATA).load(32, "r3", "r9", SKB_DATA_END);
  } else {
    p.load(32, "r2", "r1", 0).load(32, "r3", "r1", 4);
  }
  // r6 = frame start; at least a whole request frame must be there.
  p.mov("r6", "r2");
  p.mov("r4", "r2").alu64("add", "r4", XDP_REQUEST_FRAME_LENGTH).jump("jgt", "r4", "r3", "pass");
  // Loads are little-endian: 0x0008 is EtherType 08 00, 0x4c00 is 00 4c (76), 0x3800 is 56.
  // A unicast Ethernet destination (no broadcast, no multicast).
  p.load(8, "r4", "r6", ETH).alu64("and", "r4", 1).jump("jne", "r4", 0, "pass");
  p.load(16, "r4", "r6", ETH + 12).jump("jne", "r4", 0x0008, "pass");
  p.load(8, "r4", "r6", IP).jump("jne", "r4", 0x45, "pass");
  p.load(16, "r4", "r6", IP + 2).jump("jne", "r4", 0x4c00, "pass");
  p.load(16, "r4", "r6", IP + 6).alu64("and", "r4", 0xff3f).jump("jne", "r4", 0, "pass");
  p.load(8, "r4", "r6", IP + 9).jump("jne", "r4", 17, "pass");
  p.load(16, "r4", "r6", UDP + 4).jump("jne", "r4", 0x3800, "pass");
  // NTP: mode 3, version 1-4 (r9).
  p.load(8, "r4", "r6", NTP).mov("r5", "r4").alu64("and", "r5", 7).jump("jne", "r5", 3, "pass");
  p.mov("r9", "r4").alu64("rsh", "r9", 3).alu64("and", "r9", 7);
  p.jump("jeq", "r9", 0, "pass").jump("jgt", "r9", 4, "pass");
  p.store(64, "r10", STACK_VERSION, "r9").store(64, "r10", STACK_KOD, 0);
  // Possibly interleaved: the daemon decides.
  p.jump("jne", "r9", 4, "basic");
  p.load(8, "r4", "r6", NTP + 31).alu64("and", "r4", 1).jump("jeq", "r4", 0, "basic");
  p.load(32, "r4", "r6", NTP + 32).load(32, "r3", "r6", NTP + 40).jump("jne", "r4", "r3", "pass");
  p.load(32, "r4", "r6", NTP + 36).load(32, "r3", "r6", NTP + 44).jump("jne", "r4", "r3", "pass");
  p.label("basic");
  // r8 = receive time (CLOCK_MONOTONIC), read as soon as the request is recognised.
  p.call(HELPER_KTIME_GET_NS).mov("r8", "r0");
  // r7 = the active state.
  lookupIndex(p, maps.state, 0);
  p.jump("jeq", "r0", 0, "pass").load(32, "r4", "r0", 0);
  lookupIndex(p, maps.state, "r4");
  p.jump("jeq", "r0", 0, "pass").mov("r7", "r0");
  p.load(32, "r4", "r7", F.enabled).jump("jeq", "r4", 0, "pass");
  p.load(16, "r4", "r6", UDP + 2).load(16, "r5", "r7", F.port).jump("jne", "r4", "r5", "pass");
  // To the bound address, or with a bind-any to one of this host's addresses (never to one
  // the host routes or bridges for someone else).
  p.load(32, "r5", "r7", F.bindAddress).jump("jeq", "r5", 0, "anyAddress");
  p.load(32, "r4", "r6", IP + 16).jump("jne", "r4", "r5", "pass").goto("addressed");
  p.label("anyAddress").load(32, "r4", "r6", IP + 16).store(32, "r10", STACK_KEY, "r4");
  p.mov("r2", "r10").alu64("add", "r2", STACK_KEY).loadMap("r1", maps.local);
  p.call(HELPER_MAP_LOOKUP_ELEM).jump("jeq", "r0", 0, "pass");
  p.label("addressed");
  // Access: longest prefix match of the source address; no match is a deny.
  p.store(32, "r10", STACK_PREFIX, 32).load(32, "r4", "r6", IP + 12);
  p.store(32, "r10", STACK_KEY, "r4");
  p.mov("r2", "r10").alu64("add", "r2", STACK_PREFIX).loadMap("r1", maps.access);
  p.call(HELPER_MAP_LOOKUP_ELEM).jump("jeq", "r0", 0, "pass");
  p.load(8, "r4", "r0", 0).jump("jeq", "r4", 0, "pass");
  // A stale state leaves the request to the daemon.
  p.mov("r1", "r8").load(64, "r2", "r7", F.mono0).alu64("sub", "r1", "r2");
  p.jump("jsgt", "r1", XDP_MAX_AGE_NS, "pass").jump("jslt", "r1", -XDP_MAX_AGE_NS, "pass");
  if (hook === "tc") {
    // The kernel's receive timestamp, on CLOCK_MONOTONIC, when there is one and it is recent.
    p.load(64, "r1", "r10", STACK_TSTAMP).jump("jeq", "r1", 0, "stamped");
    p.load(64, "r2", "r7", F.realtimeMinusMono).alu64("sub", "r1", "r2");
    p.mov("r3", "r8").alu64("sub", "r3", "r1").jump("jsgt", "r3", 1_000_000, "stamped");
    p.jump("jslt", "r3", 0, "stamped").mov("r8", "r1");
    p.label("stamped");
  }

  // The client's record (before the addresses are swapped): hits, last, and chrony's rate
  // limit (the client log's #limit): credit grows by the time since the last request up to
  // cost * burst; an answer costs `cost`; without credit a request is answered with
  // probability 2^-leak (credit emptied), else dropped, and then answered with a KoD RATE
  // with probability 2^-kod.
  p.load(8, "r1", "r7", F.clientLog).load(8, "r2", "r7", F.rateLimit).alu64("or", "r1", "r2");
  p.jump("jeq", "r1", 0, "answer");
  p.load(32, "r4", "r6", IP + 12).store(32, "r10", STACK_KEY, "r4");
  p.mov("r2", "r10").alu64("add", "r2", STACK_KEY).loadMap("r1", maps.clients);
  p.call(HELPER_MAP_LOOKUP_ELEM).jump("jne", "r0", 0, "knownClient");
  p.store(64, "r10", STACK_CLIENT, 1).store(64, "r10", STACK_CLIENT + 8, "r8");
  p.load(64, "r1", "r7", F.maxCreditNs).load(64, "r2", "r7", F.costNs).alu64("sub", "r1", "r2");
  p.store(64, "r10", STACK_CLIENT + 16, "r1").store(64, "r10", STACK_CLIENT + 24, 0);
  p.mov("r2", "r10").alu64("add", "r2", STACK_KEY).mov("r3", "r10");
  p.alu64("add", "r3", STACK_CLIENT).mov("r4", 0).loadMap("r1", maps.clients);
  p.call(HELPER_MAP_UPDATE_ELEM).goto("answer");
  p.label("knownClient").mov("r9", "r0");
  p.mov("r1", 1).atomicAdd64("r9", 0, "r1");
  p.load(64, "r2", "r9", 8).store(64, "r9", 8, "r8");
  p.load(8, "r1", "r7", F.rateLimit).jump("jeq", "r1", 0, "answer");
  p.mov("r1", "r8").alu64("sub", "r1", "r2").jump("jsge", "r1", 0, "intervalKnown").mov("r1", 0);
  p.label("intervalKnown");
  p.load(64, "r3", "r9", 16).alu64("add", "r3", "r1");
  p.load(64, "r4", "r7", F.maxCreditNs).jump("jle", "r3", "r4", "creditCapped").mov("r3", "r4");
  p.label("creditCapped");
  p.load(64, "r4", "r7", F.costNs).jump("jlt", "r3", "r4", "limited");
  p.alu64("sub", "r3", "r4").store(64, "r9", 16, "r3").goto("answer");
  p.label("limited").store(64, "r9", 16, "r3");
  p.call(HELPER_GET_PRANDOM_U32).load(8, "r1", "r7", F.leakMask).alu64("and", "r0", "r1");
  p.jump("jne", "r0", 0, "notLeaked").store(64, "r9", 16, 0).goto("answer");
  p.label("notLeaked").mov("r1", 1).atomicAdd64("r9", 24, "r1");
  count(p, maps.stats, XdpStat.limited, "countedLimited");
  p.load(8, "r1", "r7", F.kodMask).jump("jeq", "r1", 0, "drop");
  p.call(HELPER_GET_PRANDOM_U32).load(8, "r1", "r7", F.kodMask).alu64("and", "r0", "r1");
  p.jump("jne", "r0", 0, "drop");
  p.store(64, "r10", STACK_KOD, 1);
  count(p, maps.stats, XdpStat.kod, "countedKod");
  p.goto("reply");
  p.label("answer");
  count(p, maps.stats, XdpStat.answered, "countedAnswer");
  p.label("reply");

  // The NTP header, in place: origin = the request's transmit field first.
  p.load(32, "r1", "r6", NTP + 40).store(32, "r6", NTP + 24, "r1");
  p.load(32, "r1", "r6", NTP + 44).store(32, "r6", NTP + 28, "r1");
  p.load(64, "r2", "r10", STACK_VERSION).alu64("lsh", "r2", 3);
  p.load(64, "r1", "r10", STACK_KOD).jump("jeq", "r1", 0, "normalHeader");
  // KoD RATE: leap 3, stratum 0, no root delay or dispersion, refid RATE, no reference time.
  p.mov("r1", "r2").alu64("or", "r1", (3 << 6) | 4).store(8, "r6", NTP, "r1");
  p.store(8, "r6", NTP + 1, 0).load(8, "r1", "r7", F.header + 3).store(8, "r6", NTP + 3, "r1");
  p.store(32, "r6", NTP + 4, 0).store(32, "r6", NTP + 8, 0);
  p.store(32, "r6", NTP + 12, 0x45544152); // "RATE" in network order, stored little-endian
  p.store(32, "r6", NTP + 16, 0).store(32, "r6", NTP + 20, 0).goto("headerDone");
  p.label("normalHeader");
  p.load(8, "r1", "r7", F.header).alu64("or", "r1", "r2");
  p.alu64("or", "r1", 4).store(8, "r6", NTP, "r1");
  p.load(8, "r1", "r7", F.header + 1).store(8, "r6", NTP + 1, "r1");
  p.load(8, "r1", "r7", F.header + 3).store(8, "r6", NTP + 3, "r1");
  p.load(32, "r1", "r7", F.header + 4).store(32, "r6", NTP + 4, "r1");
  p.load(32, "r1", "r7", F.header + 12).store(32, "r6", NTP + 12, "r1");
  p.load(32, "r1", "r7", F.refTime).store(32, "r6", NTP + 16, "r1");
  p.load(32, "r1", "r7", F.refTime + 4).store(32, "r6", NTP + 20, "r1");
  // Root dispersion: dispersion0 + rate * max(0, age in µs), ceiled to 2^-16 s, saturated.
  p.mov("r1", "r8").load(64, "r2", "r7", F.mono0).alu64("sub", "r1", "r2");
  p.jump("jsge", "r1", 0, "ageKnown").mov("r1", 0);
  p.label("ageKnown");
  p.alu64("div", "r1", 1000).load(64, "r2", "r7", F.dispersionRate).alu64("mul", "r1", "r2");
  p.load(64, "r2", "r7", F.dispersion0).alu64("add", "r1", "r2");
  p.loadImm64("r2", 0xffff_ffffn).alu64("add", "r1", "r2").alu64("rsh", "r1", 32);
  p.mov("r2", "r1").alu64("rsh", "r2", 32).jump("jeq", "r2", 0, "dispersionFits");
  p.alu32("mov", "r1", -1);
  p.label("dispersionFits");
  p.toBigEndian("r1", 32).store(32, "r6", NTP + 8, "r1");
  p.label("headerDone");
  writeTimestamp(p, "r8", NTP + 32, true);

  // Ethernet, IPv4 and UDP headers turned around.
  p.load(32, "r1", "r6", ETH).load(16, "r2", "r6", ETH + 4);
  p.load(32, "r3", "r6", ETH + 6).load(16, "r4", "r6", ETH + 10);
  p.store(32, "r6", ETH, "r3").store(16, "r6", ETH + 4, "r4");
  p.store(32, "r6", ETH + 6, "r1").store(16, "r6", ETH + 10, "r2");
  p.load(32, "r1", "r6", IP + 12).load(32, "r2", "r6", IP + 16);
  p.store(32, "r6", IP + 12, "r2").store(32, "r6", IP + 16, "r1");
  p.load(8, "r1", "r7", F.tos).store(8, "r6", IP + 1, "r1");
  p.store(8, "r6", IP + 8, 64).store(16, "r6", IP + 10, 0);
  p.mov("r1", 0);
  for (let i = 0; i < 20; i += 2) p.load(16, "r2", "r6", IP + i).alu64("add", "r1", "r2");
  for (let i = 0; i < 2; i++) {
    p.mov("r2", "r1").alu64("rsh", "r2", 16).alu64("and", "r1", 0xffff).alu64("add", "r1", "r2");
  }
  p.alu64("xor", "r1", 0xffff).store(16, "r6", IP + 10, "r1");
  p.load(16, "r1", "r6", UDP).load(16, "r2", "r6", UDP + 2);
  p.store(16, "r6", UDP, "r2").store(16, "r6", UDP + 2, "r1").store(16, "r6", UDP + 6, 0);

  // The transmit time, as late as possible.
  p.call(HELPER_KTIME_GET_NS);
  writeTimestamp(p, "r0", NTP + 40, false);
  if (hook === "tc") {
    p.load(32, "r1", "r10", STACK_IFINDEX).mov("r2", 0).call(HELPER_REDIRECT).exit();
    p.label("pass").mov("r0", TcxAction.next).exit();
    p.label("drop").mov("r0", TcxAction.drop).exit();
  } else {
    p.mov("r0", XdpAction.tx).exit();
    p.label("pass").mov("r0", XdpAction.pass).exit();
    p.label("drop").mov("r0", XdpAction.drop).exit();
  }
  return p.encode();
}
