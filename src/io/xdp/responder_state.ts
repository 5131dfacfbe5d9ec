/**
 * What the XDP responder (responder_program.ts) reads for every request: the port and
 * address served, the reference announced, and the served clock as a line in the kernel's
 * CLOCK_MONOTONIC, `served(t) = served0 + (t - mono0) (1 + rateError)`. The daemon writes a
 * new state after every change of the clock's rate or of the reference, and at least every
 * `XDP_REFRESH_SECONDS`; a state older than `XDP_MAX_AGE_NS` makes the program hand requests
 * to the daemon instead. Pure: encodes one map value.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import type { ReferenceState } from "../../core/types.ts";
import { rootDispersionAt, writeNtpTimestamp } from "../../core/server.ts";
import { secondsToNtpShort } from "../../ntp/timestamp.ts";
import { parseIpv4 } from "../../base/ip.ts";

/** Size of one state value, octets. */
export const XDP_STATE_SIZE = 112;
/** Offsets of the fields in a state value (all host byte order unless said). */
export const XdpStateField = {
  /** u32: 1 when requests may be answered. */
  enabled: 0,
  /** u16: the UDP port, network byte order. */
  port: 4,
  /** u8: the IPv4 TOS octet of replies (dscp << 2). */
  tos: 6,
  /** u8: 1 when requests are counted per client (no `noclientlog`). */
  clientLog: 7,
  /** u32: the IPv4 address served, network byte order; 0 for any. */
  bindAddress: 8,
  /** u64: CLOCK_MONOTONIC of the line's origin, ns. */
  mono0: 16,
  /** u64: served time at mono0, ns since the NTP epoch (1900). */
  served0: 24,
  /** s64: rate error of the served clock against CLOCK_MONOTONIC, 2^-32 units. */
  rateError: 32,
  /** u64: root dispersion at mono0, 2^-48 s. */
  dispersion0: 40,
  /** u64: root dispersion growth, 2^-48 s per µs. */
  dispersionRate: 48,
  /** 16 octets: the first 16 of the NTP header (leap in octet 0; octets 8-11 unused). */
  header: 56,
  /** 8 octets: the reference timestamp, network byte order. */
  refTime: 72,
  /** u8: 1 when requests are rate limited (chrony's ratelimit, per client). */
  rateLimit: 80,
  /** u8: 2^leak - 1: a limited request is answered when random bits under it are all 0. */
  leakMask: 81,
  /** u8: 2^kod - 1, or 0 for no KoD: a dropped request gets a KoD RATE likewise. */
  kodMask: 82,
  /** u64: credit one answer costs, ns (2^interval s). */
  costNs: 88,
  /** u64: largest credit, ns (cost * burst). */
  maxCreditNs: 96,
  /** s64: CLOCK_REALTIME minus CLOCK_MONOTONIC at the line's origin, ns (tc: skb timestamps). */
  realtimeMinusMono: 104,
} as const;
/** A state older than this (by CLOCK_MONOTONIC) is not used: the daemon answers. */
export const XDP_MAX_AGE_NS = 2_000_000_000;
/** The daemon rewrites the state at least this often, seconds. */
export const XDP_REFRESH_SECONDS = 0.5;

const UNIX_TO_NTP_NS = 2_208_988_800n * 1_000_000_000n;
const TWO_POW_32 = 4_294_967_296;
const TWO_POW_48 = 281_474_976_710_656;

/** The served clock as a line in CLOCK_MONOTONIC. */
export interface ServedLine {
  /** CLOCK_MONOTONIC at the origin, ns. */
  monotonicNs: bigint;
  /** Served (cooked) time at the origin, Unix ns. */
  served: Instant;
  /** Served seconds per monotonic second, minus 1. */
  rateError: number;
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC when the line was taken, ns. */
  realtimeMinusMono?: bigint;
}

/** chrony's ratelimit, as the program applies it (the client log's `#limit`). */
export interface XdpRateLimit {
  /** log2 of the seconds one answer costs, -19..12. */
  interval: number;
  /** Answers in a burst, 1..255. */
  burst: number;
  /** A limited request is answered with probability 2^-leak, 1..4. */
  leak: number;
  /** A dropped request gets a KoD RATE with probability 2^-kod; 0: never. */
  kod: number;
}

