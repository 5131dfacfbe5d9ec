/**
 * One broadcast (mode 5) packet measured, pure: decoding, authentication (a MAC with a key
 * of the keyfile, unless unauthenticated broadcasts were allowed), the duplicate and
 * zero-timestamp tests (a broadcast not newer than the last one used is a duplicate or a
 * replay), RFC 5905 tests 6 and 7, tempus's sync-loop test D, and the offset
 * from the broadcaster's transmit time plus half the calibrated round-trip delay.
 *
 * @module
 */
import { checkPacketAuth } from "../../ntp/auth.ts";
import type { KeyStore } from "../../ntp/keyfile.ts";
import { decodePacket, NtpMode, type NtpPacket } from "../../ntp/packet.ts";
import { ntp64Difference, ntp64ToInstant } from "../../ntp/timestamp.ts";
import type { LeapStatus } from "../reports.ts";
import type { Instant } from "../../base/time.ts";
import { NTP_MAX_DISPERSION, type NtpSample } from "../types.ts";
import { clamp, firstFailure, type MeasureContext, TestBit } from "./measure.ts";

/** What a broadcast is checked against. */
export interface BroadcastCheck {
  /** The keyfile (null: none, so only unauthenticated broadcasts can pass). */
  keys: KeyStore | null;
  /** Accept broadcasts without a MAC. */
  unauthenticated: boolean;
}

/** Why a broadcast was not usable at all. */
export type BroadcastRejection =
  | "not-broadcast"
  | "authentication"
  | "duplicate"
  | "zero-timestamp";

/**
 * The first checks of a broadcast, shared by routing (should an association be mobilised?)
 * and the association itself: decoded, mode 5, authenticated as required. Never throws.
 */
export function checkBroadcast(
  bytes: Uint8Array,
  check: BroadcastCheck,
): { ok: true; packet: NtpPacket; keyId: number | null } | {
  ok: false;
  reason: BroadcastRejection;
  detail: string;
} {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) return { ok: false, reason: "not-broadcast", detail: decoded.error.message };
  const packet = decoded.packet;
  if (packet.mode !== NtpMode.Broadcast) {
    return { ok: false, reason: "not-broadcast", detail: `mode ${packet.mode}` };
  }
  const auth = checkPacketAuth(bytes, check.keys);
  if (auth.kind === "ok") return { ok: true, packet, keyId: auth.key.id };
  if (auth.kind === "none" && check.unauthenticated) return { ok: true, packet, keyId: null };
  return {
    ok: false,
    reason: "authentication",
    detail: auth.kind === "bad" ? auth.reason : "no MAC",
  };
}

/** What measuring a broadcast needs besides the packet. */
export interface BroadcastMeasureContext extends
  BroadcastCheck,
  Pick<
    MeasureContext,
    "lastRemoteTx" | "localPrecision" | "offsetCorrection" | "reference" | "localRefId"
  > {
  /** Round-trip delay to the broadcaster (calibrated, or `broadcastdelay` doubled), s. */
  roundTripDelay: number;
  /** Spread of the calibration delays, seconds (added to the dispersion). */
  delaySpread: number;
}

/** A measured broadcast. */
export type BroadcastVerdict =
  | { kind: "invalid"; reason: BroadcastRejection; detail: string; tests: number }
  | {
    kind: "valid";
    packet: NtpPacket;
    tests: number;
    /** Tests 6 and 7 passed: the broadcaster counts as reachable. */
    synced: boolean;
    /** null: the sample may be used. */
    rejection: "unsynchronised" | "bad-stratum" | "bad-root-distance" | "sync-loop" | null;
    sample: NtpSample;
  };

/** Checks and measures broadcast `bytes` received at cooked time `rx`. */
export function measureBroadcast(
  bytes: Uint8Array,
  rx: Instant,
  ctx: BroadcastMeasureContext,
): BroadcastVerdict {
  const checked = checkBroadcast(bytes, ctx);
  if (!checked.ok) {
    const tests = checked.reason === "authentication" ? TestBit.T1 | TestBit.T2 : 0;
    return { kind: "invalid", reason: checked.reason, detail: checked.detail, tests };
  }
  const pkt = checked.packet;
  if (pkt.transmitTime === 0n) {
    return { kind: "invalid", reason: "zero-timestamp", detail: "transmit time 0", tests: 0 };
  }
  // A broadcast older than (or the same as) the last one used is a duplicate or a replay of a
  // recorded, validly signed packet: its stale time must not become a sample.
  if (ctx.lastRemoteTx !== null && ntp64Difference(pkt.transmitTime, ctx.lastRemoteTx) <= 0) {
    return { kind: "invalid", reason: "duplicate", detail: "not newer than the last", tests: 0 };
  }
  const test6 = pkt.leap !== 3 && pkt.stratum > 0 && pkt.stratum < 16;
  const test7 = pkt.rootDelay / 2 + pkt.rootDispersion < NTP_MAX_DISPERSION;
  const ref = ctx.reference;
  const testD =
    !(pkt.stratum > 1 && ctx.localRefId !== undefined && pkt.refId === ctx.localRefId) &&
    !(ref !== null && ref.synchronised && pkt.stratum > 1 && pkt.refId === ref.refId &&
      pkt.stratum === ref.stratum && Math.abs(pkt.rootDelay - ref.rootDelay) < 1e-5);
  const t3 = ntp64ToInstant(pkt.transmitTime, rx);
  const precision = ctx.localPrecision + 2 ** clamp(pkt.precision, -30, 0);
  const delay = Math.max(ctx.roundTripDelay, precision);
  const offset = Number(t3 - rx) / 1e9 + delay / 2 + ctx.offsetCorrection;
  const dispersion = precision + ctx.delaySpread;
  // Tests 1, 2, 3 and 5 passed (no duplicate, a broadcast needs no origin, timestamps set,
  // authenticated as required); A-C concern round trips a broadcast does not make.
  const tests = TestBit.T1 | TestBit.T2 | TestBit.T3 | TestBit.T5 | TestBit.TA | TestBit.TB |
    TestBit.TC | (test6 ? TestBit.T6 : 0) | (test7 ? TestBit.T7 : 0) | (testD ? TestBit.TD : 0);
  return {
    kind: "valid",
    packet: pkt,
    tests,
    synced: test6 && test7,
    rejection: firstFailure([
      [pkt.leap !== 3, "unsynchronised"],
      [test6, "bad-stratum"],
      [test7, "bad-root-distance"],
      [testD, "sync-loop"],
    ]),
    sample: {
      time: rx,
      offset,
      peerDelay: delay,
      peerDispersion: dispersion,
      rootDelay: pkt.rootDelay + delay,
      rootDispersion: pkt.rootDispersion + dispersion,
      stratum: pkt.stratum,
      leap: pkt.leap as LeapStatus,
    },
  };
}
