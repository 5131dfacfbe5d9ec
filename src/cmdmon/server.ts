/**
 * The command server's logic, pure: one request packet in, one reply packet (or nothing)
 * out, validated exactly as chrony's cmdmon.c does and dispatched to `EngineControl`.
 *
 * Order of checks (read_from_cmd_socket): drop packets shorter than 28 bytes or longer than
 * chrony's largest request; drop wrong packet type or non-zero reserved bytes; a version
 * other than 6 gets BADPKTVERSION when it is >= 5 and is dropped otherwise; an unknown
 * command gets INVALID; a request shorter than its padded length gets BADPKTLENGTH. With
 * full access (Unix socket) read-write commands run; otherwise only open commands do and
 * everything else gets UNAUTH. A reply is never longer than its request.
 *
 * @module
 */
import { smoothingToWire } from "./smoothing_report.ts";
import type { ControlResult, EngineControl, SourceMatch } from "../core/control.ts";
import {
  MAX_REQUEST_LENGTH,
  N_REQUEST_TYPES,
  PKT_TYPE_CMD_REQUEST,
  PROTO_VERSION,
  PROTO_VERSION_MISMATCH_COMPAT_SERVER,
  REPLY_HEADER_LENGTH,
  REQ,
  RPY,
  STT,
} from "./constants.ts";
import { decodeRequestData, decodeRequestHeader, encodeReply } from "./codec.ts";
import { formatIpAddr, type IpAddr, IPADDR_UNSPEC } from "./ip_addr.ts";
import { minimumRequestLength, replyLength } from "./messages.ts";
import type { Struct } from "./layout.ts";
import {
  activityToWire,
  clientToWire,
  isRealIp,
  manualSampleToWire,
  manualTimestampToWire,
  ntpDataToWire,
  rtcToWire,
  selectDataToWire,
  serverStatsToWire,
  sourceStatsToWire,
  sourceToWire,
  trackingToWire,
} from "./wire_reports.ts";

/** Who is asking: full access (Unix socket) or not (UDP), and which commands are open. */
export interface CommandAccess {
  /** True for the Unix socket: every command is allowed. */
  full: boolean;
  /** Open commands for non-full access (REQ codes); default chrony's default set. */
  openCommands?: ReadonlySet<number>;
}

/** chrony's default `opencommands`: what UDP clients may ask. */
export const DEFAULT_OPEN_COMMANDS: ReadonlySet<number> = new Set([
  REQ.NULL,
  REQ.ACTIVITY,
  REQ.MANUAL_LIST,
  REQ.RTCREPORT,
  REQ.SMOOTHING,
  REQ.NTP_SOURCE_NAME,
  REQ.N_SOURCES,
  REQ.SOURCE_DATA,
  REQ.SOURCESTATS,
  REQ.TRACKING,
]);

const OPEN_COMMAND_NAMES: Record<string, number[]> = {
  activity: [REQ.ACTIVITY],
  authdata: [REQ.AUTH_DATA, REQ.N_SOURCES, REQ.SOURCE_DATA],
  clients: [REQ.CLIENT_ACCESSES_BY_INDEX3],
  manual: [REQ.MANUAL_LIST],
  ntpdata: [REQ.NTP_DATA, REQ.N_SOURCES, REQ.SOURCE_DATA],
  rtcdata: [REQ.RTCREPORT],
  selectdata: [REQ.SELECT_DATA, REQ.N_SOURCES],
  serverstats: [REQ.SERVER_STATS],
  smoothing: [REQ.SMOOTHING],
  sourcename: [REQ.NTP_SOURCE_NAME],
  sources: [REQ.N_SOURCES, REQ.SOURCE_DATA],
  sourcestats: [REQ.N_SOURCES, REQ.SOURCESTATS],
  tracking: [REQ.TRACKING],
};

/**
 * The REQ codes opened by chrony `opencommands` names ("tracking", "ntpdata", ...);
 * unknown names are ignored.
 */
export function openCommandsFromNames(names: string[]): Set<number> {
  const out = new Set<number>([REQ.NULL]);
  for (const name of names) for (const code of OPEN_COMMAND_NAMES[name] ?? []) out.add(code);
  return out;
}

