/**
 * The RFC 5905 NTP packet: 48-byte header, RFC 7822 extension fields and MAC trailer,
 * reference-ID rules and Kiss-o'-Death codes. Pure.
 *
 * `decodePacket` never throws: any byte string yields a packet or a typed error, and the
 * decoded value holds at most as many buffered octets as the input. `encodePacket` of a
 * decoded packet reproduces the input exactly.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  encodeTrailer,
  type ExtensionField,
  type MacTrailer,
  parseTrailer,
  trailerLength,
} from "./extensions.ts";
import { parseIpv4, parseIpv6 } from "../base/ip.ts";
import { readU32, writeU32 } from "../base/bytes.ts";
import { ntpShortToSeconds, secondsToNtpShort } from "./timestamp.ts";

export type { ExtensionField, MacTrailer } from "./extensions.ts";

/** Length of the NTP header. */
export const NTP_HEADER_LENGTH = 48;
/** The current NTP version. */
export const NTP_VERSION = 4;

/** Association modes (RFC 5905 figure 10). */
export const NtpMode = {
  /** Symmetric active. */
  SymmetricActive: 1,
  /** Symmetric passive. */
  SymmetricPassive: 2,
  /** Client request. */
  Client: 3,
  /** Server reply. */
  Server: 4,
  /** Broadcast server. */
  Broadcast: 5,
  /** NTP control message (mode 6, ntpq). */
  Control: 6,
  /** Private, implementation-specific (mode 7, ntpdc). */
  Private: 7,
} as const;

/** A decoded NTP packet (header, extension fields, MAC). */
export interface NtpPacket {
  /** Leap indicator, 0-3. */
  leap: number;
  /** Version number, 1-4. */
  version: number;
  /** Association mode, 1-5 (6 and 7 are not NTP time packets). */
  mode: number;
  /** Stratum, 0-255 (0: unspecified or Kiss-o'-Death). */
  stratum: number;
  /** Poll interval, signed log2 seconds. */
  poll: number;
  /** Precision, signed log2 seconds. */
  precision: number;
  /** Root delay, seconds (16.16 on the wire). */
  rootDelay: number;
  /** Root dispersion, seconds (16.16 on the wire). */
  rootDispersion: number;
  /** Reference ID, unsigned 32 bits. */
  refId: number;
  /** Reference timestamp, raw 64-bit NTP. */
  refTime: bigint;
  /** Origin timestamp, raw 64-bit NTP. */
  originTime: bigint;
  /** Receive timestamp, raw 64-bit NTP. */
  receiveTime: bigint;
  /** Transmit timestamp, raw 64-bit NTP. */
  transmitTime: bigint;
  /** RFC 7822 extension fields (NTPv4 only), in wire order. */
  extensions: ExtensionField[];
  /** The MAC trailer, if any. */
  mac: MacTrailer | null;
}

/** Kinds of decoding failure. */
export type PacketErrorKind =
  | "too-short"
  | "bad-length"
  | "bad-version"
  | "bad-mode"
  | "control-mode"
  | "bad-extension-length"
  | "bad-mac-length"
  | "extensions-need-v4";

/** A typed decoding failure with a one-line human message. */
export interface PacketError {
  /** What went wrong. */
  kind: PacketErrorKind;
  /** One line for logs and the CLI. */
  message: string;
}

/** Result of `decodePacket`. */
export type DecodeResult = { ok: true; packet: NtpPacket } | { ok: false; error: PacketError };

function fail(kind: PacketErrorKind, message: string): DecodeResult {
  return { ok: false, error: { kind, message } };
}

function readU64(b: Uint8Array, o: number): bigint {
  return (BigInt(readU32(b, o)) << 32n) | BigInt(readU32(b, o + 4));
}

function writeU64(b: Uint8Array, o: number, v: bigint): void {
  const masked = BigInt.asUintN(64, v);
  writeU32(b, o, Number(masked >> 32n));
  writeU32(b, o + 4, Number(masked & 0xffff_ffffn));
}

/** Signed 8-bit value of a byte. */
function toInt8(byte: number): number {
  return byte >= 128 ? byte - 256 : byte;
}

/**
 * Decodes an NTP packet. Versions 1-4 and modes 1-5 are accepted; mode 6/7 datagrams give
 * the error kind "control-mode". The length must be a multiple of 4. Never throws.
 */
export function decodePacket(bytes: Uint8Array): DecodeResult {
  if (bytes.length < 1) return fail("too-short", "empty datagram");
  const leap = bytes[0] >> 6;
  const version = (bytes[0] >> 3) & 7;
  const mode = bytes[0] & 7;
  if (mode === 6 || mode === 7) {
    return fail("control-mode", `mode ${mode} control message, not an NTP time packet`);
  }
  if (mode === 0) return fail("bad-mode", "reserved mode 0");
  if (version < 1 || version > 4) return fail("bad-version", `unsupported NTP version ${version}`);
  if (bytes.length < NTP_HEADER_LENGTH) {
    return fail("too-short", `${bytes.length} octets, shorter than the 48-octet NTP header`);
  }
  if (bytes.length % 4 !== 0) {
    return fail("bad-length", `length ${bytes.length} is not a multiple of 4`);
  }
  const trailer = parseTrailer(bytes, NTP_HEADER_LENGTH, version);
  if (!trailer.ok) return fail(trailer.kind, trailer.message);
  return {
    ok: true,
    packet: {
      leap,
      version,
      mode,
      stratum: bytes[1],
      poll: toInt8(bytes[2]),
      precision: toInt8(bytes[3]),
      rootDelay: ntpShortToSeconds(readU32(bytes, 4)),
      rootDispersion: ntpShortToSeconds(readU32(bytes, 8)),
      refId: readU32(bytes, 12),
      refTime: readU64(bytes, 16),
      originTime: readU64(bytes, 24),
      receiveTime: readU64(bytes, 32),
      transmitTime: readU64(bytes, 40),
      extensions: trailer.extensions,
      mac: trailer.mac,
    },
  };
}

