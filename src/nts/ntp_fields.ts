/**
 * NTS extension fields for NTPv4 (RFC 8915 section 5) on top of the RFC 7822 codec in
 * src/ntp/extensions.ts: Unique Identifier (0x0104), NTS Cookie (0x0204), Cookie Placeholder
 * (0x0304) and the NTS Authenticator and Encrypted Extension Fields (0x0404).
 *
 * The authenticator's body is: nonce length (16 bits), ciphertext length (16 bits), the nonce
 * and the ciphertext each zero-padded to a multiple of 4. The associated data is the packet
 * from its first octet to the end of the field before the authenticator; the plaintext is a
 * sequence of extension fields (the "encrypted extension fields", e.g. new cookies in a
 * server's reply), padded to multiples of 4 without RFC 7822's minimum lengths.
 *
 * Building needs the caller's random unique identifier and nonce, so everything here is
 * deterministic given its inputs. Opening and verifying never throw: they return typed errors.
 *
 * @module
 */
import { aeadOpen, aeadSeal, SIV_KEY_LENGTH, SIV_TAG_LENGTH } from "./aead.ts";
import { constantTimeEqual } from "../ntp/auth.ts";
import { readU16, writeU16 } from "../base/bytes.ts";
import type { ExtensionField, MacTrailer } from "../ntp/extensions.ts";
import { decodePacket, encodePacket, NTP_HEADER_LENGTH, type NtpPacket } from "../ntp/packet.ts";

export type { ExtensionField, MacTrailer, NtpPacket };

/** Extension field types of RFC 8915. */
export const NtsFieldType = {
  /** Unique Identifier: at least 32 random octets, echoed by the server. */
  UNIQUE_IDENTIFIER: 0x0104,
  /** NTS Cookie. */
  COOKIE: 0x0204,
  /** NTS Cookie Placeholder: asks for one more cookie; body as long as the cookie. */
  COOKIE_PLACEHOLDER: 0x0304,
  /** NTS Authenticator and Encrypted Extension Fields. */
  AUTHENTICATOR: 0x0404,
} as const;

/** Shortest unique identifier RFC 8915 allows (octets). */
export const MIN_UNIQUE_ID_LENGTH = 32;
/** Nonce length used for AES-SIV (octets). */
export const NTS_NONCE_LENGTH = 16;
/** Reference ID of the NTS negative-acknowledgement Kiss-o'-Death ("NTSN"). */
export const KOD_NTSN = 0x4e54534e;

function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Encodes fields as the plaintext of an authenticator (padding to 4, no minimum length). */
export function encodeInnerFields(fields: readonly ExtensionField[]): Uint8Array {
  let total = 0;
  for (const f of fields) total += 4 + pad4(f.value.length);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const f of fields) {
    const length = 4 + pad4(f.value.length);
    writeU16(out, pos, f.type);
    writeU16(out, pos + 2, length);
    out.set(f.value, pos + 4);
    pos += length;
  }
  return out;
}

/** Decodes an authenticator's plaintext into fields; null when malformed. Never throws. */
export function decodeInnerFields(bytes: Uint8Array): ExtensionField[] | null {
  const fields: ExtensionField[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 4) return null;
    const type = readU16(bytes, pos);
    const length = readU16(bytes, pos + 2);
    if (length < 4 || length % 4 !== 0 || length > bytes.length - pos) return null;
    fields.push({ type, value: bytes.slice(pos + 4, pos + length) });
    pos += length;
  }
  return fields;
}

/** Octets of the authenticator's body for a nonce and plaintext of these lengths. */
function authenticatorBodyLength(nonceLength: number, plaintextLength: number): number {
  return 4 + pad4(nonceLength) + pad4(SIV_TAG_LENGTH + plaintextLength);
}

/**
 * Builds an NTS-protected packet: the header of `header` (its extensions and MAC are
 * ignored), then `fields`, then an authenticator sealing `encrypted` under `key` with
 * `nonce`. Throws a RangeError on a bad key or nonce length.
 */