const STATUS_OF: Record<string, number> = {
  failed: STT.FAILED,
  invalid: STT.INVALID,
  nosuchsource: STT.NOSUCHSOURCE,
  invalidts: STT.INVALIDTS,
  notenabled: STT.NOTENABLED,
  badsubnet: STT.BADSUBNET,
  sourcealreadyknown: STT.SOURCEALREADYKNOWN,
  toomanysources: STT.TOOMANYSOURCES,
  nortc: STT.NORTC,
  badrtcfile: STT.BADRTCFILE,
  inactive: STT.INACTIVE,
  badsample: STT.BADSAMPLE,
  invalidname: STT.INVALIDNAME,
};

/** What a handler produced: reply code, status and data. */
interface Outcome {
  reply: number;
  status: number;
  data?: Record<string, unknown>;
}

const OK: Outcome = { reply: RPY.NULL, status: STT.SUCCESS };

function fromResult(result: ControlResult): Outcome {
  if (result.ok) return OK;
  return { reply: RPY.NULL, status: STATUS_OF[result.status] ?? STT.FAILED };
}

function status(stt: number): Outcome {
  return { reply: RPY.NULL, status: stt };
}

function ip(data: Struct, name: string): IpAddr {
  return data[name] as IpAddr;
}

function ipText(addr: IpAddr): string | null {
  return addr.family === IPADDR_UNSPEC ? null : formatIpAddr(addr);
}

function sourceMatch(data: Struct): SourceMatch {
  const address = ipText(ip(data, "address"));
  const mask = ipText(ip(data, "mask"));
  return { address, mask: address === null ? null : mask };
}

function subnet(data: Struct): string | null {
  const addr = ipText(ip(data, "ip"));
  if (addr === null) return null;
  return `${addr}/${data.subnetBits as number}`;
}

function n(data: Struct, name: string): number {
  return data[name] as number;
}

const MODIFY_FIELDS: Record<number, string> = {
  [REQ.MODIFY_MINPOLL]: "minpoll",
  [REQ.MODIFY_MAXPOLL]: "maxpoll",
  [REQ.MODIFY_MAXDELAY]: "maxdelay",
  [REQ.MODIFY_MAXDELAYRATIO]: "maxdelayratio",
  [REQ.MODIFY_MAXDELAYDEVRATIO]: "maxdelaydevratio",
  [REQ.MODIFY_MINSTRATUM]: "minstratum",
  [REQ.MODIFY_POLLTARGET]: "polltarget",
  [REQ.MODIFY_OFFSET]: "offset",
};

const ADDSRC_FLAGS: Array<[number, string]> = [
  [0x2, "autoOffline"],
  [0x4, "iburst"],
  [0x8, "prefer"],
  [0x10, "noselect"],
  [0x20, "trust"],
  [0x40, "require"],
  [0x80, "xleave"],
  [0x100, "burst"],
];

/**
 * REQ_NTP_Source -> `AddSourceRequest.options`, keyed like `SourceParams` (the daemon's
 * source model). chrony's "not set" encodings (presend 100, min/maxsamples -1, key 0,
 * mindelay 0, asymmetry 1.0, filter 0, version 0, maxunreach 0 from 4.3 clients) are left
 * out so the daemon keeps its defaults.
 */
export function addSourceOptions(data: Struct): Record<string, number | boolean> {
  const flags = n(data, "flags");
  const options: Record<string, number | boolean> = {
    minPoll: n(data, "minpoll"),
    maxPoll: n(data, "maxpoll"),
    pollTarget: n(data, "pollTarget"),
    minStratum: n(data, "minStratum"),
    maxSources: n(data, "maxSources"),
    maxDelay: n(data, "maxDelay"),
    maxDelayRatio: n(data, "maxDelayRatio"),
    maxDelayDevRatio: n(data, "maxDelayDevRatio"),
    offset: n(data, "offset"),
    offline: (flags & 0x1) === 0,
  };
  for (const [bit, word] of ADDSRC_FLAGS) options[word] = (flags & bit) !== 0;
  const optional: Array<[string, number, (v: number) => boolean]> = [
    ["presend", n(data, "presendMinpoll"), (v) => v !== 100],
    ["minSamples", n(data, "minSamples"), (v) => v >= 0],
    ["maxSamples", n(data, "maxSamples"), (v) => v >= 0],
    ["key", n(data, "authkey"), (v) => v !== 0],
    ["minDelay", n(data, "minDelay"), (v) => v !== 0],
    ["asymmetry", n(data, "asymmetry"), (v) => v !== 1],
    ["filter", n(data, "filterLength"), (v) => v > 0],
    ["version", n(data, "version"), (v) => v !== 0],
    ["maxUnreach", n(data, "maxUnreach"), (v) => v > 0],
  ];
  for (const [key, value, set] of optional) if (set(value)) options[key] = value;
  return options;
}

