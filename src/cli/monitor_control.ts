/**
 * The control commands of the monitoring client (chronyc's read-write commands): argument
 * parsing as chronyc does it and the request each one sends. Each prints chronyc's status
 * line ("200 OK", "501 Not authorised", ...).
 *
 * @module
 */
import { REQ, RPY, STT } from "../cmdmon/constants.ts";
import {
  type IpAddr,
  IPADDR_INET4,
  IPADDR_INET6,
  parseIpAddr,
  unspecAddr,
} from "../cmdmon/ip_addr.ts";
import { addSourceRequest } from "../cmdmon/add_source.ts";
import type { RequestCode, RequestData } from "../cmdmon/requests.ts";
import { ask, type MonitorContext, showReply } from "./monitor_context.ts";
import { cFormatFloat } from "./format_printf.ts";
import { parseAddress } from "./monitor_names.ts";
import { parseSettime } from "./settime_parse.ts";

/** `table[word]` for the table's own words only (never Object.prototype's, like "toString"). */
function wordValue<T>(table: Readonly<Record<string, T>>, word: string | undefined): T | undefined {
  return word !== undefined && Object.hasOwn(table, word) ? table[word] : undefined;
}

function fail(message: string): false {
  console.error(message);
  return false;
}

async function simple<C extends RequestCode>(
  ctx: MonitorContext,
  command: C,
  data: Partial<RequestData<C>> = {},
): Promise<boolean> {
  return (await ask(ctx, command, data, true)) !== null;
}

/** chronyc's bits_to_mask: a netmask of `bits` for a family (-1 or out of range = host). */
export function bitsToMask(bits: number, family: number): IpAddr {
  const bytes = new Uint8Array(16);
  const total = family === IPADDR_INET4 ? 32 : 128;
  const b = bits < 0 || bits > total ? total : bits;
  for (let i = 0; i < b; i++) bytes[i >> 3] |= 0x80 >> (i & 7);
  return { family, bytes };
}

/** chronyc's read_mask_address: "", "ADDR", "MASK/ADDR" or "ADDR/BITS". */
export async function readMaskAddress(
  text: string | undefined,
): Promise<{ mask: IpAddr; address: IpAddr } | null> {
  if (text === undefined || text === "") return { mask: unspecAddr(), address: unspecAddr() };
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const first = parseIpAddr(text.slice(0, slash));
    const second = text.slice(slash + 1);
    if (first !== null) {
      const addr = parseIpAddr(second);
      if (addr !== null) {
        return addr.family === first.family ? { mask: first, address: addr } : null;
      }
      if (/^[0-9]+$/.test(second)) {
        return { mask: bitsToMask(Number(second), first.family), address: first };
      }
    }
    return null;
  }
  const address = await parseAddress(text);
  if (address === null) return null;
  return { mask: bitsToMask(-1, address.family), address };
}

/** An allow/deny request's data (subnet and prefix length). */
export type SubnetData = RequestData<typeof REQ.ALLOW>;

/** chrony's subnet syntax for allow/deny: "1.2.3" = 1.2.3.0/24, "ADDR/BITS", IPv6. */
export function parseSubnet(text: string): SubnetData | null {
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const bitsText = slash >= 0 ? text.slice(slash + 1) : null;
  let ip = parseIpAddr(addrText);
  let bits: number;
  if (ip !== null) {
    bits = ip.family === IPADDR_INET4 ? 32 : 128;
  } else {
    const parts = addrText.split(".");
    if (parts.length < 1 || parts.length > 3 || !parts.every((p) => /^[0-9]{1,3}$/.test(p))) {
      return null;
    }
    const padded = [...parts, "0", "0", "0"].slice(0, 4).join(".");
    ip = parseIpAddr(padded);
    if (ip === null) return null;
    bits = 8 * parts.length;
  }
  if (bitsText !== null) {
    if (!/^[0-9]+$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > (ip.family === IPADDR_INET6 ? 128 : 32)) return null;
  }
  return { ip, subnetBits: bits };
}

/** The request pairs (one subnet, "all") of allow, deny, cmdallow and cmddeny. */
type AllowDenyCodes =
  | { one: typeof REQ.ALLOW; all: typeof REQ.ALLOWALL }
  | { one: typeof REQ.DENY; all: typeof REQ.DENYALL }
  | { one: typeof REQ.CMDALLOW; all: typeof REQ.CMDALLOWALL }
  | { one: typeof REQ.CMDDENY; all: typeof REQ.CMDDENYALL };

async function allowDeny(
  ctx: MonitorContext,
  args: string[],
  codes: AllowDenyCodes,
): Promise<boolean> {
  let rest = args;
  let all = false;
  if (rest[0] === "all") {
    all = true;
    rest = rest.slice(1);
  }
  let data: SubnetData = { ip: unspecAddr(), subnetBits: 0 };
  if (rest.length > 0) {
    const subnet = parseSubnet(rest[0]);
    if (subnet === null) return fail("Could not read address");
    data = subnet;
  }
  return await simple(ctx, all ? codes.all : codes.one, data);
}

