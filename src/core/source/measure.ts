/**
 * One client/server measurement, pure: the request (data-minimised, with a random transmit
 * timestamp as its cookie) and the checks and arithmetic on the reply - RFC 5905 tests 1-3,
 * 5-7, chrony's tests A-D, Kiss-o'-Death and authentication - giving a sample or a typed
 * rejection. The daemon's sources, `tempus sync`, `tempus query` and `daemon -q` all measure
 * through this one function.
 *
 * @module
 */
import { appendMac, checkPacketAuth, suggestedVersion } from "../../ntp/auth.ts";
import type { KeyStore, SymmetricKey } from "../../ntp/keyfile.ts";
import {
  decodePacket,
  emptyPacket,
  encodePacket,
  kissAction,
  kissCode,
  NtpMode,
  type NtpPacket,
} from "../../ntp/packet.ts";
import { instantToNtp64, ntp64ToInstant } from "../../ntp/timestamp.ts";
import { delayDevRatioOk, delayGateOk, delayRatioOk, type DelayTestInput } from "../delay_tests.ts";
import type { LeapStatus } from "../reports.ts";
import type { Instant } from "../../base/time.ts";
import type { PacketAuthenticator } from "./packet_auth.ts";
import { WORST_CASE_FREQ_BOUND } from "../sourcestats.ts";
import { NTP_MAX_DISPERSION, type NtpSample, type ReferenceState } from "../types.ts";
import {
  type InterleavedRequest,
  interleavedTimestamps,
  type PreviousExchange,
} from "./interleave.ts";
import { type PeerPolls, symmetricInterleavedTimestamps } from "./peer_interleave.ts";

/** Polls assumed when a symmetric interleaved measurement is given none. */
const NO_POLLS: PeerPolls = { remotePoll: 0, prevLocalPoll: 0 };

/** Largest server processing time accepted (test A), seconds (MAX_SERVER_INTERVAL). */
export const MAX_SERVER_INTERVAL = 4.0;

/** Test bits of the ntpdata report: 1,2,3,5,6,7,A,B,C,D in bits 0..9. */
export const TestBit = {
  T1: 1 << 0,
  T2: 1 << 1,
  T3: 1 << 2,
  T5: 1 << 3,
  T6: 1 << 4,
  T7: 1 << 5,
  TA: 1 << 6,
  TB: 1 << 7,
  TC: 1 << 8,
  TD: 1 << 9,
} as const;

/** A request ready to send, and the cookie its reply must echo as origin timestamp. */
export interface ClientRequest {
  /** The octets to send (48, plus a MAC with a key). */
  bytes: Uint8Array;
  /** The random transmit timestamp (raw 64 bits) the reply must echo. */
  cookie: bigint;
}

/** Options of a client request. */
export interface RequestOptions {
  /** NTP version (default 4; with a key, the version the key type suggests). */
  version?: number;
  /** Poll exponent to announce (servers echo it back; default 0). */
  poll?: number;
  /** Key to authenticate the request with. */
  key?: SymmetricKey | null;
}

/**
 * Builds a client request from 8 random octets: every field zero except LI/VN/mode, the
 * poll and the transmit timestamp, which is random, so the request reveals nothing about
 * the local clock (RFC 9109 and the data-minimisation draft).
 */
export function buildClientRequest(
  random8: Uint8Array,
  options: RequestOptions = {},
): ClientRequest {
  let cookie = 0n;
  for (let i = 0; i < 8; i++) cookie = (cookie << 8n) | BigInt(random8[i] ?? 0);
  if (cookie === 0n) cookie = 1n; // a zero origin would look like "no request"
  const packet = emptyPacket(NtpMode.Client);
  const key = options.key ?? null;
  const version = options.version ?? packet.version;
  packet.version = key === null ? version : suggestedVersion(key, version);
  packet.transmitTime = cookie;
  packet.poll = options.poll ?? 0;
  const bytes = encodePacket(packet);
  return { bytes: key === null ? bytes : appendMac(bytes, key), cookie };
}