function addSource(data: Struct, control: EngineControl, raw: Uint8Array): Outcome {
  const types: Record<number, "server" | "peer" | "pool"> = { 1: "server", 2: "peer", 3: "pool" };
  const type = types[n(data, "type")];
  if (type === undefined) return status(STT.INVALID);
  // The name must be NUL-terminated inside its 256 bytes (offset 24 + 255 in the packet).
  if (raw[20 + 4 + 255] !== 0) return status(STT.INVALIDNAME);
  const name = data.name as string;
  if (name.length === 0 || !/^[\x21-\x7e]+$/.test(name)) return status(STT.INVALIDNAME);
  const options = addSourceOptions(data);
  // chrony resolves names asynchronously and answers at once; so do we.
  control.addSource({ type, name, port: n(data, "port"), options }).catch(() => {});
  return OK;
}

function settime(data: Struct, control: EngineControl): Outcome {
  const result = control.setTime(data.ts as bigint);
  if (!result.ok) return fromResult(result);
  const report = "report" in result ? result.report : { offset: 0, dfreqPpm: 0, newFreqPpm: 0 };
  return { reply: RPY.MANUAL_TIMESTAMP2, status: STT.SUCCESS, data: manualTimestampToWire(report) };
}

/** Read-write commands (full access only). Returns null if the command is not one. */
function readWrite(command: number, data: Struct, control: EngineControl, raw: Uint8Array) {
  switch (command) {
    case REQ.ADD_SOURCE:
      return addSource(data, control, raw);
    case REQ.ALLOW:
    case REQ.ALLOWALL:
    case REQ.DENY:
    case REQ.DENYALL:
      return fromResult(
        control.ntpAccess(
          subnet(data),
          command === REQ.ALLOW || command === REQ.ALLOWALL,
          command === REQ.ALLOWALL || command === REQ.DENYALL,
        ),
      );
    case REQ.CMDALLOW:
    case REQ.CMDALLOWALL:
    case REQ.CMDDENY:
    case REQ.CMDDENYALL:
      return fromResult(
        control.cmdAccess(
          subnet(data),
          command === REQ.CMDALLOW || command === REQ.CMDALLOWALL,
          command === REQ.CMDALLOWALL || command === REQ.CMDDENYALL,
        ),
      );
    case REQ.BURST:
      return fromResult(
        control.burst(sourceMatch(data), n(data, "nGoodSamples"), n(data, "nTotalSamples")),
      );
    case REQ.CYCLELOGS:
      return fromResult(control.cycleLogs());
    case REQ.DEL_SOURCE: {
      const addr = ip(data, "ip");
      if (!isRealIp(addr)) return status(STT.NOSUCHSOURCE);
      return fromResult(control.deleteSource(formatIpAddr(addr)));
    }
    case REQ.DFREQ:
      return fromResult(control.adjustFrequency(-n(data, "value")));
    case REQ.DOFFSET2:
      return fromResult(control.adjustOffset(-n(data, "value")));
    case REQ.DUMP:
      return fromResult(control.dump());
    case REQ.LOCAL2:
    case REQ.LOCAL3:
      return fromResult(
        n(data, "onOff") !== 0
          ? control.local(true, n(data, "stratum"), n(data, "distance"), n(data, "orphan") !== 0)
          : control.local(false),
      );
    case REQ.MAKESTEP:
      return fromResult(control.makeStepNow());
    case REQ.MANUAL: {
      const modes = ["off", "on", "reset"] as const;
      const mode = modes[n(data, "option")];
      return mode === undefined ? status(STT.INVALID) : fromResult(control.manual(mode));
    }
    case REQ.MANUAL_DELETE:
      return fromResult(control.manualDelete(n(data, "index")));
    case REQ.MODIFY_MAKESTEP:
      return fromResult(control.modifyMakeStep(n(data, "threshold"), n(data, "limit")));
    case REQ.MODIFY_MAXUPDATESKEW:
      return fromResult(control.maxUpdateSkew(n(data, "value")));
    case REQ.MODIFY_MINPOLL:
    case REQ.MODIFY_MAXPOLL:
    case REQ.MODIFY_MAXDELAY:
    case REQ.MODIFY_MAXDELAYRATIO:
    case REQ.MODIFY_MAXDELAYDEVRATIO:
    case REQ.MODIFY_MINSTRATUM:
    case REQ.MODIFY_POLLTARGET:
    case REQ.MODIFY_OFFSET: {
      const addr = ip(data, "address");
      if (!isRealIp(addr)) return status(STT.NOSUCHSOURCE);
      return fromResult(
        control.modifySource(formatIpAddr(addr), MODIFY_FIELDS[command], n(data, "value")),
      );
    }
    case REQ.MODIFY_SELECTOPTS:
      return status(STT.INVALID);
    case REQ.OFFLINE:
    case REQ.ONLINE:
      return fromResult(control.setConnectivity(sourceMatch(data), command === REQ.ONLINE));
    case REQ.ONOFFLINE:
      return fromResult(control.onOffline());
    case REQ.REFRESH:
      return fromResult(control.refresh());
    case REQ.REKEY:
    case REQ.RELOAD_SOURCES:
      return OK;
    case REQ.RESELECT:
      return fromResult(control.reselect());
    case REQ.RESELECTDISTANCE:
      return fromResult(control.reselectDistance(n(data, "value")));
    case REQ.RESET_SOURCES:
      return fromResult(control.resetSources());
    case REQ.SETTIME:
      return settime(data, control);
    case REQ.SHUTDOWN:
      return fromResult(control.shutdown());
    case REQ.SMOOTHTIME: // 0 reset, 1 activate (ops: smoothtime)
      return control.smoothTime
        ? fromResult(control.smoothTime(n(data, "option") === 1 ? "activate" : "reset"))
        : status(STT.NOTENABLED);
    case REQ.TRIMRTC:
      return fromResult(control.trimRtc());
    case REQ.WRITERTC:
      return fromResult(control.writeRtc());
    default:
      return null;
  }
}

