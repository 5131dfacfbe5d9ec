/**
 * The NTP server responder (chrony's NCR_ProcessRxUnknown): validates a request, applies the
 * access table and rate limiting, and writes a 48-octet mode-4 reply from the reference state
 * - or, to a symmetric active packet (mode 1) from a host with no configured peer, a mode-2
 * (symmetric passive) reply built the same way, without creating any association state
 * (chrony's choice: an unknown active peer can measure us, we never follow it). Extension fields and MACs of the request are never echoed, so a
 * reply is never longer than its request.
 *
 * Pure: the receive time comes in as an argument and the transmit time through a callback
 * read as late as possible (after every other field is written).
 *
 * @module
 */
import type { ServerAuthenticator } from "./server_auth.ts";
import { decodePacket, NTP_HEADER_LENGTH } from "../ntp/packet.ts";
import { checkPacketAuth, MAX_MAC_LENGTH, writeMac } from "../ntp/auth.ts";
import type { KeyStore, SymmetricKey } from "../ntp/keyfile.ts";
import { secondsToNtpShort } from "../ntp/timestamp.ts";
import type { AccessTable } from "./access.ts";
import type { ClientLog } from "./client_log.ts";
import type { Instant } from "../base/time.ts";
import type { ReferenceState } from "./types.ts";

/** Where a request came from. */
export interface RequestSource {
  /** IP literal. */
  address: string;
  /** UDP port. */
  port: number;
}

/** What the responder consults before answering. */
export interface ServerPolicy {
  /** allow/deny table for NTP service. */
  access: AccessTable;
  /** Client log with rate limiting (null = `noclientlog`, no rate limiting). */
  clientLog: ClientLog | null;
  /**
   * Symmetric keys (keyfile). A request with a MAC that verifies with one of them gets a
   * reply with a MAC of the same key; any other request with a MAC gets no reply (chrony).
   */
  keys?: KeyStore | null;
  /** NTS (server_auth.ts): requests it recognises are answered through it. */
  nts?: ServerAuthenticator | null;
}

/** Why a request got no normal reply (counters kept by `NtpResponder`). */
export interface ResponderStats {
  /** Datagrams handed to the responder. */
  received: number;
  /** Not a valid NTP packet (bad length, version, trailer...). */
  malformed: number;
  /** Valid, but neither a client request (3) nor a symmetric active packet (1); 6/7 included. */
  ignoredMode: number;
  /** From an address the access table denies. */
  denied: number;
  /** Dropped by rate limiting. */
  rateDropped: number;
  /** Answered with a KoD RATE. */
  kod: number;
  /** Carried a MAC that did not verify (unknown key, bad digest, crypto-NAK): no reply. */
  authFailed: number;
  /** Answered normally. */
  replied: number;
}

/** Counters that have seen nothing yet. */
export function emptyResponderStats(): ResponderStats {
  return {
    received: 0,
    malformed: 0,
    ignoredMode: 0,
    denied: 0,
    rateDropped: 0,
    kod: 0,
    authFailed: 0,
    replied: 0,
  };
}

/** Adds every counter of `more` into `sum` (e.g. one responder per socket); returns `sum`. */
export function addResponderStats<T extends ResponderStats>(sum: T, more: ResponderStats): T {
  for (const key of Object.keys(emptyResponderStats()) as (keyof ResponderStats)[]) {
    sum[key] += more[key];
  }
  return sum;
}

/**
 * Writes instant `t` at `offset` of `view` as a 64-bit NTP timestamp, exactly as
 * `instantToNtp64` (32.32 since 1900 modulo the era, nanoseconds rounded to the nearest
 * 2^-32 s), with two bigint operations instead of about ten: the fraction is computed in
 * exact integer arithmetic on doubles (ns · 2^23 < 2^53, and 10^9 = 5^9 · 2^9).
 */
export function writeNtpTimestamp(view: DataView, offset: number, t: Instant): void {
  const wholeSeconds = t / 1_000_000_000n;
  let ns = Number(t - wholeSeconds * 1_000_000_000n);
  let seconds = Number(wholeSeconds);
  if (ns < 0) {
    ns += 1e9;
    seconds -= 1;
  }
  // round(ns · 2^32 / 10^9) = round(ns · 2^23 / 5^9); a = ns · 2^23 is exact.
  const a = ns * 8_388_608;
  let q = Math.floor(a / 1_953_125);
  let r = a - q * 1_953_125;
  if (r < 0) {
    q -= 1;
    r += 1_953_125;
  } else if (r >= 1_953_125) {
    q += 1;
    r -= 1_953_125;
  }
  if (r >= 976_563) q += 1; // r is an integer and 5^9 / 2 = 976 562.5: no ties
  const era = seconds + 2_208_988_800;
  view.setUint32(offset, ((era % 4_294_967_296) + 4_294_967_296) % 4_294_967_296, false);
  view.setUint32(offset + 4, q, false);
}