/** What the measurement needs to know about the request a reply answers. */
export interface RequestState {
  /** The cookie sent as transmit timestamp. */
  cookie: bigint;
  /** Local (cooked) transmit time, T1. */
  localTx: Instant;
  /** A presend warm-up request (its reply fails test A). */
  presend: boolean;
  /** A valid reply to it was already processed (test 1). */
  answered: boolean;
  /** The interleaved fields it carried (xleave), or null/absent for a basic request. */
  interleave?: InterleavedRequest | null;
}

/** Everything besides the reply and the request that the tests look at. */
export interface MeasureContext {
  /** Transmit timestamp of the last valid reply from this server (test 1), or null. */
  lastRemoteTx: bigint | null;
  /**
   * How the reply must be authenticated (test 5): a symmetric key, an authenticator port
   * (NTS, see packet_auth.ts), or null for none.
   */
  auth: { keys: KeyStore; keyId: number } | { port: PacketAuthenticator } | null;
  /** Local clock precision, seconds. */
  localPrecision: number;
  /** Offset correction added to the measured offset (the `offset` source option). */
  offsetCorrection: number;
  /** Frequency error bound of the source's statistics, fraction (capped at 2000 ppm). */
  skew: number;
  /** maxdelay, seconds (test A). */
  maxDelay: number;
  /** maxdelayratio (test B). */
  maxDelayRatio: number;
  /** maxdelaydevratio (test C). */
  maxDelayDevRatio: number;
  /** maxclockerror, ppm (tests B and C). */
  maxClockError: number;
  /** The statistics' delay-test data at the sample time (tests B and C), or null. */
  delayTestData: (sampleTime: Instant) => DelayTestInput | null;
  /** Our reference state (test D), or null when there is none (one-shot). */
  reference: ReferenceState | null;
  /** Reference ID of our own address (test D), when known. */
  localRefId?: number;
  /**
   * A symmetric association (modes 1 and 2): a packet in mode 1 or 2 is the peer's answer, a
   * mode 4 is not, and the peer's hold time (T3 - T2, up to its polling interval) is not
   * limited to MAX_SERVER_INTERVAL (chrony applies that limit in client mode only).
   */
  symmetric?: boolean;
  /** The last valid exchange (interleaved mode), or null/absent. */
  previousExchange?: PreviousExchange | null;
  /** Polling intervals of a symmetric interleaved association (peer_interleave.ts). */
  peerPolls?: PeerPolls;
}

/** Why a reply gave no sample: the first test it failed. */
export type RejectReason =
  | "duplicate" // test 1
  | "origin-mismatch" // test 2
  | "zero-timestamp" // test 3
  | "authentication" // test 5
  | "unsynchronised" // test 6: leap 3
  | "bad-stratum" // test 6: stratum 0 or >= 16
  | "bad-root-distance" // test 7
  | "presend" // test A: a warm-up reply
  | "interleaved-unusable" // test A: an interleaved reply whose exchange cannot be used
  | "bad-delay" // test A: delay or precision over maxdelay
  | "bad-server-interval" // test A: the server held the request too long
  | "delay-ratio" // test B
  | "delay-deviation" // test C
  | "delay-gate" // slower than the newest replies (tempus's delay gate)
  | "sync-loop"; // test D

/** One line for each rejection reason. */
export const REJECT_TEXT: Readonly<Record<RejectReason, string>> = {
  "duplicate": "duplicate reply (same transmit timestamp)",
  "origin-mismatch": "origin timestamp does not echo our request",
  "zero-timestamp": "origin, receive or transmit timestamp is zero",
  "authentication": "authentication failed",
  "unsynchronised": "server is unsynchronised (leap 3)",
  "bad-stratum": "server stratum is not synchronised",
  "bad-root-distance": "server root distance is 16 s or more",
  "presend": "reply to a warm-up request",
  "interleaved-unusable": "interleaved reply following a basic one (exchange already used)",
  "bad-delay": "delay exceeds maxdelay",
  "bad-server-interval": "server held the request too long",
  "delay-ratio": "delay exceeds maxdelayratio",
  "delay-deviation": "delay exceeds maxdelaydevratio",
  "delay-gate": "delay above the newest replies' shortest (delay gate)",
  "sync-loop": "server is synchronised to us",
};

