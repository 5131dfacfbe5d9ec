/**
 * NTP control messages (mode 6, RFC 9327; what ntpq speaks): the 12-octet header, request
 * decoding with typed errors and response fragment encoding. Pure; never throws on input.
 *
 * Header: LI|VN|mode(6), R|E|M|opcode, sequence, status, association ID, offset, count (all
 * 16-bit big-endian after the first two octets), then `count` octets of data padded to a
 * multiple of 4, then an optional MAC. A response carries at most 468 data octets per
 * fragment; the M bit marks every fragment but the last.
 *
 * @module
 */

/** Octets of the control header. */
export const CONTROL_HEADER_LENGTH = 12;
/** Largest data field of one fragment (ntpd's CTL_MAX_DATA_LEN). */
export const CONTROL_MAX_DATA = 468;
/** The NTP mode of control messages. */
export const MODE_CONTROL = 6;

/** Opcodes (RFC 9327 section 3). */
export const ControlOp = {
  unspec: 0,
  readStatus: 1,
  readVariables: 2,
  writeVariables: 3,
  readClock: 4,
  writeClock: 5,
  configure: 8,
  readMru: 10,
  readOrderedList: 11,
  requestNonce: 12,
} as const;

/** Error codes carried in the high octet of the status word of an error response. */
export const ControlError = {
  unspecified: 0,
  permission: 1,
  badFormat: 2,
  badOpcode: 3,
  badAssociation: 4,
  unknownVariable: 5,
  badValue: 6,
} as const;

/** R, E and M bits of the second octet. */
const RESPONSE_BIT = 0x80;
const ERROR_BIT = 0x40;
const MORE_BIT = 0x20;
const OPCODE_MASK = 0x1f;
/** Shortest MAC a request may carry (key ID + 16-octet digest), and the longest (SHA-512). */
const MIN_MAC = 4 + 16;
const MAX_MAC = 4 + 64;

/** A decoded control request. */
export interface ControlRequest {
  /** NTP version of the request (1-4); the response echoes it. */
  version: number;
  /** Opcode (0-31). */
  opcode: number;
  /** Sequence number, echoed. */
  sequence: number;
  /** Association ID (0 = the system). */
  associationId: number;
  /** The request's data (`count` octets, without padding or MAC). */
  data: Uint8Array;
  /** True when octets beyond the padded data look like a MAC (authenticated request). */
  hasMac: boolean;
}

/**
 * Why a datagram is not a usable control request. `ignore` kinds get no answer at all (as
 * in ntpd: too short, a response or a fragment, unknown version); `bad-format` gets a
 * CERR_BADFMT error response.
 */
export type ControlDecodeError =
  | { kind: "not-control"; action: "ignore" }
  | { kind: "too-short"; action: "ignore" }
  | { kind: "not-a-request"; action: "ignore" }
  | { kind: "bad-version"; action: "ignore" }
  | { kind: "too-long"; action: "ignore" }
  | {
    kind: "bad-format";
    action: "error";
    version: number;
    opcode: number;
    sequence: number;
    associationId: number;
  };

/** Result of `decodeControlRequest`. */
export type ControlDecodeResult =
  | { ok: true; request: ControlRequest }
  | { ok: false; error: ControlDecodeError };

/** Longest request accepted: header, the largest data field and the longest MAC. */
export const MAX_CONTROL_REQUEST: number = CONTROL_HEADER_LENGTH + CONTROL_MAX_DATA + MAX_MAC;