/** The KoD RATE reference ID ("RATE"). */
export const KOD_RATE_REFID = 0x52415445;
/** Mode of a client request. */
const MODE_CLIENT = 3;
/** Mode of a symmetric active packet (answered passively, without state, as chrony). */
const MODE_ACTIVE = 1;
/** Mode of the passive answer. */
const MODE_PASSIVE = 2;
/** Mode of a server reply. */
const MODE_SERVER = 4;
/** Stratum announced when unsynchronised. */
const UNSYNC_STRATUM = 16;

/**
 * Answers NTP client requests. Keeps one 48-octet output buffer: the array returned by
 * `respond` is only valid until the next call (send it before responding again).
 */
export class NtpResponder {
  /** Room for a header and the longest MAC; unauthenticated replies use the first 48. */
  readonly #buffer = new Uint8Array(NTP_HEADER_LENGTH + MAX_MAC_LENGTH);
  readonly #out = this.#buffer.subarray(0, NTP_HEADER_LENGTH);
  readonly #view = new DataView(this.#buffer.buffer);
  readonly #policy: ServerPolicy;
  /** The last reference time written, and its NTP form. */
  #refTime: Instant = 0n;
  readonly #refTimeBytes = new Uint8Array(8);
  /** Counters of what happened to requests. */
  readonly stats: ResponderStats = emptyResponderStats();
  /**
   * Set by `respond` when its reply was saved for interleaved mode: the reply's receive
   * timestamp field, under which the edge reports the kernel's transmit timestamp
   * (`clientLog.txTimestamps.updateTx`); null otherwise.
   */
  savedRxKey: bigint | null = null;
  /**
   * Set by `respond`: true when its reply's transmit field is the time `readTxTime` gave and
   * nothing covers it (no MAC, no NTS fields), so the edge may write a later reading of the
   * same clock there just before the send (src/io/batched_replies.ts).
   */
  txFromClock = false;

  /** Creates a responder over an access table and client log. */
  constructor(policy: ServerPolicy) {
    this.#policy = policy;
  }