/** The numbers of a reply that passed tests 1, 2, 3 and 5. */
export interface Measurement {
  /** Offset, seconds: server minus local (> 0: local clock behind), with the correction. */
  offset: number;
  /** Round-trip delay, seconds (at least the precision). */
  delay: number;
  /** Dispersion of this measurement, seconds. */
  dispersion: number;
  /** The server's processing time (T3 - T2), seconds. */
  responseTime: number;
  /** The reply was interleaved: T1-T4 are those of the previous exchange (RFC 9769). */
  interleaved: boolean;
  /** Root distance: (rootDelay + delay)/2 + rootDispersion + dispersion, seconds. */
  rootDistance: number;
  /** Local transmit time (T1). */
  t1: Instant;
  /** Server receive time (T2), era resolved against T4. */
  t2: Instant;
  /** Server transmit time (T3). */
  t3: Instant;
  /** Local receive time (T4). */
  t4: Instant;
  /** The sample it makes for the statistics. */
  sample: NtpSample;
}

/** What a reply turned out to be. */
export type ReplyVerdict =
  /** Not a reply at all (undecodable, or not in server or symmetric-passive mode). */
  | { kind: "ignored"; detail: string }
  /**
   * Failed test 1, 2, 3 or 5: the request still waits for its reply. `kodRate`: it is a
   * KoD RATE to our request all the same (tests 1, 2, 5 passed; KoD packets often carry
   * zero timestamps), which the daemon's sources ignore and a one-shot honours.
   */
  | { kind: "invalid"; tests: number; reason: RejectReason; kodRate: boolean }
  /** Kiss-o'-Death DENY or RSTR: stop using the server. */
  | { kind: "kod"; tests: number; code: string; packet: NtpPacket }
  /**
   * A valid reply (tests 1, 2, 3, 5 passed). `synced`: tests 6 and 7 passed (the server is
   * reachable); `rejection` null: every test passed and `measurement.sample` may be used;
   * `kodRate`: a KoD RATE, which also asks us to back off.
   */
  | {
    kind: "valid";
    tests: number;
    packet: NtpPacket;
    measurement: Measurement;
    synced: boolean;
    rejection: RejectReason | null;
    kodRate: boolean;
  };

/** The reason of the first check (in order) that did not pass, or null when all passed. */
export function firstFailure<R>(
  checks: readonly (readonly [passed: boolean, reason: R])[],
): R | null {
  return checks.find(([passed]) => !passed)?.[1] ?? null;
}

/** Clamps `v` to [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Checks a reply (`bytes`, received at cooked time `rx`) to `request` and computes the
 * measurement (chrony's receive_packet tests, in its order).
 */
