/**
 * The NTS Key Establishment record codec (RFC 8915 section 4).
 *
 * A record is a 16-bit word (critical bit 0x8000 plus a 15-bit type), a 16-bit body length
 * and the body. A message is a sequence of records ended by an End of Message record. The
 * decoder works on the bytes received so far: it reports an incomplete message (read more),
 * a complete one (with its length), or a typed error. It never throws, copies at most the
 * input's bytes, and refuses messages longer than `MAX_KE_MESSAGE_LENGTH`.
 *
 * `interpretKeResponse` then applies the client-side rules to a server's records: exactly one
 * Next Protocol (NTPv4) and one AEAD algorithm chosen among those offered, errors and
 * unrecognised critical records refused, cookies collected, and the optional server and port
 * negotiation.
 *
 * @module
 */
import { readU16, writeU16 } from "../base/bytes.ts";

/** NTS-KE record types (IANA "Network Time Security Key Establishment Record Types"). */
export const KeRecordType = {
  /** End of Message; always critical, empty body. */
  END_OF_MESSAGE: 0,
  /** NTS Next Protocol Negotiation; body: list of 16-bit protocol IDs. */
  NEXT_PROTOCOL: 1,
  /** Error; body: 16-bit error code. */
  ERROR: 2,
  /** Warning; body: 16-bit warning code. */
  WARNING: 3,
  /** AEAD Algorithm Negotiation; body: list of 16-bit AEAD IDs. */
  AEAD_ALGORITHM: 4,
  /** New Cookie for NTPv4; body: opaque cookie. */
  NEW_COOKIE: 5,
  /** NTPv4 Server Negotiation; body: ASCII host name or IP address. */
  SERVER: 6,
  /** NTPv4 Port Negotiation; body: 16-bit port. */
  PORT: 7,
} as const;

/** NTS-KE error codes (RFC 8915 section 4.1.3). */
export const KeErrorCode = {
  /** The peer sent a critical record type it does not understand. */
  UNRECOGNIZED_CRITICAL_RECORD: 0,
  /** The request was malformed. */
  BAD_REQUEST: 1,
  /** The server could not answer. */
  INTERNAL_SERVER_ERROR: 2,
} as const;

/** Next Protocol ID of NTPv4. */
export const NEXT_PROTOCOL_NTPV4 = 0;
/** The critical bit of a record's type word. */
export const CRITICAL_BIT = 0x8000;
/** Longest NTS-KE message accepted (octets, all records included). */
export const MAX_KE_MESSAGE_LENGTH = 16384;
/** Largest number of records accepted in one message. */
export const MAX_KE_RECORDS = 256;
/** Longest cookie accepted (octets); RFC 8915 requires a client to handle at least 8. */
export const MAX_COOKIE_LENGTH = 1024;
/** Most cookies kept from one response (RFC 8915 servers normally send 8). */
export const MAX_COOKIES = 16;
/** Longest server name accepted in a Server Negotiation record. */
export const MAX_SERVER_NAME_LENGTH = 255;

/** One NTS-KE record. */
export interface KeRecord {
  /** Whether the critical bit is set. */
  critical: boolean;
  /** Record type (15 bits). */
  type: number;
  /** Record body. */
  body: Uint8Array;
}

/** Why a message could not be decoded or accepted. */
export type KeErrorKind =
  | "too-long"
  | "too-many-records"
  | "bad-record"
  | "bad-end"
  | "unrecognized-critical"
  | "server-error"
  | "missing-record"
  | "duplicate-record"
  | "unexpected-value";

/** A typed decoding or validation error. */
export interface KeError {
  /** Machine-readable kind. */
  kind: KeErrorKind;
  /** One line for humans. */
  message: string;
}

/** Result of decoding the bytes received so far. */
export type KeParseResult =
  | { ok: true; complete: false }
  | { ok: true; complete: true; records: KeRecord[]; length: number }
  | { ok: false; error: KeError };

function fail(kind: KeErrorKind, message: string): { ok: false; error: KeError } {
  return { ok: false, error: { kind, message } };
}