/** Decodes a mode 6 request. Never throws; the returned data is a view into `bytes`. */
export function decodeControlRequest(bytes: Uint8Array): ControlDecodeResult {
  if (bytes.length < 1 || (bytes[0] & 7) !== MODE_CONTROL) {
    return { ok: false, error: { kind: "not-control", action: "ignore" } };
  }
  if (bytes.length < CONTROL_HEADER_LENGTH) {
    return { ok: false, error: { kind: "too-short", action: "ignore" } };
  }
  if (bytes.length > MAX_CONTROL_REQUEST) {
    return { ok: false, error: { kind: "too-long", action: "ignore" } };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = bytes[1];
  const offset = view.getUint16(8);
  if ((flags & (RESPONSE_BIT | ERROR_BIT | MORE_BIT)) !== 0 || offset !== 0) {
    return { ok: false, error: { kind: "not-a-request", action: "ignore" } };
  }
  const version = (bytes[0] >> 3) & 7;
  if (version < 1 || version > 4) {
    return { ok: false, error: { kind: "bad-version", action: "ignore" } };
  }
  const opcode = flags & OPCODE_MASK;
  const sequence = view.getUint16(2);
  const associationId = view.getUint16(6);
  const count = view.getUint16(10);
  const available = bytes.length - CONTROL_HEADER_LENGTH;
  if (count > CONTROL_MAX_DATA || count > available || (bytes.length & 3) !== 0) {
    return {
      ok: false,
      error: { kind: "bad-format", action: "error", version, opcode, sequence, associationId },
    };
  }
  const padded = (CONTROL_HEADER_LENGTH + count + 3) & ~3;
  const trailer = bytes.length - padded;
  return {
    ok: true,
    request: {
      version,
      opcode,
      sequence,
      associationId,
      data: bytes.subarray(CONTROL_HEADER_LENGTH, CONTROL_HEADER_LENGTH + count),
      hasMac: trailer >= MIN_MAC && trailer <= MAX_MAC,
    },
  };
}

/** The header fields of one response fragment. */
export interface ControlFragmentHeader {
  /** Leap indicator to announce (0-3). */
  leap: number;
  /** NTP version, from the request. */
  version: number;
  /** Opcode, from the request. */
  opcode: number;
  /** Sequence number, from the request. */
  sequence: number;
  /** Status word (system or peer status, or error code << 8). */
  status: number;
  /** Association ID, from the request. */
  associationId: number;
  /** Offset of this fragment's data in the whole response. */
  offset: number;
  /** More fragments follow. */
  more: boolean;
  /** An error response (status carries the code). */
  error: boolean;
}

/**
 * Encodes one response fragment: header, `data` (at most CONTROL_MAX_DATA octets, longer is
 * a programming error and throws RangeError) and zero padding to a multiple of 4.
 */
export function encodeControlFragment(h: ControlFragmentHeader, data: Uint8Array): Uint8Array {
  if (data.length > CONTROL_MAX_DATA) {
    throw new RangeError(`control fragment of ${data.length} octets (max ${CONTROL_MAX_DATA})`);
  }
  const length = (CONTROL_HEADER_LENGTH + data.length + 3) & ~3;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = ((h.leap & 3) << 6) | ((h.version & 7) << 3) | MODE_CONTROL;
  out[1] = RESPONSE_BIT | (h.error ? ERROR_BIT : 0) | (h.more ? MORE_BIT : 0) |
    (h.opcode & OPCODE_MASK);
  view.setUint16(2, h.sequence & 0xffff);
  view.setUint16(4, h.status & 0xffff);
  view.setUint16(6, h.associationId & 0xffff);
  view.setUint16(8, h.offset & 0xffff);
  view.setUint16(10, data.length);
  out.set(data, CONTROL_HEADER_LENGTH);
  return out;
}

/** A decoded response fragment (for tests and clients). */
export interface ControlFragment extends ControlFragmentHeader {
  /** The fragment's data (`count` octets). */
  data: Uint8Array;
}

/** Decodes a response fragment, or null if `bytes` is not one. Never throws. */
export function decodeControlFragment(bytes: Uint8Array): ControlFragment | null {
  if (bytes.length < CONTROL_HEADER_LENGTH || (bytes[0] & 7) !== MODE_CONTROL) return null;
  if ((bytes[1] & RESPONSE_BIT) === 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(10);
  if (CONTROL_HEADER_LENGTH + count > bytes.length) return null;
  return {
    leap: bytes[0] >> 6,
    version: (bytes[0] >> 3) & 7,
    opcode: bytes[1] & OPCODE_MASK,
    error: (bytes[1] & ERROR_BIT) !== 0,
    more: (bytes[1] & MORE_BIT) !== 0,
    sequence: view.getUint16(2),
    status: view.getUint16(4),
    associationId: view.getUint16(6),
    offset: view.getUint16(8),
    data: bytes.subarray(CONTROL_HEADER_LENGTH, CONTROL_HEADER_LENGTH + count),
  };
}

/** Encodes a request (for tests and clients): header, data, zero padding to 4 octets. */
export function encodeControlRequest(r: {
  version?: number;
  opcode: number;
  sequence: number;
  associationId?: number;
  data?: Uint8Array;
}): Uint8Array {
  const data = r.data ?? new Uint8Array(0);
  const out = new Uint8Array((CONTROL_HEADER_LENGTH + data.length + 3) & ~3);
  const view = new DataView(out.buffer);
  out[0] = ((r.version ?? 2) << 3) | MODE_CONTROL;
  out[1] = r.opcode & OPCODE_MASK;
  view.setUint16(2, r.sequence & 0xffff);
  view.setUint16(6, (r.associationId ?? 0) & 0xffff);
  view.setUint16(10, data.length);
  out.set(data, CONTROL_HEADER_LENGTH);
  return out;
}
