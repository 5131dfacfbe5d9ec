/**
 * The client side of one NTS association after key establishment: the keys, a jar of
 * single-use cookies, and the unique identifier of the request in flight (RFC 8915 sections
 * 5.7 and 6). It builds requests (one cookie each, plus placeholders to refill the jar) and
 * checks replies; the caller does the I/O and the NTP timestamp checks.
 *
 * Sans-IO: random octets come from a function the caller supplies.
 *
 * @module
 */
import {
  buildNtsRequest,
  type NtpPacket,
  NTS_NONCE_LENGTH,
  type NtsReplyResult,
  verifyNtsReply,
} from "./ntp_fields.ts";

export type {
  ExtensionField,
  MacTrailer,
  NtpPacket,
  NtsError,
  NtsErrorKind,
  NtsReply,
  NtsReplyResult,
} from "./ntp_fields.ts";

/** Cookies a client aims to hold (RFC 8915 section 6: servers hand out 8). */
export const TARGET_COOKIES = 8;
/** Length of the unique identifiers this client sends. */
export const UNIQUE_ID_LENGTH = 32;

/** The keys and cookies the session starts from (what NTS-KE gave, see ke_client.ts). */
export interface NtsSessionKeys {
  /** Client-to-server key. */
  c2sKey: Uint8Array;
  /** Server-to-client key. */
  s2cKey: Uint8Array;
  /** Cookies from NTS-KE. */
  cookies: Uint8Array[];
}

/** Fills and returns `n` random octets (crypto.getRandomValues in production). */
export type RandomSource = (n: number) => Uint8Array;

/** One NTS association's client state. */
export class NtsSession {
  readonly #c2sKey: Uint8Array;
  readonly #s2cKey: Uint8Array;
  readonly #cookies: Uint8Array[];
  readonly #random: RandomSource;
  #pendingId: Uint8Array | null = null;
  #nak = false;

  /** Starts from the result of an NTS-KE exchange. */
  constructor(keys: NtsSessionKeys, random: RandomSource) {
    this.#c2sKey = keys.c2sKey;
    this.#s2cKey = keys.s2cKey;
    this.#cookies = keys.cookies.slice(0, TARGET_COOKIES);
    this.#random = random;
  }

  /** Cookies left in the jar. */
  get cookieCount(): number {
    return this.#cookies.length;
  }

  /** Copies of the cookies held (for the dump file). */
  cookies(): Uint8Array[] {
    return this.#cookies.map((c) => c.slice());
  }

  /** True after an NTS NAK (NTSN): the keys are no longer accepted. */
  get nak(): boolean {
    return this.#nak;
  }

  /** True when the client must run NTS-KE again: no cookie left, or the server sent NTSN. */
  get needsKeyEstablishment(): boolean {
    return this.#cookies.length === 0 || this.#nak;
  }

  /**
   * Builds the next request around `header` (mode 3, with the transmit timestamp the caller
   * will check as origin), spending the oldest cookie and asking for enough new ones to
   * refill the jar. Returns null when no cookie is left (run NTS-KE again). A request
   * replaces the one in flight: a late reply to an earlier request is then refused.
   */
  buildRequest(header: NtpPacket): Uint8Array | null {
    const cookie = this.#cookies.shift();
    if (cookie === undefined) return null;
    const uniqueId = this.#random(UNIQUE_ID_LENGTH).slice();
    const placeholders = Math.max(0, TARGET_COOKIES - this.#cookies.length - 1);
    this.#pendingId = uniqueId;
    return buildNtsRequest({
      header,
      uniqueId,
      cookie,
      placeholders,
      c2sKey: this.#c2sKey,
      nonce: this.#random(NTS_NONCE_LENGTH).slice(),
    });
  }

  /**
   * Checks a reply to the request in flight. On success the new cookies join the jar (up to
   * the target) and the request is no longer in flight, so a duplicate is refused. An NTSN
   * Kiss-o'-Death echoing the identifier marks the session for a new NTS-KE. Never throws.
   */
  acceptReply(bytes: Uint8Array): NtsReplyResult {
    if (this.#pendingId === null) {
      return {
        ok: false,
        error: { kind: "unique-id-mismatch", message: "no NTS request in flight" },
      };
    }
    const result = verifyNtsReply(bytes, this.#s2cKey, this.#pendingId);
    if (result.ok) {
      this.#pendingId = null;
      for (const cookie of result.reply.cookies) {
        if (this.#cookies.length < TARGET_COOKIES) this.#cookies.push(cookie);
      }
    } else if (result.error.kind === "nts-nak") {
      this.#pendingId = null;
      this.#nak = true;
    }
    return result;
  }
}