export function buildNtsPacket(
  header: NtpPacket,
  fields: readonly ExtensionField[],
  key: Uint8Array,
  nonce: Uint8Array,
  encrypted: readonly ExtensionField[] = [],
): Uint8Array {
  if (key.length !== SIV_KEY_LENGTH) {
    throw new RangeError(`NTS key must be ${SIV_KEY_LENGTH} octets`);
  }
  if (nonce.length < NTS_NONCE_LENGTH) {
    throw new RangeError(`NTS nonce must be at least ${NTS_NONCE_LENGTH} octets`);
  }
  const plaintext = encodeInnerFields(encrypted);
  const bodyLength = authenticatorBodyLength(nonce.length, plaintext.length);
  const placeholder: ExtensionField = {
    type: NtsFieldType.AUTHENTICATOR,
    value: new Uint8Array(bodyLength),
  };
  const bytes = encodePacket({ ...header, extensions: [...fields, placeholder], mac: null });
  const authStart = bytes.length - 4 - bodyLength;
  const sealed = aeadSeal(key, nonce, bytes.subarray(0, authStart), plaintext);
  const body = bytes.subarray(authStart + 4);
  writeU16(body, 0, nonce.length);
  writeU16(body, 2, sealed.length);
  body.set(nonce, 4);
  body.set(sealed, 4 + pad4(nonce.length));
  return bytes;
}

/**
 * A client request (RFC 8915 section 5.7): `header` (mode 3), the unique identifier, one
 * cookie, `placeholders` cookie placeholders (to ask for that many more cookies) and an
 * authenticator with no encrypted fields, under the client-to-server key.
 */
export function buildNtsRequest(options: {
  /** The NTP header to send (extensions ignored). */
  header: NtpPacket;
  /** At least 32 random octets, a multiple of 4 (so the echo carries no padding). */
  uniqueId: Uint8Array;
  /** One cookie from the NTS-KE server or an earlier reply. */
  cookie: Uint8Array;
  /** Number of placeholders to add (cookies wanted beyond the one replacing this). */
  placeholders: number;
  /** The client-to-server key. */
  c2sKey: Uint8Array;
  /** A fresh random nonce of 16 octets. */
  nonce: Uint8Array;
}): Uint8Array {
  if (options.uniqueId.length < MIN_UNIQUE_ID_LENGTH || options.uniqueId.length % 4 !== 0) {
    throw new RangeError(
      `unique identifier must be a multiple of 4 octets, at least ${MIN_UNIQUE_ID_LENGTH}`,
    );
  }
  const fields: ExtensionField[] = [
    { type: NtsFieldType.UNIQUE_IDENTIFIER, value: options.uniqueId },
    { type: NtsFieldType.COOKIE, value: options.cookie },
  ];
  for (let i = 0; i < options.placeholders; i++) {
    fields.push({
      type: NtsFieldType.COOKIE_PLACEHOLDER,
      value: new Uint8Array(options.cookie.length),
    });
  }
  return buildNtsPacket(options.header, fields, options.c2sKey, options.nonce);
}

/** Why an NTS packet was refused. */
export type NtsErrorKind =
  | "decode"
  | "no-authenticator"
  | "fields-after-authenticator"
  | "bad-authenticator"
  | "auth-failed"
  | "bad-encrypted-fields"
  | "no-unique-id"
  | "unique-id-mismatch"
  | "nts-nak"
  | "crypto-unavailable";

/** A typed refusal with one line of explanation. */
export interface NtsError {
  /** Machine-readable kind. */
  kind: NtsErrorKind;
  /** One line for logs. */
  message: string;
}

/** An opened NTS packet. */
export interface OpenedNtsPacket {
  /** The decoded packet (all fields, the authenticator included). */
  packet: NtpPacket;
  /** The fields before the authenticator (authenticated, not encrypted). */
  fields: ExtensionField[];
  /** The decrypted fields of the authenticator. */
  encrypted: ExtensionField[];
}

/** Result of opening an NTS packet. */
export type OpenNtsResult = { ok: true; opened: OpenedNtsPacket } | { ok: false; error: NtsError };

function refuse(kind: NtsErrorKind, message: string): { ok: false; error: NtsError } {
  return { ok: false, error: { kind, message } };
}

/**
 * Decodes `bytes` and verifies its authenticator under `key`: the authenticator must be the
 * last field, well formed, and authenticate the packet up to it. Never throws.
 */