/** Everything one state value holds. */
export interface XdpResponderState {
  /** False: every request goes to the daemon. */
  enabled: boolean;
  /** UDP port served. */
  port: number;
  /** IPv4 address served, or null for any. */
  bindAddress: string | null;
  /** TOS octet of replies. */
  tos: number;
  /** Whether requests are counted per client. */
  clientLog: boolean;
  /** Rate limiting per client, or null for none. */
  rateLimit: XdpRateLimit | null;
  /** The served clock. */
  line: ServedLine;
  /** What is announced. */
  reference: ReferenceState;
}

/**
 * `seconds` in 2^-48 s units, rounded up, below 2^64: its 2^-16 s units exactly as the
 * responder's ceiling (saturated at 0xffffffff), the rest to 2^-48 s.
 */
function ceilTo48(seconds: number): bigint {
  if (!(seconds > 0)) return 0n;
  const units = seconds * 65536;
  if (units >= 0xffff_ffff) return 0xffff_ffffn << 32n;
  const whole = Math.floor(units);
  const rest = Math.ceil((units - whole) * TWO_POW_32);
  return (BigInt(whole) << 32n) + BigInt(rest);
}

/**
 * Encodes `state` as one map value. The reply's root dispersion is the responder's
 * (`rootDispersionAt`, ceiled to 2^-16 s), grown linearly from the line's origin.
 */
export function encodeXdpState(state: XdpResponderState): Uint8Array {
  const out = new Uint8Array(XDP_STATE_SIZE);
  const view = new DataView(out.buffer);
  const F = XdpStateField;
  const ref = state.reference;
  const synced = ref.synchronised;
  view.setUint32(F.enabled, state.enabled ? 1 : 0, true);
  view.setUint16(F.port, state.port, false);
  out[F.tos] = state.tos & 0xff;
  out[F.clientLog] = state.clientLog ? 1 : 0;
  if (state.bindAddress !== null) {
    const octets = parseIpv4(state.bindAddress);
    if (octets === null) throw new Error(`not an IPv4 address: ${state.bindAddress}`);
    out.set(octets, F.bindAddress);
  }
  const { line } = state;
  view.setBigUint64(F.mono0, BigInt.asUintN(64, line.monotonicNs), true);
  view.setBigUint64(F.served0, BigInt.asUintN(64, line.served + UNIX_TO_NTP_NS), true);
  view.setBigInt64(F.rateError, BigInt(Math.round(line.rateError * TWO_POW_32)), true);
  view.setBigInt64(F.realtimeMinusMono, line.realtimeMinusMono ?? 0n, true);
  const growing = synced && ref.refTime !== 0n && Number.isFinite(ref.dispersionRate);
  const dispersion = growing ? rootDispersionAt(ref, line.served) : ref.rootDispersion;
  view.setBigUint64(F.dispersion0, ceilTo48(dispersion), true);
  const perMicrosecond = growing ? Math.max(0, ref.dispersionRate) * TWO_POW_48 / 1e6 : 0;
  view.setBigUint64(F.dispersionRate, BigInt(Math.min(2 ** 40, Math.round(perMicrosecond))), true);
  const h = F.header;
  out[h] = (synced ? ref.leap & 3 : 3) << 6;
  out[h + 1] = synced ? ref.stratum & 0xff : 16;
  out[h + 3] = ref.precisionLog2 & 0xff;
  view.setUint32(h + 4, secondsToNtpShort(ref.rootDelay), false);
  view.setUint32(h + 12, ref.refId >>> 0, false);
  if (ref.refTime !== 0n) writeNtpTimestamp(view, F.refTime, ref.refTime);
  const limit = state.rateLimit;
  if (limit !== null) {
    const interval = Math.min(12, Math.max(-19, Math.round(limit.interval)));
    const burst = Math.min(255, Math.max(1, Math.round(limit.burst)));
    const leak = Math.min(4, Math.max(1, Math.round(limit.leak)));
    const kod = Math.min(4, Math.max(0, Math.round(limit.kod)));
    const cost = BigInt(Math.round(2 ** interval * 1e9));
    out[F.rateLimit] = 1;
    out[F.leakMask] = (1 << leak) - 1;
    out[F.kodMask] = kod === 0 ? 0 : (1 << kod) - 1;
    view.setBigUint64(F.costNs, cost, true);
    view.setBigUint64(F.maxCreditNs, cost * BigInt(burst), true);
  }
  return out;
}
