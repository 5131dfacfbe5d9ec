/**
 * The server side of NTS for NTPv4 (RFC 8915 section 5.7), pure: check a client's request
 * (cookie opened with the master keys, authenticator verified with the client-to-server key
 * it holds), then answer with the unique identifier echoed and fresh cookies encrypted under
 * the server-to-client key, or with an NTSN Kiss-o'-Death when the cookie or the
 * authenticator does not check. The caller supplies the reply's NTP header, the nonces and
 * the new cookies (made with cookies.ts). Checking never throws.
 *
 * @module
 */
import { type CookieContents, type CookieKey, openCookie } from "./cookies.ts";
import {
  buildNtsPacket,
  KOD_NTSN,
  type NtpPacket,
  type NtsError,
  type NtsErrorKind,
  NtsFieldType,
  openNtsPacket,
} from "./ntp_fields.ts";
import { decodePacket, encodePacket } from "../ntp/packet.ts";

export type { CookieContents, CookieKey, NtpPacket, NtsError };

/** Most cookies one request may ask for (its cookie plus placeholders). */
export const MAX_COOKIES_PER_REPLY = 8;

/** Result of checking a client's NTS request. */
export type NtsRequestCheck =
  | {
    ok: true;
    /** The client's unique identifier, to echo. */
    uniqueId: Uint8Array;
    /** The keys from the cookie. */
    keys: CookieContents;
    /** Cookies to send back: one per cookie and placeholder field, at most 8. */
    cookiesWanted: number;
  }
  | {
    ok: false;
    /** True when the answer should be an NTSN Kiss-o'-Death (bad cookie or authenticator). */
    nak: boolean;
    /** The unique identifier to echo in the NTSN, when the request had exactly one. */
    uniqueId: Uint8Array | null;
    /** Why. */
    error: NtsError;
  };

/** A refused request: whether to answer with an NTSN, the identifier to echo, and why. */
function refuse(
  nak: boolean,
  uniqueId: Uint8Array | null,
  kind: NtsErrorKind,
  message: string,
): NtsRequestCheck {
  return { ok: false, nak, uniqueId, error: { kind, message } };
}

/**
 * Checks a client request against the master cookie keys. Requests that are not NTS at
 * all (no authenticator) are refused without NAK so the caller can serve them as plain NTP
 * if it wishes. Never throws.
 */
export function checkNtsRequest(
  bytes: Uint8Array,
  masters: readonly CookieKey[],
): NtsRequestCheck {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) return refuse(false, null, "decode", decoded.error.message);
  const fields = decoded.packet.extensions;
  const authIndex = fields.findIndex((f) => f.type === NtsFieldType.AUTHENTICATOR);
  if (authIndex < 0) return refuse(false, null, "no-authenticator", "not an NTS request");
  const before = fields.slice(0, authIndex);
  const ids = before.filter((f) => f.type === NtsFieldType.UNIQUE_IDENTIFIER);
  const cookies = before.filter((f) => f.type === NtsFieldType.COOKIE);
  const placeholders = before.filter((f) => f.type === NtsFieldType.COOKIE_PLACEHOLDER);
  const uniqueId = ids.length === 1 ? ids[0].value : null;
  if (uniqueId === null || uniqueId.length < 32) {
    return refuse(false, null, "no-unique-id", "NTS request needs exactly one unique identifier");
  }
  const keys = cookies.length === 1 ? openCookie(masters, cookies[0].value) : null;
  if (keys === null) {
    return refuse(true, uniqueId, "auth-failed", "NTS request without exactly one valid cookie");
  }
  const opened = openNtsPacket(bytes, keys.c2sKey);
  if (!opened.ok) return { ok: false, nak: true, uniqueId, error: opened.error };
  return {
    ok: true,
    uniqueId,
    keys,
    cookiesWanted: Math.min(MAX_COOKIES_PER_REPLY, 1 + placeholders.length),
  };
}

/**
 * The reply to a checked request: `header` (mode 4, timestamps filled by the caller), the
 * echoed unique identifier, and `cookies` encrypted under the server-to-client key.
 */
export function buildNtsReply(
  header: NtpPacket,
  uniqueId: Uint8Array,
  s2cKey: Uint8Array,
  nonce: Uint8Array,
  cookies: readonly Uint8Array[],
): Uint8Array {
  return buildNtsPacket(
    header,
    [{ type: NtsFieldType.UNIQUE_IDENTIFIER, value: uniqueId }],
    s2cKey,
    nonce,
    cookies.map((value) => ({ type: NtsFieldType.COOKIE, value })),
  );
}

/**
 * An NTSN Kiss-o'-Death (stratum 0, reference ID "NTSN", leap 3) echoing the unique
 * identifier, unauthenticated as RFC 8915 requires. `header` supplies the timestamps.
 */
export function buildNtsNak(header: NtpPacket, uniqueId: Uint8Array): Uint8Array {
  return encodePacket({
    ...header,
    leap: 3,
    stratum: 0,
    refId: KOD_NTSN,
    extensions: [{ type: NtsFieldType.UNIQUE_IDENTIFIER, value: uniqueId }],
    mac: null,
  });
}
