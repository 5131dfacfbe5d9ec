/**
 * What every monitoring command shares: the client session, output mode (text, -c CSV or
 * --json), name display (-n) and chronyc's request_reply (status lines, "506 Cannot talk to
 * daemon", "508 Bad reply from daemon").
 *
 * @module
 */
import type { CmdmonClient, Reply } from "../cmdmon/client.ts";
import { BAD_REPLY, CANNOT_TALK, statusLine, STT } from "../cmdmon/constants.ts";
import {
  formatIpAddr,
  type IpAddr,
  IPADDR_INET4,
  IPADDR_INET6,
  refIdToString,
} from "../cmdmon/ip_addr.ts";
import { acceptedReplies } from "../cmdmon/messages.ts";
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
 * chronyc's request_reply: sends a request, prints the status line when `verbose` or on
 * error, and returns the reply when it succeeded and has an expected type.
 */
export async function ask(
  ctx: MonitorContext,
  command: number,
  data: Record<string, unknown> = {},
  verbose = false,
  expected: number[] = acceptedReplies(command),
): Promise<Reply | null> {
  const reply = await ctx.client.request(command, data);
  return showReply(ctx, reply, verbose, expected);
}

/** The checking and printing half of `ask`, for a reply already received (or null). */
export function showReply(
  ctx: MonitorContext,
  reply: Reply | null,
  verbose: boolean,
  expected: number[],
): Reply | null {
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
  if (!expected.includes(reply.header.reply)) {
    ctx.write(`${BAD_REPLY}\n`);
    ctx.json({ error: BAD_REPLY });
    return null;
  }
  return reply;
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

/** chronyc's print_header: the header and a line of '=' (not in CSV mode). */
export function header(ctx: MonitorContext, text: string): void {
  if (ctx.flags.csv) return;
  ctx.write(`${text}\n${"=".repeat(text.length)}\n`);
}