export function measureReply(
  bytes: Uint8Array,
  rx: Instant,
  request: RequestState,
  ctx: MeasureContext,
): ReplyVerdict {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) return { kind: "ignored", detail: decoded.error.message };
  const pkt = decoded.packet;
  const answerModes: readonly number[] = ctx.symmetric === true
    ? [NtpMode.SymmetricActive, NtpMode.SymmetricPassive]
    : [NtpMode.Server, NtpMode.SymmetricPassive];
  if (!answerModes.includes(pkt.mode)) {
    return { kind: "ignored", detail: `reply in mode ${pkt.mode}` };
  }

  // RFC 5905 tests.
  const test1 = !request.answered && pkt.transmitTime !== ctx.lastRemoteTx;
  // Test 2: the origin echoes our transmit cookie (basic) or, in interleaved mode, the
  // receive field we sent (the server answered with its previous reply's transmit time).
  const xleave = request.interleave ?? null;
  const previous = ctx.previousExchange ?? null;
  const basicReply = pkt.originTime === request.cookie;
  const interleaved = !basicReply && xleave !== null && previous !== null &&
    pkt.originTime === xleave.receiveCookie;
  const test2 = basicReply || interleaved;
  const test3 = pkt.originTime !== 0n && pkt.receiveTime !== 0n && pkt.transmitTime !== 0n;
  // Test 5: authenticated with the source's key, or not authenticated at all when the
  // source has none (chrony NAU_CheckResponseAuth: the mode must match).
  let test5: boolean;
  if (ctx.auth === null) test5 = pkt.mac === null;
  else if ("port" in ctx.auth) {
    // Only a reply echoing our request is shown to the authenticator (it may renew keys).
    test5 = test2 && ctx.auth.port.check(bytes) === "ok";
  } else {
    const auth = checkPacketAuth(bytes, ctx.auth.keys);
    test5 = auth.kind === "ok" && auth.key.id === ctx.auth.keyId;
  }

  // Kiss-o'-Death, honoured only for a reply to our request. DENY and RSTR stop the
  // source; RATE goes on as an unsynchronised reply and backs off the next request.
  const kiss = test1 && test2 && test5 && pkt.leap === 3 ? kissCode(pkt) : null;
  const kodRate = kiss !== null && kissAction(kiss) === "reduce-rate";
  if (kiss !== null && kissAction(kiss) === "demobilize") {
    return { kind: "kod", tests: TestBit.T1 | TestBit.T2, code: kiss, packet: pkt };
  }

  const test6 = pkt.leap !== 3 && pkt.stratum > 0 && pkt.stratum < 16;
  const test7 = pkt.rootDelay / 2 + pkt.rootDispersion < NTP_MAX_DISPERSION;

  let t1 = request.localTx;
  let t4 = rx;
  let t2 = ntp64ToInstant(pkt.receiveTime, t4);
  let t3 = ntp64ToInstant(pkt.transmitTime, t4);
  let rootDelay = pkt.rootDelay;
  let rootDispersion = pkt.rootDispersion;
  let interleavedOk = true;
  let maxInterleavedDelay = Infinity;
  if (interleaved) {
    const x = ctx.symmetric === true
      ? symmetricInterleavedTimestamps(
        pkt,
        rx,
        request.localTx,
        previous,
        ctx.peerPolls ?? NO_POLLS,
      )
      : {
        ...interleavedTimestamps(pkt, rx, request.localTx, xleave, previous),
        maxDelay: Infinity,
      };
    ({ t1, t2, t3, t4, rootDelay, rootDispersion } = x);
    interleavedOk = x.unusable === null;
    maxInterleavedDelay = x.maxDelay;
  }
  const localInterval = Number(t4 - t1) / 1e9;
  const remoteInterval = Number(t3 - t2) / 1e9;
  // The server's processing time: of the measured exchange (interleaved: T3 - its own T2).
  const responseTime = interleaved
    ? Number(t3 - ntp64ToInstant(previous.remoteRx, rx)) / 1e9
    : remoteInterval;
  const precision = ctx.localPrecision + 2 ** clamp(pkt.precision, -30, 0);
  let delay = Math.abs(localInterval - remoteInterval);
  delay = Math.max(delay, precision);
  const offset = Number((t2 - t1) + (t3 - t4)) / 2e9 + ctx.offsetCorrection;
  // Half the width of the source's frequency range, limited to the worst case (2000 ppm).
  const skew = Math.min(ctx.skew, WORST_CASE_FREQ_BOUND);
  const dispersion = precision + skew * Math.abs(localInterval);
  const sampleTime = t1 + (t4 - t1) / 2n;

  // chrony's extra tests.
  const delayOk = delay - dispersion <= ctx.maxDelay && precision <= ctx.maxDelay;
  const intervalOk = ctx.symmetric === true || Math.abs(responseTime) <= MAX_SERVER_INTERVAL;
  // Symmetric interleaved: a delay over half the polling interval means a lost packet.
  interleavedOk &&= delay <= maxInterleavedDelay;
  const testA = delayOk && !request.presend && intervalOk && interleavedOk;
  const dtd = ctx.delayTestData(sampleTime);
  const testB = delayRatioOk(dtd, delay, ctx.maxDelayRatio, ctx.maxClockError);
  const testC = delayDevRatioOk(dtd, offset, delay, ctx.maxDelayDevRatio, ctx.maxClockError);
  // tempus's delay gate (delay_tests.ts): a reply slower than the source's newest ones is held
  // back; it shows test C failed, as chronyc ntpdata and measurements.log say.
  const gateOk = delayGateOk(dtd, offset, delay, ctx.maxClockError);
  // Test D: the server is not synchronised to us (its reference ID is our address) and
  // is not us (same reference ID, stratum, root delay and reference time as ours: chrony's
  // check_sync_loop; without the reference time, orphan peers that all serve their local
  // reference at the same stratum would take each other for themselves).
  const ref = ctx.reference;
  const testD =
    !(pkt.stratum > 1 && ctx.localRefId !== undefined && pkt.refId === ctx.localRefId) &&
    !(ref !== null && ref.synchronised && pkt.stratum > 1 && pkt.refId === ref.refId &&
      pkt.stratum === ref.stratum && Math.abs(pkt.rootDelay - ref.rootDelay) < 1e-5 &&
      pkt.refTime !== 0n && pkt.refTime === instantToNtp64(ref.refTime));

  const tests = (test1 ? TestBit.T1 : 0) | (test2 ? TestBit.T2 : 0) |
    (test3 ? TestBit.T3 : 0) | (test5 ? TestBit.T5 : 0) | (test6 ? TestBit.T6 : 0) |
    (test7 ? TestBit.T7 : 0) | (testA ? TestBit.TA : 0) | (testB ? TestBit.TB : 0) |
    (testC && gateOk ? TestBit.TC : 0) | (testD ? TestBit.TD : 0);

  if (!test1) return { kind: "invalid", tests, reason: "duplicate", kodRate };
  if (!test2) return { kind: "invalid", tests, reason: "origin-mismatch", kodRate };
  if (!test3) return { kind: "invalid", tests, reason: "zero-timestamp", kodRate };
  if (!test5) return { kind: "invalid", tests, reason: "authentication", kodRate };

  const rejection = firstFailure<RejectReason>([
    [pkt.leap !== 3, "unsynchronised"],
    [test6, "bad-stratum"],
    [test7, "bad-root-distance"],
    [!request.presend, "presend"],
    [delayOk, "bad-delay"],
    [intervalOk, "bad-server-interval"],
    [interleavedOk, "interleaved-unusable"],
    [testB, "delay-ratio"],
    [testC, "delay-deviation"],
    [gateOk, "delay-gate"],
    [testD, "sync-loop"],
  ]);
  const measurement: Measurement = {
    offset,
    delay,
    dispersion,
    responseTime,
    interleaved,
    rootDistance: (rootDelay + delay) / 2 + rootDispersion + dispersion,
    t1,
    t2,
    t3,
    t4,
    sample: {
      time: sampleTime,
      offset,
      peerDelay: delay,
      peerDispersion: dispersion,
      rootDelay: rootDelay + delay,
      rootDispersion: rootDispersion + dispersion,
      stratum: pkt.stratum,
      leap: pkt.leap as LeapStatus,
    },
  };
  return {
    kind: "valid",
    tests,
    packet: pkt,
    measurement,
    synced: test6 && test7,
    rejection,
    kodRate,
  };
}