/**
 * Encodes a packet. Fields are masked to their wire widths; root delay and dispersion are
 * rounded to 2^-16 s; extension values are zero-padded (RFC 7822 minimum lengths).
 */
export function encodePacket(p: NtpPacket): Uint8Array {
  const out = new Uint8Array(NTP_HEADER_LENGTH + trailerLength(p.extensions, p.mac));
  out[0] = ((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7);
  out[1] = p.stratum & 0xff;
  out[2] = p.poll & 0xff;
  out[3] = p.precision & 0xff;
  writeU32(out, 4, secondsToNtpShort(p.rootDelay));
  writeU32(out, 8, secondsToNtpShort(p.rootDispersion));
  writeU32(out, 12, p.refId >>> 0);
  writeU64(out, 16, p.refTime);
  writeU64(out, 24, p.originTime);
  writeU64(out, 32, p.receiveTime);
  writeU64(out, 40, p.transmitTime);
  const end = encodeTrailer(out, NTP_HEADER_LENGTH, p.extensions, p.mac);
  return end === out.length ? out : out.slice(0, end);
}

/** A packet with every field zero except version 4 (a starting point for builders). */
export function emptyPacket(mode: number): NtpPacket {
  return {
    leap: 0,
    version: NTP_VERSION,
    mode,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    refId: 0,
    refTime: 0n,
    originTime: 0n,
    receiveTime: 0n,
    transmitTime: 0n,
    extensions: [],
    mac: null,
  };
}

/** A reference ID from up to 4 ASCII characters ("GPS", "LOCL", "RATE"), NUL-padded. */
export function refIdFromAscii(text: string): number {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const code = i < text.length ? text.charCodeAt(i) & 0xff : 0;
    value = (value << 8) | code;
  }
  return value >>> 0;
}

/**
 * The reference ID of an upstream address (RFC 5905): the IPv4 address itself, or the first
 * 4 octets of the MD5 hash of the 16-octet IPv6 address. Returns null if `address` is not an
 * IP literal.
 */
export function refIdFromAddress(address: string): number | null {
  const v4 = parseIpv4(address);
  if (v4 !== null) return readU32(v4, 0);
  const v6 = parseIpv6(address);
  if (v6 === null) return null;
  const digest = createHash("md5").update(v6).digest();
  return readU32(new Uint8Array(digest.buffer, digest.byteOffset, digest.length), 0);
}

/** The 4 characters of a reference ID as ASCII with NULs and spaces trimmed; null if any
 * character is not printable ASCII. */
export function refIdToAscii(refId: number): string | null {
  let text = "";
  for (let shift = 24; shift >= 0; shift -= 8) {
    const code = (refId >>> shift) & 0xff;
    if (code === 0) continue;
    if (code < 0x20 || code > 0x7e) return null;
    text += String.fromCharCode(code);
  }
  return text.trim();
}

/** The reference ID as 8 upper-case hex digits (chronyc style, e.g. "7F000001"). */
export function refIdToHex(refId: number): string {
  return (refId >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

/**
 * Renders a reference ID as RFC 5905 reads it for a stratum: ASCII for stratum 0 and 1
 * (falling back to hex if not printable), a dotted quad otherwise (for IPv6 upstreams that
 * is the MD5-derived value, shown the same way, as ntpq does).
 */
export function refIdToString(refId: number, stratum: number): string {
  if (stratum <= 1) return refIdToAscii(refId) ?? refIdToHex(refId);
  return [24, 16, 8, 0].map((s) => (refId >>> s) & 0xff).join(".");
}

/** What a client must do on a Kiss-o'-Death code (RFC 5905 section 7.4). */
export type KissAction = "demobilize" | "reduce-rate" | "ignore" | "discard";

/**
 * The Kiss-o'-Death code of a packet (stratum 0, refid in ASCII, e.g. "RATE", "DENY"), or
 * null when the packet is not a KoD. Callers should only honour a KoD whose origin timestamp
 * matches their request.
 */
export function kissCode(packet: NtpPacket): string | null {
  if (packet.stratum !== 0) return null;
  if (packet.mode !== NtpMode.Server && packet.mode !== NtpMode.SymmetricPassive) return null;
  const text = refIdToAscii(packet.refId);
  if (text === null || text.length === 0) return null;
  return text;
}

/**
 * The action RFC 5905 prescribes for a kiss code: DENY and RSTR demobilize the association,
 * RATE reduces the polling rate, codes starting with "X" are ignored (experimental), and any
 * other code means the packet is discarded.
 */
export function kissAction(code: string): KissAction {
  if (code === "DENY" || code === "RSTR") return "demobilize";
  if (code === "RATE") return "reduce-rate";
  if (code.startsWith("X")) return "ignore";
  return "discard";
}
