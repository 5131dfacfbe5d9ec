/**
 * Packet lengths of chrony's command protocol, as chrony's pktlength.c derives them from the
 * layouts (requests.ts, replies.ts): a request is padded with zeros up to the length of the
 * reply it expects, so that a reply is never longer than its request. Also which replies
 * answer which request (`ReplyTo`), typed.
 *
 * SERVER_STATS and NTP_DATA have an older reply form (chrony 4.3); a server answers with the
 * newer form only when the request is long enough to carry it, which keeps chronyc 4.3 and
 * newer clients working.
 *
 * @module
 */
import { REPLY_HEADER_LENGTH, REQ, REQUEST_HEADER_LENGTH, RPY } from "./constants.ts";
import { layoutSize } from "./layout.ts";
import { isReplyCode, REPLY_LAYOUTS, type ReplyBody } from "./replies.ts";
import { isRequestCode, REQUEST_LAYOUTS, type RequestCode } from "./requests.ts";

/** The reply each request expects (for padding); absent = RPY_NULL. Newest forms. */
export const EXPECTED_REPLY = {
  [REQ.N_SOURCES]: RPY.N_SOURCES,
  [REQ.SOURCE_DATA]: RPY.SOURCE_DATA,
  [REQ.SETTIME]: RPY.MANUAL_TIMESTAMP2,
  [REQ.TRACKING]: RPY.TRACKING,
  [REQ.SOURCESTATS]: RPY.SOURCESTATS,
  [REQ.RTCREPORT]: RPY.RTC,
  [REQ.MANUAL_LIST]: RPY.MANUAL_LIST2,
  [REQ.ACTIVITY]: RPY.ACTIVITY,
  [REQ.SMOOTHING]: RPY.SMOOTHING,
  [REQ.SERVER_STATS]: RPY.SERVER_STATS4,
  [REQ.NTP_DATA]: RPY.NTP_DATA2,
  [REQ.NTP_SOURCE_NAME]: RPY.NTP_SOURCE_NAME,
  [REQ.AUTH_DATA]: RPY.AUTH_DATA,
  [REQ.CLIENT_ACCESSES_BY_INDEX3]: RPY.CLIENT_ACCESSES_BY_INDEX3,
  [REQ.SELECT_DATA]: RPY.SELECT_DATA,
} as const;

/** Older reply forms a server still gives to shorter (chrony 4.3) requests. */
export const COMPAT_REPLY = {
  [REQ.SERVER_STATS]: RPY.SERVER_STATS3,
  [REQ.NTP_DATA]: RPY.NTP_DATA,
} as const;

/** The reply codes that answer a successful request of code `C` (newest and older form). */
export type ReplyCodeTo<C extends RequestCode> =
  | (C extends keyof typeof EXPECTED_REPLY ? (typeof EXPECTED_REPLY)[C] : typeof RPY.NULL)
  | (C extends keyof typeof COMPAT_REPLY ? (typeof COMPAT_REPLY)[C] : never);

/** The reply body that answers a successful request of code `C`. */
export type ReplyTo<C extends RequestCode> = ReplyBody<ReplyCodeTo<C>>;

function lookup(table: Readonly<Record<number, number>>, command: number): number | undefined {
  return Object.hasOwn(table, command) ? table[command] : undefined;
}

/** Reply codes a client accepts for a request of a known code (newest first). */
export function acceptedReplies<C extends RequestCode>(command: C): ReplyCodeTo<C>[];
/** Reply codes a client accepts for a request (newest first). */
export function acceptedReplies(command: number): number[];
export function acceptedReplies(command: number): number[] {
  const out = [lookup(EXPECTED_REPLY, command) ?? RPY.NULL];
  const compat = lookup(COMPAT_REPLY, command);
  if (compat !== undefined) out.push(compat);
  return out;
}

/** chrony's PKL_ReplyLength: header + data of a reply code, or 0 if the code is unknown. */
export function replyLength(reply: number): number {
  return isReplyCode(reply) ? REPLY_HEADER_LENGTH + layoutSize(REPLY_LAYOUTS[reply]) : 0;
}

/** Header + data of a request without padding, or 0 if the command is unknown. */
export function commandLength(command: number): number {
  return isRequestCode(command) ? REQUEST_HEADER_LENGTH + layoutSize(REQUEST_LAYOUTS[command]) : 0;
}

/**
 * chrony's PKL_CommandLength for version 6: the request padded to its expected reply's
 * length (newest reply form). 0 = unknown command.
 */
export function requestLength(command: number): number {
  const base = commandLength(command);
  if (base === 0) return 0;
  return Math.max(base, replyLength(lookup(EXPECTED_REPLY, command) ?? RPY.NULL));
}

/**
 * The shortest request a server accepts for a command: the padded length for the oldest
 * reply form it can still answer with (chrony 4.3 clients). 0 = unknown command.
 */
export function minimumRequestLength(command: number): number {
  const base = commandLength(command);
  if (base === 0) return 0;
  const reply = lookup(COMPAT_REPLY, command) ?? lookup(EXPECTED_REPLY, command) ?? RPY.NULL;
  return Math.max(base, replyLength(reply));
}