/** Encodes records into one message (the caller includes the End of Message record). */
export function encodeKeRecords(records: readonly KeRecord[]): Uint8Array {
  let total = 0;
  for (const r of records) total += 4 + Math.min(r.body.length, 0xffff);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const r of records) {
    const word = (r.critical ? CRITICAL_BIT : 0) | (r.type & 0x7fff);
    const length = Math.min(r.body.length, 0xffff);
    writeU16(out, pos, word);
    writeU16(out, pos + 2, length);
    out.set(r.body.subarray(0, length), pos + 4);
    pos += 4 + length;
  }
  return out;
}

/** A body holding a list of 16-bit big-endian values. */
export function u16ListBody(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => writeU16(out, 2 * i, v));
  return out;
}

/** The 16-bit values of a body, or null when its length is odd. */
export function readU16List(body: Uint8Array): number[] | null {
  if (body.length % 2 !== 0) return null;
  const out: number[] = [];
  for (let i = 0; i < body.length; i += 2) out.push(readU16(body, i));
  return out;
}

/** A critical record of `type` whose body is a list of 16-bit values (none by default). */
function critical(type: number, values: readonly number[] = []): KeRecord {
  return { critical: true, type, body: u16ListBody(values) };
}

/**
 * The client's request: NTPv4 as next protocol, the AEAD algorithms it supports in order of
 * preference, and End of Message (RFC 8915 section 4).
 */
export function encodeKeRequest(aeadIds: readonly number[]): Uint8Array {
  return encodeKeRecords([
    critical(KeRecordType.NEXT_PROTOCOL, [NEXT_PROTOCOL_NTPV4]),
    critical(KeRecordType.AEAD_ALGORITHM, aeadIds),
    critical(KeRecordType.END_OF_MESSAGE),
  ]);
}

/**
 * Decodes the records of one message from the bytes received so far. Returns
 * `complete: false` while no End of Message record has arrived and the bytes are still a
 * valid prefix. Never throws.
 */
export function decodeKeMessage(bytes: Uint8Array): KeParseResult {
  const records: KeRecord[] = [];
  let pos = 0;
  while (pos + 4 <= bytes.length) {
    const word = readU16(bytes, pos);
    const length = readU16(bytes, pos + 2);
    const end = pos + 4 + length;
    if (end > MAX_KE_MESSAGE_LENGTH) {
      return fail("too-long", `NTS-KE message longer than ${MAX_KE_MESSAGE_LENGTH} octets`);
    }
    if (end > bytes.length) return { ok: true, complete: false };
    if (records.length >= MAX_KE_RECORDS) {
      return fail("too-many-records", `NTS-KE message with more than ${MAX_KE_RECORDS} records`);
    }
    const record: KeRecord = {
      critical: (word & CRITICAL_BIT) !== 0,
      type: word & 0x7fff,
      body: bytes.slice(pos + 4, end),
    };
    records.push(record);
    pos = end;
    if (record.type === KeRecordType.END_OF_MESSAGE) {
      if (length !== 0) return fail("bad-end", "End of Message record with a non-empty body");
      if (!record.critical) return fail("bad-end", "End of Message record without critical bit");
      return { ok: true, complete: true, records, length: pos };
    }
  }
  if (bytes.length > MAX_KE_MESSAGE_LENGTH) {
    return fail("too-long", `NTS-KE message longer than ${MAX_KE_MESSAGE_LENGTH} octets`);
  }
  return { ok: true, complete: false };
}

/** What a server's NTS-KE response gives the client. */
export interface KeResponse {
  /** The next protocol the server chose (always NTPv4 here). */
  nextProtocol: number;
  /** The AEAD algorithm the server chose, one of those offered. */
  aeadId: number;
  /** The cookies, in the order received (at least one). */
  cookies: Uint8Array[];
  /** The NTP server to use, when the server named one (else the NTS-KE host). */
  server: string | null;
  /** The NTP port to use, when the server named one (else 123). */
  port: number | null;
  /** Warning codes received. */
  warnings: number[];
}

/** Result of interpreting a response. */
export type KeResponseResult = { ok: true; response: KeResponse } | { ok: false; error: KeError };

