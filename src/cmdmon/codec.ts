/**
 * Packets of chrony's command protocol: the 20-byte request header, the 28-byte reply
 * header, and whole requests/replies built from the layouts in messages.ts. Decoders never
 * throw; they return a typed error.
 *
 * @module
 */
import {
  MAX_REQUEST_LENGTH,
  PKT_TYPE_CMD_REPLY,
  PKT_TYPE_CMD_REQUEST,
  PROTO_VERSION,
  REPLY_HEADER_LENGTH,
  REQUEST_HEADER_LENGTH,
  RPY,
} from "./constants.ts";
import { decodeLayout, encodeLayout, type Struct } from "./layout.ts";
import { REPLY_LAYOUTS, replyLength, REQUEST_LAYOUTS, requestLength } from "./messages.ts";

/** A request header. */
export interface RequestHeader {
  /** Protocol version. */
  version: number;
  /** Packet type (1 = request). */
  pktType: number;
  /** Reserved byte 1 (must be 0). */
  res1: number;
  /** Reserved byte 2 (must be 0). */
  res2: number;
  /** REQ_* code. */
  command: number;
  /** Retry count. */
  attempt: number;
  /** Sequence number echoed by the reply. */
  sequence: number;
}

/** A reply header. */
export interface ReplyHeader {
  /** Protocol version. */
  version: number;
  /** Packet type (2 = reply). */
  pktType: number;
  /** Reserved byte 1. */
  res1: number;
  /** Reserved byte 2. */
  res2: number;
  /** Echoed REQ_* code. */
  command: number;
  /** RPY_* code. */
  reply: number;
  /** STT_* code. */
  status: number;
  /** Echoed sequence. */
  sequence: number;
}

/** Why a packet could not be decoded. */
export type CodecError =
  | { kind: "too-short"; length: number }
  | { kind: "too-long"; length: number }
  | { kind: "bad-type"; pktType: number }
  | { kind: "unknown-command"; command: number }
  | { kind: "unknown-reply"; reply: number };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a request header; needs at least 20 bytes. */
export function decodeRequestHeader(
  bytes: Uint8Array,
): { ok: true; header: RequestHeader } | { ok: false; error: CodecError } {
  if (bytes.length < REQUEST_HEADER_LENGTH) {
    return { ok: false, error: { kind: "too-short", length: bytes.length } };
  }
  const dv = view(bytes);
  return {
    ok: true,
    header: {
      version: dv.getUint8(0),
      pktType: dv.getUint8(1),
      res1: dv.getUint8(2),
      res2: dv.getUint8(3),
      command: dv.getUint16(4),
      attempt: dv.getUint16(6),
      sequence: dv.getUint32(8),
    },
  };
}

/** Reads the data of a request whose length was already checked against its command. */
export function decodeRequestData(command: number, bytes: Uint8Array): Struct | null {
  const layout = REQUEST_LAYOUTS[command];
  if (layout === undefined) return null;
  try {
    return decodeLayout(view(bytes), REQUEST_HEADER_LENGTH, layout);
  } catch {
    return null;
  }
}

/** Options for building a request. */
export interface RequestOptions {
  /** REQ_* code (must be known). */
  command: number;
  /** Sequence number. */
  sequence: number;
  /** Retry count. */
  attempt?: number;
  /** Data fields by name (layout from messages.ts). */
  data?: Record<string, unknown>;
  /** Total length override (default: chrony's padded length). */
  length?: number;
}

/** Builds a padded request packet. Throws only for an unknown command (a programming error). */
export function encodeRequest(options: RequestOptions): Uint8Array {
  const layout = REQUEST_LAYOUTS[options.command];
  const length = options.length ?? requestLength(options.command);
  if (layout === undefined || length === 0) {
    throw new RangeError(`unknown command ${options.command}`);
  }
  const out = new Uint8Array(Math.max(length, REQUEST_HEADER_LENGTH));
  const dv = view(out);
  dv.setUint8(0, PROTO_VERSION);
  dv.setUint8(1, PKT_TYPE_CMD_REQUEST);
  dv.setUint16(4, options.command);
  dv.setUint16(6, options.attempt ?? 0);
  dv.setUint32(8, options.sequence >>> 0);
  const scratch = new Uint8Array(MAX_REQUEST_LENGTH);
  encodeLayout(view(scratch), REQUEST_HEADER_LENGTH, layout, options.data ?? {});
  out.set(scratch.subarray(REQUEST_HEADER_LENGTH, out.length), REQUEST_HEADER_LENGTH);
  return out;
}

/** Options for building a reply. */
export interface ReplyOptions {
  /** Echoed command. */
  command: number;
  /** RPY_* code. */
  reply: number;
  /** STT_* code. */
  status: number;
  /** Echoed sequence. */
  sequence: number;
  /** Data fields by name. */
  data?: Record<string, unknown>;
}

/** Builds a reply packet of exactly chrony's reply length for its code. */
export function encodeReply(options: ReplyOptions): Uint8Array {
  const layout = REPLY_LAYOUTS[options.reply] ?? [];
  const length = replyLength(options.reply) || REPLY_HEADER_LENGTH;
  const out = new Uint8Array(length);
  const dv = view(out);
  dv.setUint8(0, PROTO_VERSION);
  dv.setUint8(1, PKT_TYPE_CMD_REPLY);
  dv.setUint16(4, options.command);
  dv.setUint16(6, options.reply);
  dv.setUint16(8, options.status);
  dv.setUint32(16, options.sequence >>> 0);
  encodeLayout(dv, REPLY_HEADER_LENGTH, layout, options.data ?? {});
  return out;
}

/** Reads a reply header; needs at least 28 bytes. */
export function decodeReplyHeader(
  bytes: Uint8Array,
): { ok: true; header: ReplyHeader } | { ok: false; error: CodecError } {
  if (bytes.length < REPLY_HEADER_LENGTH) {
    return { ok: false, error: { kind: "too-short", length: bytes.length } };
  }
  const dv = view(bytes);
  const header: ReplyHeader = {
    version: dv.getUint8(0),
    pktType: dv.getUint8(1),
    res1: dv.getUint8(2),
    res2: dv.getUint8(3),
    command: dv.getUint16(4),
    reply: dv.getUint16(6),
    status: dv.getUint16(8),
    sequence: dv.getUint32(16),
  };
  if (header.pktType !== PKT_TYPE_CMD_REPLY) {
    return { ok: false, error: { kind: "bad-type", pktType: header.pktType } };
  }
  return { ok: true, header };
}

/** Reads a whole reply: header plus data by its reply code (data null for RPY_NULL). */
export function decodeReply(
  bytes: Uint8Array,
): { ok: true; header: ReplyHeader; data: Struct } | { ok: false; error: CodecError } {
  const h = decodeReplyHeader(bytes);
  if (!h.ok) return h;
  const layout = REPLY_LAYOUTS[h.header.reply];
  if (layout === undefined) {
    return { ok: false, error: { kind: "unknown-reply", reply: h.header.reply } };
  }
  const need = replyLength(h.header.reply);
  if (bytes.length < need) return { ok: false, error: { kind: "too-short", length: bytes.length } };
  if (h.header.reply === RPY.NULL) return { ok: true, header: h.header, data: {} };
  return {
    ok: true,
    header: h.header,
    data: decodeLayout(view(bytes), REPLY_HEADER_LENGTH, layout),
  };
}