function numberArg(text: string | undefined): number | null {
  if (text === undefined || text.trim() === "") return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** `local` option words and the LOCAL3 field each sets. */
const LOCAL_OPTIONS = {
  stratum: "stratum",
  distance: "distance",
  activate: "activate",
  waitsynced: "waitSynced",
  waitunsynced: "waitUnsynced",
} as const;

async function local(ctx: MonitorContext, args: string[]): Promise<boolean> {
  if (args[0] === "off") return await simple(ctx, REQ.LOCAL2, { onOff: 0 });
  const data: RequestData<typeof REQ.LOCAL3> = {
    onOff: 1,
    stratum: 10,
    distance: 1.0,
    orphan: 0,
    activate: 0,
    waitSynced: 0,
    waitUnsynced: -1,
  };
  let needs3 = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (word === "orphan") {
      data.orphan = 1;
      continue;
    }
    const key = wordValue<(typeof LOCAL_OPTIONS)[keyof typeof LOCAL_OPTIONS]>(LOCAL_OPTIONS, word);
    const value = numberArg(args[++i]);
    if (key === undefined || value === null) return fail("Invalid syntax for local command");
    data[key] = value;
    if (key !== "stratum" && key !== "distance") needs3 = true;
  }
  if (!needs3) {
    // chrony <= 4.x daemons know LOCAL2; newer ones only LOCAL3.
    const reply = await ctx.client.request(REQ.LOCAL2, data);
    if (reply === null || reply.header.status !== STT.INVALID) {
      return showReply(ctx, reply, true, [RPY.NULL]) !== null;
    }
  }
  return await simple(ctx, REQ.LOCAL3, data);
}

/** The per-source modify requests chronyc sends (address and value). */
type AddressValueCode =
  | typeof REQ.MODIFY_MINPOLL
  | typeof REQ.MODIFY_MAXPOLL
  | typeof REQ.MODIFY_MINSTRATUM
  | typeof REQ.MODIFY_POLLTARGET
  | typeof REQ.MODIFY_MAXDELAY
  | typeof REQ.MODIFY_MAXDELAYRATIO
  | typeof REQ.MODIFY_MAXDELAYDEVRATIO;

async function addressValue(
  ctx: MonitorContext,
  command: AddressValueCode,
  args: string[],
  integer: boolean,
): Promise<boolean> {
  const value = numberArg(args[1]);
  if (args.length < 2 || value === null) return fail("Invalid syntax for address value");
  const address = await parseAddress(args[0]);
  if (address === null) return fail("Could not get address for hostname");
  return await simple(ctx, command, { address, value: integer ? Math.trunc(value) : value });
}

async function floatCommand(
  ctx: MonitorContext,
  command:
    | typeof REQ.MODIFY_MAXUPDATESKEW
    | typeof REQ.RESELECTDISTANCE
    | typeof REQ.DFREQ
    | typeof REQ.DOFFSET2,
  args: string[],
  what: string,
): Promise<boolean> {
  const value = numberArg(args[0]);
  if (value === null) return fail(`Invalid syntax for ${what} command`);
  return await simple(ctx, command, { value });
}

async function settime(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const t = parseSettime(args.join(" "));
  if (t === null) {
    ctx.write("510 - Could not parse date string\n");
    return false;
  }
  // chronyc sends whole seconds.
  const seconds = t / 1_000_000_000n - (t < 0n && t % 1_000_000_000n !== 0n ? 1n : 0n);
  const reply = await ask(ctx, REQ.SETTIME, { ts: seconds * 1_000_000_000n }, true);
  if (reply === null) return false;
  const d = reply.data;
  const fmt = (x: number) => cFormatFloat(x, { precision: 2 });
  ctx.write(
    `Clock was ${fmt(d.offset)} seconds fast.  Frequency change = ${
      fmt(d.dfreqPpm)
    }ppm, new frequency = ${fmt(d.newAfreqPpm)}ppm\n`,
  );
  ctx.json({ offset: d.offset, dfreqPpm: d.dfreqPpm, newAfreqPpm: d.newAfreqPpm });
  return true;
}

async function connectivity(
  ctx: MonitorContext,
  command: typeof REQ.ONLINE | typeof REQ.OFFLINE,
  args: string[],
): Promise<boolean> {
  const ma = await readMaskAddress(args[0]);
  if (ma === null) return fail("Invalid syntax for mask/address");
  return await simple(ctx, command, ma);
}

async function burst(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const m = /^(-?\d+)\/(-?\d+)$/.exec(args[0] ?? "");
  if (!m) return fail("Invalid syntax for burst command");
  const ma = await readMaskAddress(args[1]);
  if (ma === null) return fail("Invalid syntax for mask/address");
  return await simple(ctx, REQ.BURST, {
    ...ma,
    nGoodSamples: Number(m[1]),
    nTotalSamples: Number(m[2]),
  });
}