function byIndex<T>(list: T[], index: number): T | null {
  return Number.isInteger(index) && index >= 0 && index < list.length ? list[index] : null;
}

/** Read-only commands. Returns null if the command is not one. */
function readOnly(
  command: number,
  data: Struct,
  control: EngineControl,
  requestLength: number,
): Outcome | null {
  switch (command) {
    case REQ.NULL:
      return OK;
    case REQ.ACCHECK:
    case REQ.CMDACCHECK: {
      const addr = ip(data, "ip");
      if (!isRealIp(addr)) return status(STT.ACCESSDENIED);
      const text = formatIpAddr(addr);
      const allowed = command === REQ.ACCHECK
        ? control.ntpAccessCheck(text)
        : control.cmdAccessCheck(text);
      return status(allowed ? STT.ACCESSALLOWED : STT.ACCESSDENIED);
    }
    case REQ.ACTIVITY:
      return { reply: RPY.ACTIVITY, status: STT.SUCCESS, data: activityToWire(control.activity()) };
    case REQ.AUTH_DATA: {
      const addr = ip(data, "ip");
      const text = isRealIp(addr) ? formatIpAddr(addr) : null;
      const known = text !== null && control.sources().some((s) => s.address === text);
      if (!known) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.AUTH_DATA, status: STT.SUCCESS, data: { mode: 0 } };
    }
    case REQ.CLIENT_ACCESSES_BY_INDEX3: {
      const clients = control.clients();
      const wanted = Math.min(n(data, "nClients"), 8);
      const minHits = n(data, "minHits");
      const out: Record<string, unknown>[] = [];
      let i = n(data, "firstIndex");
      for (; i < clients.length && out.length < wanted; i++) {
        const c = clients[i];
        if (c.ntpHits + c.cmdHits < minHits) continue;
        out.push(clientToWire(c));
      }
      return {
        reply: RPY.CLIENT_ACCESSES_BY_INDEX3,
        status: STT.SUCCESS,
        data: { nIndices: clients.length, nextIndex: i, nClients: out.length, clients: out },
      };
    }
    case REQ.MANUAL_LIST: {
      const samples = control.manualList().slice(0, 16);
      return {
        reply: RPY.MANUAL_LIST2,
        status: STT.SUCCESS,
        data: { nSamples: samples.length, samples: samples.map(manualSampleToWire) },
      };
    }
    case REQ.NTP_DATA: {
      const addr = ip(data, "ip");
      const report = isRealIp(addr) ? control.ntpData(formatIpAddr(addr)) : null;
      if (report === null) return status(STT.NOSUCHSOURCE);
      const reply = requestLength >= replyLength(RPY.NTP_DATA2) ? RPY.NTP_DATA2 : RPY.NTP_DATA;
      return { reply, status: STT.SUCCESS, data: ntpDataToWire(report) };
    }
    case REQ.NTP_SOURCE_NAME: {
      const addr = ip(data, "ip");
      const name = isRealIp(addr) ? control.sourceName(formatIpAddr(addr)) : null;
      if (name === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.NTP_SOURCE_NAME, status: STT.SUCCESS, data: { name } };
    }
    case REQ.N_SOURCES:
      return {
        reply: RPY.N_SOURCES,
        status: STT.SUCCESS,
        data: { nSources: control.sources().length },
      };
    case REQ.RTCREPORT: {
      const report = control.rtcReport();
      if (report === null) return status(STT.NORTC);
      return { reply: RPY.RTC, status: STT.SUCCESS, data: rtcToWire(report) };
    }
    case REQ.SELECT_DATA: {
      const report = byIndex(control.selectData(), n(data, "index"));
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SELECT_DATA, status: STT.SUCCESS, data: selectDataToWire(report) };
    }
    case REQ.SERVER_STATS: {
      const reply = requestLength >= replyLength(RPY.SERVER_STATS4)
        ? RPY.SERVER_STATS4
        : RPY.SERVER_STATS3;
      return { reply, status: STT.SUCCESS, data: serverStatsToWire(control.serverStats()) };
    }
    case REQ.SMOOTHING: { // ops: smoothtime
      const report = control.smoothing?.() ?? null;
      if (report === null) return status(STT.NOTENABLED);
      return { reply: RPY.SMOOTHING, status: STT.SUCCESS, data: smoothingToWire(report) };
    }
    case REQ.SOURCESTATS: {
      const report = byIndex(control.sourceStats(), n(data, "index"));
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SOURCESTATS, status: STT.SUCCESS, data: sourceStatsToWire(report) };
    }
    case REQ.SOURCE_DATA: {
      const report = byIndex(control.sources(), n(data, "index"));
      if (report === null) return status(STT.NOSUCHSOURCE);
      return { reply: RPY.SOURCE_DATA, status: STT.SUCCESS, data: sourceToWire(report) };
    }
    case REQ.TRACKING:
      return { reply: RPY.TRACKING, status: STT.SUCCESS, data: trackingToWire(control.tracking()) };
    default:
      return null;
  }
}

