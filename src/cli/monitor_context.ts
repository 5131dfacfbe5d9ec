/**
 * What every monitoring command shares: the client session, output mode (text, -c CSV or
 * --json), name display (-n) and chronyc's request_reply (status lines, "506 Cannot talk to
 * daemon", "508 Bad reply from daemon").
 *
 * @module
 */
import type { CmdmonClient } from "../cmdmon/client.ts";
import type { Reply } from "../cmdmon/codec.ts";
import { BAD_REPLY, CANNOT_TALK, statusLine, STT } from "../cmdmon/constants.ts";
import {
  formatIpAddr,
  type IpAddr,
  IPADDR_INET4,
  IPADDR_INET6,
  refIdToString,
} from "../cmdmon/ip_addr.ts";
import { acceptedReplies, type ReplyCodeTo } from "../cmdmon/messages.ts";
import type { ReplyCode } from "../cmdmon/replies.ts";
import type { RequestCode, RequestData } from "../cmdmon/requests.ts";
import { addressToName } from "./monitor_names.ts";

/** Options parsed from the command line. */
export interface MonitorFlags {
  /** -c: CSV output. */
  csv: boolean;
  /** -n: no reverse DNS. */
  noDns: boolean;
  /** -v: legends. */
  verbose: boolean;
  /** -a: include unresolved sources. */
  all: boolean;
  /** --json. */
  json: boolean;
}

/** A command's context. */
export interface MonitorContext {
  /** The protocol client. */
  client: CmdmonClient;
  /** Flags. */
  flags: MonitorFlags;
  /** Writes text to stdout (suppressed in --json mode). */
  write(text: string): void;
  /** Records a JSON value (printed at the end in --json mode). */
  json(value: unknown): void;
}

/**
 * chronyc's request_reply: sends a request (fields left out of `data` go as zero), prints
 * the status line when `verbose` or on error, and returns the reply when it succeeded and
 * has a code that answers `command` (so its data is typed by that code).
 */
export async function ask<C extends RequestCode>(
  ctx: MonitorContext,
  command: C,
  data: Partial<RequestData<C>> = {},
  verbose = false,
): Promise<Reply<ReplyCodeTo<C>> | null> {
  const reply = await ctx.client.request(command, data);
  return showReply(ctx, reply, verbose, acceptedReplies(command));
}

/** The checking and printing half of `ask`, for a reply already received (or null). */
export function showReply<R extends ReplyCode>(
  ctx: MonitorContext,
  reply: Reply | null,
  verbose: boolean,
  expected: readonly R[],
): Reply<R> | null {
  if (reply === null) {
    ctx.write(`${CANNOT_TALK}\n`);
    ctx.json({ error: CANNOT_TALK });
    return null;
  }
  const status = reply.header.status;
  if (verbose || status !== STT.SUCCESS) ctx.write(`${statusLine(status)}\n`);
  if (status !== STT.SUCCESS) ctx.json({ status: statusLine(status) });
  if (status !== STT.SUCCESS && status !== STT.ACCESSALLOWED && status !== STT.ACCESSDENIED) {
    return null;
  }
  if (!isExpected(reply, expected)) {
    ctx.write(`${BAD_REPLY}\n`);
    ctx.json({ error: BAD_REPLY });
    return null;
  }
  return reply;
}

/** True when the reply's code is one of `expected`. */
export function isExpected<R extends ReplyCode>(
  reply: Reply,
  expected: readonly R[],
): reply is Reply<R> {
  return (expected as readonly ReplyCode[]).includes(reply.reply);
}

/** chronyc's format_name: refid text, IP text (-n, -c) or the DNS name truncated with '>'. */
export async function formatName(
  ctx: MonitorContext,
  ip: IpAddr,
  options: { ref: boolean; refId: number; trunc: number },
): Promise<string> {
  if (options.ref) return refIdToString(options.refId);
  const text = formatIpAddr(ip);
  if (ctx.flags.noDns || ctx.flags.csv || ctx.flags.json) return text;
  if (ip.family !== IPADDR_INET4 && ip.family !== IPADDR_INET6) return text;
  let name = await addressToName(text);
  if (options.trunc > 0 && name.length > options.trunc) {
    name = `${name.slice(0, options.trunc - 1)}>`;
  }
  return name;
}

/**
 * A JSON-friendly copy of decoded reply data (addresses as text, bigints as strings), in
 * wire field order.
 */
export function jsonFields(data: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "bigint") out[k] = v.toString();
    else if (v && typeof v === "object" && "family" in v) out[k] = formatIpAddr(v as IpAddr);
    else if (Array.isArray(v)) out[k] = v.map((x) => jsonFields(x));
    else out[k] = v;
  }
  return out;
}

/** chronyc's print_header: the header and a line of '=' (not in CSV mode). */
export function header(ctx: MonitorContext, text: string): void {
  if (ctx.flags.csv) return;
  ctx.write(`${text}\n${"=".repeat(text.length)}\n`);
}