/**
 * Applies RFC 8915's client rules to the records of a complete server response: an Error
 * record or an unrecognised critical record refuses it; exactly one Next Protocol record
 * naming NTPv4 and one AEAD record naming one of `offeredAead` are required; at least one
 * cookie. Never throws.
 */
export function interpretKeResponse(
  records: readonly KeRecord[],
  offeredAead: readonly number[],
): KeResponseResult {
  let nextProtocol: number | null = null;
  let aeadId: number | null = null;
  let server: string | null = null;
  let port: number | null = null;
  const cookies: Uint8Array[] = [];
  const warnings: number[] = [];
  for (const record of records) {
    switch (record.type) {
      case KeRecordType.END_OF_MESSAGE:
        break;
      case KeRecordType.NEXT_PROTOCOL: {
        if (nextProtocol !== null) {
          return fail("duplicate-record", "more than one Next Protocol record");
        }
        const ids = readU16List(record.body);
        if (ids === null || ids.length !== 1 || ids[0] !== NEXT_PROTOCOL_NTPV4) {
          return fail(
            "unexpected-value",
            `Next Protocol record must name NTPv4 alone, got ${ids === null ? "odd length" : ids}`,
          );
        }
        nextProtocol = ids[0];
        break;
      }
      case KeRecordType.ERROR: {
        const code = readU16List(record.body);
        return fail(
          "server-error",
          `NTS-KE server sent error ${code !== null && code.length === 1 ? code[0] : "(bad)"}`,
        );
      }
      case KeRecordType.WARNING: {
        const codes = readU16List(record.body);
        if (codes === null || codes.length !== 1) {
          return fail("bad-record", "Warning record body is not one 16-bit code");
        }
        warnings.push(codes[0]);
        break;
      }
      case KeRecordType.AEAD_ALGORITHM: {
        if (aeadId !== null) return fail("duplicate-record", "more than one AEAD record");
        const ids = readU16List(record.body);
        if (ids === null || ids.length !== 1 || !offeredAead.includes(ids[0])) {
          return fail(
            "unexpected-value",
            `AEAD record must name one offered algorithm, got ${ids === null ? "odd length" : ids}`,
          );
        }
        aeadId = ids[0];
        break;
      }
      case KeRecordType.NEW_COOKIE:
        if (record.body.length === 0 || record.body.length > MAX_COOKIE_LENGTH) {
          return fail("bad-record", `cookie of ${record.body.length} octets`);
        }
        if (cookies.length < MAX_COOKIES) cookies.push(record.body);
        break;
      case KeRecordType.SERVER: {
        if (server !== null) return fail("duplicate-record", "more than one Server record");
        const body = record.body;
        if (body.length === 0 || body.length > MAX_SERVER_NAME_LENGTH) {
          return fail("bad-record", `Server record of ${body.length} octets`);
        }
        for (const c of body) {
          if (c <= 0x20 || c >= 0x7f) {
            return fail("bad-record", "Server record is not printable ASCII");
          }
        }
        server = new TextDecoder().decode(body);
        break;
      }
      case KeRecordType.PORT: {
        if (port !== null) return fail("duplicate-record", "more than one Port record");
        const values = readU16List(record.body);
        if (values === null || values.length !== 1 || values[0] === 0) {
          return fail("bad-record", "Port record body is not one non-zero 16-bit port");
        }
        port = values[0];
        break;
      }
      default:
        if (record.critical) {
          return fail("unrecognized-critical", `unrecognised critical record type ${record.type}`);
        }
    }
  }
  if (nextProtocol === null) return fail("missing-record", "no Next Protocol record");
  if (aeadId === null) return fail("missing-record", "no AEAD record");
  if (cookies.length === 0) return fail("missing-record", "no cookie");
  return { ok: true, response: { nextProtocol, aeadId, cookies, server, port, warnings } };
}

/** Label of the TLS exporter for NTS keys (RFC 8915 section 5.1). */
export const NTS_EXPORTER_LABEL = "EXPORTER-network-time-security";

/**
 * The exporter context of RFC 8915 section 5.1: the Next Protocol ID (16 bits), the AEAD ID
 * (16 bits), then 0x00 for the client-to-server key or 0x01 for the server-to-client key.
 */