/**
 * Handles one command packet: returns the reply to send, or null to send nothing. Never
 * throws (an exception from `control` becomes STT_FAILED).
 */
export function handleCommand(
  request: Uint8Array,
  access: CommandAccess,
  control: EngineControl,
): Uint8Array | null {
  const length = request.length;
  if (length < REPLY_HEADER_LENGTH || length > MAX_REQUEST_LENGTH) return null;
  const decoded = decodeRequestHeader(request);
  if (!decoded.ok) return null;
  const header = decoded.header;
  if (header.pktType !== PKT_TYPE_CMD_REQUEST || header.res1 !== 0 || header.res2 !== 0) {
    return null;
  }
  const reply = (outcome: Outcome): Uint8Array | null => {
    const packet = encodeReply({
      command: header.command,
      reply: outcome.reply,
      status: outcome.status,
      sequence: header.sequence,
      data: outcome.data,
    });
    return packet.length <= length ? packet : null;
  };
  if (header.version !== PROTO_VERSION) {
    return header.version >= PROTO_VERSION_MISMATCH_COMPAT_SERVER
      ? reply(status(STT.BADPKTVERSION))
      : null;
  }
  const expected = minimumRequestLength(header.command);
  if (header.command >= N_REQUEST_TYPES || expected === 0) return reply(status(STT.INVALID));
  if (length < expected) return reply(status(STT.BADPKTLENGTH));
  const data = decodeRequestData(header.command, request);
  if (data === null) return reply(status(STT.BADPKTLENGTH));

  let outcome: Outcome | null = null;
  try {
    if (access.full) outcome = readWrite(header.command, data, control, request);
    if (outcome === null) {
      const open = access.openCommands ?? DEFAULT_OPEN_COMMANDS;
      if (access.full || open.has(header.command)) {
        outcome = readOnly(header.command, data, control, length);
      }
    }
  } catch {
    outcome = status(STT.FAILED);
  }
  return reply(outcome ?? status(STT.UNAUTH));
}