  /**
   * Handles one datagram: returns the reply to send (this responder's reused buffer) or
   * null for no reply. Never throws on any input.
   *
   * @param request the datagram as received
   * @param from its source address
   * @param rxTime cooked local time at which it was received
   * @param reference what we announce (leap, stratum, refid, root delay/dispersion...)
   * @param readTxTime reads the cooked clock; called once, just before the reply is done
   */
  respond(
    request: Uint8Array,
    from: RequestSource,
    rxTime: Instant,
    reference: ReferenceState,
    readTxTime: () => Instant,
  ): Uint8Array | null {
    this.stats.received++;
    this.savedRxKey = null;
    this.txFromClock = false;
    let version: number;
    let mode: number;
    if (request.length === NTP_HEADER_LENGTH) {
      // Fast path for the common header-only request: the same checks decodePacket makes
      // on 48 octets (mode 6/7 control, mode 0, version 1-4), without building a packet.
      mode = request[0] & 7;
      version = (request[0] >> 3) & 7;
      if (mode === 6 || mode === 7) {
        this.stats.ignoredMode++;
        return null;
      }
      if (mode === 0 || version < 1 || version > 4) {
        this.stats.malformed++;
        return null;
      }
    } else {
      const decoded = decodePacket(request);
      if (decoded.ok) {
        mode = decoded.packet.mode;
        version = decoded.packet.version;
      } else if (
        decoded.error.kind === "bad-extension-length" &&
        checkPacketAuth(request, this.#policy.keys ?? null).kind === "ok"
      ) {
        // An NTPv4 request with a MAC longer than 24 octets right after the header (older
        // chrony clients with SHA256 and longer keys) that authenticates (chrony does too).
        mode = request[0] & 7;
        version = (request[0] >> 3) & 7;
      } else {
        if (decoded.error.kind === "control-mode") this.stats.ignoredMode++;
        else this.stats.malformed++;
        return null;
      }
    }
    if (mode !== MODE_CLIENT && mode !== MODE_ACTIVE) {
      this.stats.ignoredMode++;
      return null;
    }
    if (!this.#policy.access.isAllowed(from.address)) {
      this.stats.denied++;
      return null;
    }
    const log = this.#policy.clientLog;
    const decision = log === null ? "respond" : log.ntpRequest(from.address, rxTime);
    if (decision === "drop") {
      this.stats.rateDropped++;
      return null;
    }
    let replyKey: SymmetricKey | null = null;
    const nts = request.length > NTP_HEADER_LENGTH && this.#policy.nts
      ? this.#policy.nts.check(request)
      : null;
    if (nts?.kind === "drop") {
      this.stats.authFailed++;
      return null;
    }
    if (nts?.kind === "reply") log?.countAuthenticated();
    else if (request.length > NTP_HEADER_LENGTH) {
      const auth = checkPacketAuth(request, this.#policy.keys ?? null);
      if (auth.kind === "bad") {
        // chrony (NAU_CheckRequestAuth failing): no reply at all, not even a crypto-NAK.
        this.stats.authFailed++;
        return null;
      }
      if (auth.kind === "ok") {
        replyKey = auth.key;
        log?.countAuthenticated();
      }
    }
    const out = this.#out;
    const view = this.#view;
    const kod = decision === "kod";
    const synced = reference.synchronised;
    const leap = kod || !synced ? 3 : reference.leap & 3;
    out[0] = (leap << 6) | (version << 3) | (mode === MODE_ACTIVE ? MODE_PASSIVE : MODE_SERVER);
    out[1] = kod ? 0 : synced ? reference.stratum & 0xff : UNSYNC_STRATUM;
    out[2] = request[2]; // poll, copied from the request
    out[3] = reference.precisionLog2 & 0xff;
    if (kod) {
      view.setUint32(4, 0);
      view.setUint32(8, 0);
      view.setUint32(12, KOD_RATE_REFID);
      view.setBigUint64(16, 0n);
    } else {
      view.setUint32(4, secondsToNtpShort(reference.rootDelay));
      view.setUint32(
        8,
        secondsToNtpShort(synced ? rootDispersionAt(reference, rxTime) : reference.rootDispersion),
      );
      view.setUint32(12, reference.refId >>> 0);
      if (reference.refTime !== this.#refTime) {
        // Converted once per reference update, not per request.
        this.#refTime = reference.refTime;
        if (reference.refTime === 0n) this.#refTimeBytes.fill(0);
        else writeNtpTimestamp(new DataView(this.#refTimeBytes.buffer), 0, reference.refTime);
      }
      out.set(this.#refTimeBytes, 16);
    }
    // Origin = the request's transmit timestamp, copied octet for octet.
    out.set(request.subarray(40, 48), 24);
    writeNtpTimestamp(view, 32, rxTime);
    // chrony's flag for interleaved mode: receive timestamps end in 1, transmit in 0, so a
    // request whose origin ends in 1 names one of our receive timestamps.
    out[39] |= 1;
    const store = kod ? null : log?.txTimestamps ?? null;
    const interleaved = store != null && isInterleavedRequest(request, version);
    if (interleaved) {
      const txNow = readTxTime();
      const previousTx = store.take(readOrigin(request), from.address);
      if (previousTx !== null) {
        // Interleaved reply: origin = the request's receive field, transmit = the time the
        // previous reply to this client really left.
        out.set(request.subarray(32, 40), 24);
        writeNtpTimestamp(view, 40, previousTx);
      } else writeNtpTimestamp(view, 40, txNow);
      out[47] &= 0xfe;
      this.savedRxKey = view.getBigUint64(32, false);
      store.save(this.savedRxKey, from.address, txNow);
    } else {
      writeNtpTimestamp(view, 40, readTxTime());
      out[47] &= 0xfe;
    }
    if (kod) this.stats.kod++;
    else this.stats.replied++;
    if (nts?.kind === "reply") return nts.finish(out, readTxTime);
    if (replyKey !== null) {
      return this.#buffer.subarray(0, writeMac(this.#buffer, NTP_HEADER_LENGTH, replyKey));
    }
    this.txFromClock = !interleaved;
    return out;
  }
}

/**
 * Whether a request may go on in interleaved mode (chrony's NCR_ProcessRxUnknown): NTPv4,
 * an origin timestamp ending in 1 (one of our receive timestamps, see `respond`) and a
 * receive field that differs from the transmit field.
 */
export function isInterleavedRequest(request: Uint8Array, version: number): boolean {
  if (version !== 4 || request.length < NTP_HEADER_LENGTH || (request[31] & 1) === 0) {
    return false;
  }
  for (let i = 0; i < 8; i++) if (request[32 + i] !== request[40 + i]) return true;
  return false;
}

/** The origin timestamp of a request, as 64 raw bits. */
function readOrigin(request: Uint8Array): bigint {
  let v = 0n;
  for (let i = 24; i < 32; i++) v = (v << 8n) | BigInt(request[i]);
  return v;
}

/**
 * Root dispersion announced at `now` while synchronised: the reference's root dispersion
 * grown by its dispersion rate over the time since the reference time (never below the
 * stored value). Unsynchronised replies carry the reference's value as it is.
 */
export function rootDispersionAt(reference: ReferenceState, now: Instant): number {
  if (reference.refTime === 0n) return reference.rootDispersion;
  const age = Number(now - reference.refTime) / 1e9;
  const grown = reference.rootDispersion + reference.dispersionRate * Math.abs(age);
  return Number.isFinite(grown) ? grown : reference.rootDispersion;
}

/**
 * One-shot form of `NtpResponder.respond` that returns a fresh array (for callers that keep
 * replies; the hot path should hold an `NtpResponder`).
 */
export function respond(
  request: Uint8Array,
  from: RequestSource,
  rxTime: Instant,
  reference: ReferenceState,
  readTxTime: () => Instant,
  policy: ServerPolicy,
): Uint8Array | null {
  const reply = new NtpResponder(policy).respond(request, from, rxTime, reference, readTxTime);
  return reply === null ? null : reply.slice();
}
