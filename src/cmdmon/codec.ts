/**
 * Packets of chrony's command protocol: the 20-byte request header, the 28-byte reply
 * header, and whole requests/replies built from the layouts in requests.ts and replies.ts,
 * typed by their code both ways. Decoders never throw; they return a typed error.
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
import { decodeLayout, encodeLayout, type LayoutValue } from "./layout.ts";
import { replyLength, requestLength } from "./messages.ts";
import { isReplyCode, REPLY_LAYOUTS, type ReplyBody, type ReplyCode } from "./replies.ts";
import {
  isRequestCode,
  REQUEST_LAYOUTS,
  type RequestCode,
  type RequestData,
  type TypedRequest,
} from "./requests.ts";

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

/**
 * A reply header: a request's fields but the retry count (packet type 2, command and sequence
 * echoed), and these.
 */
export interface ReplyHeader extends Omit<RequestHeader, "attempt"> {
  /** RPY_* code. */
  reply: number;
  /** STT_* code. */
  status: number;
}

/** Why a packet could not be decoded. */
export type CodecError =
  | { kind: "too-short"; length: number }
  | { kind: "too-long"; length: number }
  | { kind: "bad-type"; pktType: number }
  | { kind: "unknown-command"; command: number }
  | { kind: "unknown-reply"; reply: number };

/** What a decoder returns: the decoded value under `K`, or why the packet could not be decoded. */
export type Decoded<K extends string, T> =
  | ({ ok: true } & { [P in K]: T })
  | { ok: false; error: CodecError };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a request header; needs at least 20 bytes. */
export function decodeRequestHeader(bytes: Uint8Array): Decoded<"header", RequestHeader> {
  if (bytes.length < REQUEST_HEADER_LENGTH) {
    return { ok: false, error: { kind: "too-short", length: bytes.length } };
  }
  const dv = view(bytes);
  return {
    ok: true,
    header: { ...headerStart(dv), attempt: dv.getUint16(6), sequence: dv.getUint32(8) },
  };
}

/** The fields a request and a reply header both start with (bytes 0-5). */
function headerStart(dv: DataView): Omit<RequestHeader, "attempt" | "sequence"> {
  const [version, pktType, res1, res2] = [0, 1, 2, 3].map((offset) => dv.getUint8(offset));
  return { version, pktType, res1, res2, command: dv.getUint16(4) };
}

/**
 * Reads the data of a request whose length was already checked against its command: the
 * code and its typed data, or null for an unknown code or a packet too short for it.
 */
export function decodeRequestData(command: number, bytes: Uint8Array): TypedRequest | null {
  if (!isRequestCode(command)) return null;
  try {
    const data = decodeLayout(view(bytes), REQUEST_HEADER_LENGTH, REQUEST_LAYOUTS[command]);
    // `data` was decoded by the layout of `command`, so the two belong together.
    return { command, data } as TypedRequest;
  } catch {
    return null;
  }
}

/** Options for building a request of code `C`. */
export interface RequestOptions<C extends RequestCode> {
  /** REQ_* code. */
  command: C;
  /** Sequence number. */
  sequence: number;
  /** Retry count. */
  attempt?: number;
  /** Data fields by name (requests.ts); a field left out is sent as zero. */
  data?: Partial<RequestData<C>>;
  /** Total length override (default: chrony's padded length). */
  length?: number;
}

/** Builds a padded request packet. Throws only for an unknown command (a programming error). */
export function encodeRequest<C extends RequestCode>(options: RequestOptions<C>): Uint8Array {
  const length = options.length ?? requestLength(options.command);
  if (!isRequestCode(options.command) || length === 0) {
    throw new RangeError(`unknown command ${options.command}`);
  }
  const layout = REQUEST_LAYOUTS[options.command];
  const out = new Uint8Array(Math.max(length, REQUEST_HEADER_LENGTH));
  const dv = view(out);
  dv.setUint8(0, PROTO_VERSION);
  dv.setUint8(1, PKT_TYPE_CMD_REQUEST);
  dv.setUint16(4, options.command);
  dv.setUint16(6, options.attempt ?? 0);
  dv.setUint32(8, options.sequence >>> 0);
  const scratch = new Uint8Array(MAX_REQUEST_LENGTH);
  // Fields left out of a partial request are written as zero, as chrony pads.
  const data = (options.data ?? {}) as LayoutValue<typeof layout>;
  encodeLayout(view(scratch), REQUEST_HEADER_LENGTH, layout, data);
  out.set(scratch.subarray(REQUEST_HEADER_LENGTH, out.length), REQUEST_HEADER_LENGTH);
  return out;
}

/** Options for building a reply: header fields plus the reply code and its typed data. */
export type ReplyOptions = ReplyBody & {
  /** Echoed command. */
  command: number;
  /** STT_* code. */
  status: number;
  /** Echoed sequence. */
  sequence: number;
};

/**
 * A decoded reply (of one of the codes `R`; default any): its header, and its code and
 * data narrowed together by `reply`.
 */
export type Reply<R extends ReplyCode = ReplyCode> = Extract<
  ReplyBody & {
    /** Header (status, echoed command and sequence...). */
    header: ReplyHeader;
  },
  { reply: R }
>;

/** Builds a reply packet of exactly chrony's reply length for its code. */
export function encodeReply(options: ReplyOptions): Uint8Array {
  const layout = REPLY_LAYOUTS[options.reply];
  const length = replyLength(options.reply);
  const out = new Uint8Array(length);
  const dv = view(out);
  dv.setUint8(0, PROTO_VERSION);
  dv.setUint8(1, PKT_TYPE_CMD_REPLY);
  dv.setUint16(4, options.command);
  dv.setUint16(6, options.reply);
  dv.setUint16(8, options.status);
  dv.setUint32(16, options.sequence >>> 0);
  // `data` is typed by `reply`, whose layout this is.
  encodeLayout(dv, REPLY_HEADER_LENGTH, layout, options.data as LayoutValue<typeof layout>);
  return out;
}

/** Reads a reply header; needs at least 28 bytes. */
export function decodeReplyHeader(bytes: Uint8Array): Decoded<"header", ReplyHeader> {
  if (bytes.length < REPLY_HEADER_LENGTH) {
    return { ok: false, error: { kind: "too-short", length: bytes.length } };
  }
  const dv = view(bytes);
  const header: ReplyHeader = {
    ...headerStart(dv),
    reply: dv.getUint16(6),
    status: dv.getUint16(8),
    sequence: dv.getUint32(16),
  };
  if (header.pktType !== PKT_TYPE_CMD_REPLY) {
    return { ok: false, error: { kind: "bad-type", pktType: header.pktType } };
  }
  return { ok: true, header };
}

/** Reads a whole reply: header plus the data of its reply code. */
export function decodeReply(bytes: Uint8Array): Decoded<"reply", Reply> {
  const h = decodeReplyHeader(bytes);
  if (!h.ok) return h;
  const code = h.header.reply;
  if (!isReplyCode(code)) return { ok: false, error: { kind: "unknown-reply", reply: code } };
  const need = replyLength(code);
  if (bytes.length < need) return { ok: false, error: { kind: "too-short", length: bytes.length } };
  const data = code === RPY.NULL
    ? {}
    : decodeLayout(view(bytes), REPLY_HEADER_LENGTH, REPLY_LAYOUTS[code]);
  // `data` was decoded by the layout of `code`, so the two belong together.
  return { ok: true, reply: { header: h.header, reply: code, data } as Reply };
}
