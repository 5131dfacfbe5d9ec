/**
 * The requests an NTP client source has in flight: building each one (random cookie, key),
 * its transmit time (corrected by the kernel's timestamp and by clock changes), and measuring
 * a reply against it with `measureReply`. At most two are kept: the current one and, for
 * presend, the one before.
 *
 * @module
 */
import { appendMac } from "../../ntp/auth.ts";
import { KeyStore, type SymmetricKey } from "../../ntp/keyfile.ts";
import type { RandomPort } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "../types.ts";
import type { PacketAuthenticator } from "./packet_auth.ts";
import {
  buildClientRequest,
  type MeasureContext,
  measureReply,
  type ReplyVerdict,
  type RequestState,
} from "./measure.ts";
import {
  adjustPreviousExchange,
  interleavedRequestFields,
  type PreviousExchange,
} from "./interleave.ts";
import { decodePacket, encodePacket } from "../../ntp/packet.ts";

/** One outstanding request. */
export interface Request extends RequestState {
  /** The engine's token for it. */
  token: number;
  /** The previous poll went unanswered (set for a regular request). */
  missed: boolean;
  /** Its transmit time is the kernel's timestamp (`transmitted`), not the daemon's reading. */
  kernelTx?: boolean;
}

/** The tests' context less what the requests know themselves (test 1 and the key). */
export type ReplyContext = Omit<MeasureContext, "lastRemoteTx" | "auth" | "previousExchange">;

/** Requests in flight, for one source. */
export class RequestLog {
  /** Cooked time of the last regular request, kept corrected for clock changes. */
  lastTx: Instant | null = null;
  readonly #random: RandomPort;
  readonly #key: SymmetricKey | null;
  readonly #auth: MeasureContext["auth"];
  #requests: Request[] = [];
  #nextToken = 1;
  #lastRemoteTx: bigint | null = null;
  /** The last valid exchange, kept for interleaved mode (xleave). */
  #previous: PreviousExchange | null = null;

  readonly #port: PacketAuthenticator | null;

  /**
   * Requests signed with `key` (null: none) and checked for `keyId`'s MAC, or protected and
   * checked by `port` (NTS).
   */
  constructor(
    random: RandomPort,
    key: SymmetricKey | null,
    port: PacketAuthenticator | null = null,
  ) {
    this.#random = random;
    this.#key = key;
    this.#port = port;
    this.#auth = port !== null
      ? { port }
      : key === null
      ? null
      : { keys: new KeyStore([key]), keyId: key.id };
  }

  /**
   * Builds a request; `now` stands as its transmit time until the engine reports it sent.
   * Null when the authenticator cannot protect one now (NTS keys being established).
   */
  create(
    options: { version: number; poll: number; interleaved?: boolean },
    presend: boolean,
    missed: boolean,
    now: Instant,
  ): { token: number; bytes: Uint8Array } | null {
    const random8 = new Uint8Array(8);
    this.#random.fill(random8);
    const { interleaved, ...basic } = options;
    // With an authenticator (NTS) the request carries no symmetric-key MAC.
    const key = this.#port === null ? this.#key : null;
    const request = buildClientRequest(random8, { ...basic, key });
    // Interleaved (xleave): the previous reply's receive timestamp as origin, a random
    // receive field; only after a valid reply, and only in NTPv4 (chrony).
    let interleave = null;
    let bytes = request.bytes;
    const prev = this.#previous;
    if (interleaved === true && prev !== null && (bytes[0] >> 3 & 7) === 4) {
      this.#random.fill(random8);
      interleave = interleavedRequestFields(prev, random8, request.cookie);
      const decoded = decodePacket(bytes.subarray(0, 48));
      if (decoded.ok) {
        decoded.packet.originTime = interleave.origin;
        decoded.packet.receiveTime = interleave.receiveCookie;
        const header = encodePacket(decoded.packet);
        bytes = key === null ? header : appendMac(header, key);
      } else interleave = null;
    }
    if (this.#port !== null) {
      const protectedBytes = this.#port.protect(bytes);
      if (protectedBytes === null) return null;
      bytes = protectedBytes;
    }
    const token = this.#nextToken++;
    while (this.#requests.length >= 2) this.#requests.shift();
    this.#requests.push({
      token,
      cookie: request.cookie,
      localTx: now,
      presend,
      answered: false,
      missed,
      interleave,
    });
    return { token, bytes };
  }

  /** The request of `token`, if still kept. */
  find(token: number): Request | undefined {
    return this.#requests.find((r) => r.token === token);
  }

  /** True when `token` is the newest request. */
  isLatest(token: number): boolean {
    return this.#requests[this.#requests.length - 1]?.token === token;
  }

  /** The engine sent the request at `txTime`; returns it. */
  sent(token: number, txTime: Instant): Request | undefined {
    const req = this.find(token);
    if (req === undefined) return undefined;
    req.localTx = txTime;
    if (!req.presend) this.lastTx = txTime;
    return req;
  }

  /** A better transmit time (kernel timestamp) for a request not yet answered. */
  transmitted(token: number, txTime: Instant): void {
    const req = this.find(token);
    if (req === undefined || req.answered) return;
    req.localTx = txTime;
    req.kernelTx = true;
    if (!req.presend && this.isLatest(token)) this.lastTx = txTime;
  }

  /** Forgets every request. */
  clear(): void {
    this.#requests = [];
  }

  /**
   * Measures a reply to request `req` received at `rx`; a valid reply or a KoD answers the
   * request (test 1 then refuses a duplicate).
   */
  measure(req: Request, bytes: Uint8Array, rx: Instant, ctx: ReplyContext): ReplyVerdict {
    const verdict = measureReply(bytes, rx, req, {
      ...ctx,
      lastRemoteTx: this.#lastRemoteTx,
      auth: this.#auth,
      previousExchange: this.#previous,
    });
    if (verdict.kind === "kod") req.answered = true;
    if (verdict.kind === "valid") {
      req.answered = true;
      const p = verdict.packet;
      this.#lastRemoteTx = p.transmitTime;
      this.#previous = {
        remoteRx: p.receiveTime,
        remoteTx: p.transmitTime,
        localRx: rx,
        localTx: verdict.measurement.interleaved ? req.localTx : null,
        rootDelay: p.rootDelay,
        rootDispersion: p.rootDispersion,
        synced: verdict.synced,
      };
    }
    return verdict;
  }

  /** Moves the stored transmit times onto the new clock scale. */
  applyClockChange(change: ClockChangeEvent): void {
    for (const r of this.#requests) r.localTx = adjustForClockChange(r.localTx, change).instant;
    if (this.lastTx !== null) this.lastTx = adjustForClockChange(this.lastTx, change).instant;
    if (this.#previous !== null) this.#previous = adjustPreviousExchange(this.#previous, change);
  }
}