export function openNtsPacket(bytes: Uint8Array, key: Uint8Array): OpenNtsResult {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) return refuse("decode", decoded.error.message);
  const packet = decoded.packet;
  const index = packet.extensions.findIndex((f) => f.type === NtsFieldType.AUTHENTICATOR);
  if (index < 0) return refuse("no-authenticator", "no NTS authenticator field");
  if (index !== packet.extensions.length - 1 || packet.mac !== null) {
    return refuse("fields-after-authenticator", "data follows the NTS authenticator");
  }
  let authStart = NTP_HEADER_LENGTH;
  for (let i = 0; i < index; i++) authStart += 4 + packet.extensions[i].value.length;
  const body = packet.extensions[index].value;
  if (body.length < 4) return refuse("bad-authenticator", "authenticator body too short");
  const nonceLength = readU16(body, 0);
  const sealedLength = readU16(body, 2);
  if (
    nonceLength < NTS_NONCE_LENGTH || sealedLength < SIV_TAG_LENGTH ||
    4 + pad4(nonceLength) + pad4(sealedLength) > body.length
  ) {
    return refuse(
      "bad-authenticator",
      `authenticator with nonce ${nonceLength} and ciphertext ${sealedLength} octets ` +
        `in a ${body.length}-octet body`,
    );
  }
  if (key.length !== SIV_KEY_LENGTH) {
    return refuse("crypto-unavailable", `key of ${key.length} octets`);
  }
  const nonce = body.subarray(4, 4 + nonceLength);
  const sealed = body.subarray(4 + pad4(nonceLength), 4 + pad4(nonceLength) + sealedLength);
  let plaintext: Uint8Array | null;
  try {
    plaintext = aeadOpen(key, nonce, bytes.subarray(0, authStart), sealed);
  } catch (e) {
    return refuse("crypto-unavailable", e instanceof Error ? e.message : String(e));
  }
  if (plaintext === null) return refuse("auth-failed", "NTS authenticator does not verify");
  const encrypted = decodeInnerFields(plaintext);
  if (encrypted === null) return refuse("bad-encrypted-fields", "malformed encrypted fields");
  return { ok: true, opened: { packet, fields: packet.extensions.slice(0, index), encrypted } };
}

/** A verified server reply. */
export interface NtsReply {
  /** The decoded packet. */
  packet: NtpPacket;
  /** New cookies from the encrypted fields, in order. */
  cookies: Uint8Array[];
}

/** Result of verifying a server reply. */
export type NtsReplyResult = { ok: true; reply: NtsReply } | { ok: false; error: NtsError };

/**
 * Verifies a server's reply to the request that carried `uniqueId` (RFC 8915 section 5.7):
 * the authenticator verifies under the server-to-client key, the authenticated fields carry
 * the same unique identifier, and new cookies are taken from the encrypted fields only. An
 * unauthenticated NTSN Kiss-o'-Death echoing the identifier gives kind "nts-nak" (the client
 * should then run NTS-KE again). Origin-timestamp and other NTP checks stay with the caller.
 * Never throws.
 */
export function verifyNtsReply(
  bytes: Uint8Array,
  s2cKey: Uint8Array,
  uniqueId: Uint8Array,
): NtsReplyResult {
  const decoded = decodePacket(bytes);
  if (decoded.ok) {
    const p = decoded.packet;
    const echoes = p.extensions.some((f) =>
      f.type === NtsFieldType.UNIQUE_IDENTIFIER && constantTimeEqual(f.value, uniqueId)
    );
    if (p.stratum === 0 && p.refId === KOD_NTSN && echoes) {
      return refuse("nts-nak", "server sent an NTS negative acknowledgement (NTSN)");
    }
  }
  const opened = openNtsPacket(bytes, s2cKey);
  if (!opened.ok) return opened;
  const ids = opened.opened.fields.filter((f) => f.type === NtsFieldType.UNIQUE_IDENTIFIER);
  if (ids.length === 0) {
    return refuse("no-unique-id", "reply has no authenticated unique identifier");
  }
  if (ids.length > 1 || !constantTimeEqual(ids[0].value, uniqueId)) {
    return refuse("unique-id-mismatch", "reply's unique identifier is not the request's");
  }
  const cookies = opened.opened.encrypted
    .filter((f) => f.type === NtsFieldType.COOKIE)
    .map((f) => f.value);
  return { ok: true, reply: { packet: opened.opened.packet, cookies } };
}
