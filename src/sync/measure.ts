/**
 * One client/server measurement, pure: the data-minimised request (RFC 9109 and the NTP
 * data-minimisation draft: all zeros except LI/VN/mode and a random transmit timestamp) and
 * the checks and arithmetic on the reply (RFC 5905 tests 1-3, 6, 7; KoD; chrony's server
 * interval limit), giving offset and delay from the four timestamps.
 *
 * @module
 */
import { type Instant, secondsBetween } from "../core/time.ts";
import {
  decodePacket,
  emptyPacket,
  encodePacket,
  type KissAction,
  kissAction,
  kissCode,
  NTP_VERSION,
  NtpMode,
  type NtpPacket,
} from "../ntp/packet.ts";
import { ntp64ToInstant } from "../ntp/timestamp.ts";

/** RFC 5905 MAXDISP: a root distance at or above this is not sane (test 7). */
export const MAX_ROOT_DISTANCE = 16;
/** chrony's MAX_SERVER_INTERVAL: the server may hold the request at most this long, s. */
export const MAX_SERVER_INTERVAL = 4;
/** Local clock precision assumed for the dispersion of a sample, seconds. */
export const LOCAL_PRECISION = 1e-6;

/** A request ready to send, and the cookie its reply must echo as origin timestamp. */
export interface ClientRequest {
  /** The 48 octets to send. */
  bytes: Uint8Array;
  /** The random transmit timestamp (raw 64 bits) the reply must echo. */
  cookie: bigint;
}

/**
 * Builds a client request from 8 random octets: version 4, mode 3, every other field zero
 * and the transmit timestamp random, so the request reveals nothing about the local clock.
 */
export function buildClientRequest(random8: Uint8Array): ClientRequest {
  let cookie = 0n;
  for (let i = 0; i < 8; i++) cookie = (cookie << 8n) | BigInt(random8[i] ?? 0);
  if (cookie === 0n) cookie = 1n; // a zero origin would look like "no request"
  const packet = emptyPacket(NtpMode.Client);
  packet.transmitTime = cookie;
  return { bytes: encodePacket(packet), cookie };
}

/** An accepted measurement of a server. */
export interface Measurement {
  /** Offset, seconds: server minus local (> 0: local clock behind). */
  offset: number;
  /** Round-trip delay, seconds (at least the precision). */
  delay: number;
  /** Dispersion of this measurement: server precision plus local precision, seconds. */
  dispersion: number;
  /** Root distance: (rootDelay + delay)/2 + rootDispersion + dispersion, seconds. */
  rootDistance: number;
  /** Local transmit time (T1). */
  t1: Instant;
  /** Server receive time (T2), era resolved against T1. */
  t2: Instant;
  /** Server transmit time (T3). */
  t3: Instant;
  /** Local receive time (T4). */
  t4: Instant;
  /** The decoded reply. */
  packet: NtpPacket;
}

/** Why a reply was not used. */
export type RejectReason =
  | "undecodable"
  | "origin-mismatch"
  | "duplicate"
  | "not-server-mode"
  | "bad-version"
  | "unsynchronised"
  | "bad-stratum"
  | "zero-timestamp"
  | "bad-root-distance"
  | "bad-server-interval";

/** What a reply turned out to be. */
export type ReplyVerdict =
  | { kind: "sample"; measurement: Measurement }
  | { kind: "kod"; code: string; action: KissAction; packet: NtpPacket }
  | { kind: "rejected"; reason: RejectReason; detail: string };

function reject(reason: RejectReason, detail: string): ReplyVerdict {
  return { kind: "rejected", reason, detail };
}

/**
 * Checks a reply to `request` (sent at local time `t1`, received at `t4`) and computes the
 * measurement. `seenTransmits` holds the transmit timestamps of replies already accepted
 * from this server (test 1, duplicates); an accepted reply's is added to it.
 */
export function evaluateReply(
  request: ClientRequest,
  t1: Instant,
  t4: Instant,
  bytes: Uint8Array,
  seenTransmits: Set<bigint> = new Set(),
): ReplyVerdict {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) return reject("undecodable", decoded.error.message);
  const p = decoded.packet;
  if (p.originTime !== request.cookie) {
    return reject("origin-mismatch", "origin timestamp does not echo our request");
  }
  if (p.mode !== NtpMode.Server) return reject("not-server-mode", `reply in mode ${p.mode}`);
  if (p.version !== NTP_VERSION) {
    return reject("bad-version", `reply is NTPv${p.version}, request was NTPv${NTP_VERSION}`);
  }
  const code = kissCode(p);
  if (code !== null) return { kind: "kod", code, action: kissAction(code), packet: p };
  if (seenTransmits.has(p.transmitTime)) {
    return reject("duplicate", "duplicate reply (same transmit timestamp)");
  }
  if (p.leap === 3) return reject("unsynchronised", "server is unsynchronised (leap 3)");
  if (p.stratum === 0 || p.stratum >= 16) {
    return reject("bad-stratum", `server stratum ${p.stratum} is not synchronised`);
  }
  if (p.receiveTime === 0n || p.transmitTime === 0n) {
    return reject("zero-timestamp", "receive or transmit timestamp is zero");
  }
  if (p.rootDelay / 2 + p.rootDispersion >= MAX_ROOT_DISTANCE) {
    return reject("bad-root-distance", "server root distance is 16 s or more");
  }
  const t2 = ntp64ToInstant(p.receiveTime, t1);
  const t3 = ntp64ToInstant(p.transmitTime, t1);
  const serverInterval = secondsBetween(t3, t2);
  if (serverInterval < 0 || serverInterval > MAX_SERVER_INTERVAL) {
    return reject("bad-server-interval", `server held the request ${serverInterval} s`);
  }
  // Offset and delay in integer nanoseconds first, so nothing is lost to doubles.
  const offsetNs = ((t2 - t1) + (t3 - t4)) / 2n;
  const delayNs = (t4 - t1) - (t3 - t2);
  const precision = Math.pow(2, p.precision) + LOCAL_PRECISION;
  const delay = Math.max(Number(delayNs) / 1e9, precision);
  const rootDistance = (p.rootDelay + delay) / 2 + p.rootDispersion + precision;
  seenTransmits.add(p.transmitTime);
  return {
    kind: "sample",
    measurement: {
      offset: Number(offsetNs) / 1e9,
      delay,
      dispersion: precision,
      rootDistance,
      t1,
      t2,
      t3,
      t4,
      packet: p,
    },
  };
}