/** Commands without arguments and the request each sends. */
const PLAIN_COMMANDS = {
  onoffline: REQ.ONOFFLINE,
  trimrtc: REQ.TRIMRTC,
  writertc: REQ.WRITERTC,
  reselect: REQ.RESELECT,
  refresh: REQ.REFRESH,
  dump: REQ.DUMP,
  cyclelogs: REQ.CYCLELOGS,
  shutdown: REQ.SHUTDOWN,
  rekey: REQ.REKEY,
} as const;

/** Commands taking one number, and their requests. */
const FLOAT_COMMANDS = {
  maxupdateskew: REQ.MODIFY_MAXUPDATESKEW,
  reselectdist: REQ.RESELECTDISTANCE,
  dfreq: REQ.DFREQ,
  doffset: REQ.DOFFSET2,
} as const;

/** Per-source modify commands: their request and whether the value is an integer. */
const MODIFY_COMMANDS: Readonly<Record<string, readonly [AddressValueCode, boolean]>> = {
  minpoll: [REQ.MODIFY_MINPOLL, true],
  maxpoll: [REQ.MODIFY_MAXPOLL, true],
  minstratum: [REQ.MODIFY_MINSTRATUM, true],
  polltarget: [REQ.MODIFY_POLLTARGET, true],
  maxdelay: [REQ.MODIFY_MAXDELAY, false],
  maxdelayratio: [REQ.MODIFY_MAXDELAYRATIO, false],
  maxdelaydevratio: [REQ.MODIFY_MAXDELAYDEVRATIO, false],
};

/** Runs a control command; returns null if `command` is not one. */
export async function runControl(
  ctx: MonitorContext,
  command: string,
  args: string[],
): Promise<boolean | null> {
  const plain = wordValue(PLAIN_COMMANDS, command);
  if (plain !== undefined) return await simple(ctx, plain);
  const float = wordValue(FLOAT_COMMANDS, command);
  if (float !== undefined) return await floatCommand(ctx, float, args, command);
  const modify = wordValue(MODIFY_COMMANDS, command);
  if (modify !== undefined) return await addressValue(ctx, modify[0], args, modify[1]);
  switch (command) {
    case "makestep": {
      if (args.length === 0) return await simple(ctx, REQ.MAKESTEP);
      const threshold = numberArg(args[0]);
      const limit = numberArg(args[1]);
      if (threshold === null || limit === null) return fail("Bad syntax for makestep command");
      return await simple(ctx, REQ.MODIFY_MAKESTEP, { threshold, limit: Math.trunc(limit) });
    }
    case "burst":
      return await burst(ctx, args);
    case "online":
      return await connectivity(ctx, REQ.ONLINE, args);
    case "offline":
      return await connectivity(ctx, REQ.OFFLINE, args);
    case "settime":
      return await settime(ctx, args);
    case "manual": {
      const option = wordValue({ off: 0, on: 1, reset: 2 }, args[0]);
      if (option !== undefined) return await simple(ctx, REQ.MANUAL, { option });
      if (args[0] === "delete") {
        const index = numberArg(args[1]);
        if (index === null) return fail("Bad syntax for manual delete command");
        return await simple(ctx, REQ.MANUAL_DELETE, { index: Math.trunc(index) });
      }
      return fail("Invalid syntax for manual command");
    }
    case "reset":
      if (args[0] !== "sources") return fail("Invalid syntax for reset command");
      return await simple(ctx, REQ.RESET_SOURCES);
    case "reload":
      if (args[0] !== "sources") return fail("Invalid syntax for reload command");
      return await simple(ctx, REQ.RELOAD_SOURCES);
    case "smoothtime": {
      const option = wordValue({ reset: 0, activate: 1 }, args[0]);
      if (option === undefined) return fail("Invalid syntax for smoothtime command");
      return await simple(ctx, REQ.SMOOTHTIME, { option });
    }
    case "add": {
      const data = addSourceRequest(args);
      if (typeof data === "string") return fail(data);
      return await simple(ctx, REQ.ADD_SOURCE, data);
    }
    case "delete": {
      const ip = args[0] ? await parseAddress(args[0]) : null;
      if (ip === null) return fail("Could not get address for hostname");
      return await simple(ctx, REQ.DEL_SOURCE, { ip });
    }
    case "allow":
      return await allowDeny(ctx, args, { one: REQ.ALLOW, all: REQ.ALLOWALL });
    case "deny":
      return await allowDeny(ctx, args, { one: REQ.DENY, all: REQ.DENYALL });
    case "cmdallow":
      return await allowDeny(ctx, args, { one: REQ.CMDALLOW, all: REQ.CMDALLOWALL });
    case "cmddeny":
      return await allowDeny(ctx, args, { one: REQ.CMDDENY, all: REQ.CMDDENYALL });
    case "accheck":
    case "cmdaccheck": {
      const ip = args[0] ? await parseAddress(args[0]) : null;
      if (ip === null) return fail("Could not read address");
      return await simple(ctx, command === "accheck" ? REQ.ACCHECK : REQ.CMDACCHECK, { ip });
    }
    case "local":
      return await local(ctx, args);
    default:
      return null;
  }
}