export function keyExporterContext(
  protocolId: number,
  aeadId: number,
  direction: "c2s" | "s2c",
): Uint8Array {
  return new Uint8Array([...u16ListBody([protocolId, aeadId]), direction === "c2s" ? 0 : 1]);
}

/** What the server makes of a client's request. */
export type KeRequestResult =
  | { ok: true; aeadId: number }
  | { ok: false; errorCode: number; message: string };

/**
 * Applies RFC 8915's server rules to the records of a complete client request: exactly one
 * Next Protocol record that includes NTPv4, at most one AEAD record, the first offered
 * algorithm that is in `supportedAead` chosen, unrecognised critical records refused, and
 * no record types only a server may send. Never throws.
 */
export function interpretKeRequest(
  records: readonly KeRecord[],
  supportedAead: readonly number[],
): KeRequestResult {
  let protocols: number[] | null = null;
  let aeadOffers: number[] | null = null;
  const bad = (message: string): KeRequestResult => ({
    ok: false,
    errorCode: KeErrorCode.BAD_REQUEST,
    message,
  });
  for (const record of records) {
    switch (record.type) {
      case KeRecordType.END_OF_MESSAGE:
        break;
      case KeRecordType.NEXT_PROTOCOL:
        if (protocols !== null) return bad("more than one Next Protocol record");
        protocols = readU16List(record.body);
        if (protocols === null) return bad("Next Protocol record of odd length");
        break;
      case KeRecordType.AEAD_ALGORITHM:
        if (aeadOffers !== null) return bad("more than one AEAD record");
        aeadOffers = readU16List(record.body);
        if (aeadOffers === null) return bad("AEAD record of odd length");
        break;
      case KeRecordType.ERROR:
      case KeRecordType.WARNING:
      case KeRecordType.NEW_COOKIE:
        return bad(`record type ${record.type} in a request`);
      case KeRecordType.SERVER:
      case KeRecordType.PORT:
        // A client may suggest a server or port; this server ignores the suggestion.
        break;
      default:
        if (record.critical) {
          return {
            ok: false,
            errorCode: KeErrorCode.UNRECOGNIZED_CRITICAL_RECORD,
            message: `unrecognised critical record type ${record.type}`,
          };
        }
    }
  }
  if (protocols === null || !protocols.includes(NEXT_PROTOCOL_NTPV4)) {
    return bad("the request does not offer NTPv4");
  }
  const chosen = (aeadOffers ?? []).find((id) => supportedAead.includes(id));
  if (chosen === undefined) return bad("no supported AEAD algorithm offered");
  return { ok: true, aeadId: chosen };
}

/** A server's successful response: NTPv4, the AEAD chosen, cookies, optional server/port. */
export function encodeKeResponse(options: {
  /** The AEAD algorithm chosen. */
  aeadId: number;
  /** Cookies for the client. */
  cookies: readonly Uint8Array[];
  /** NTP server to name, if not this host. */
  server?: string;
  /** NTP port to name, if not 123. */
  port?: number;
}): Uint8Array {
  const records: KeRecord[] = [
    critical(KeRecordType.NEXT_PROTOCOL, [NEXT_PROTOCOL_NTPV4]),
    critical(KeRecordType.AEAD_ALGORITHM, [options.aeadId]),
    ...options.cookies.map((body) => ({ critical: false, type: KeRecordType.NEW_COOKIE, body })),
  ];
  if (options.server !== undefined) {
    const body = new TextEncoder().encode(options.server);
    records.push({ critical: true, type: KeRecordType.SERVER, body });
  }
  if (options.port !== undefined) records.push(critical(KeRecordType.PORT, [options.port]));
  records.push(critical(KeRecordType.END_OF_MESSAGE));
  return encodeKeRecords(records);
}

/** A server's error response: one Error record with `code`, then End of Message. */
export function encodeKeError(code: number): Uint8Array {
  return encodeKeRecords([
    critical(KeRecordType.ERROR, [code]),
    critical(KeRecordType.END_OF_MESSAGE),
  ]);
}
