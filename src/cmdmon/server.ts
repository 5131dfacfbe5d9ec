/**
 * The command server's logic, pure: one request packet in, one reply packet (or nothing)
 * out, validated exactly as chrony's cmdmon.c does and dispatched to `EngineControl`.
 *
 * Order of checks (read_from_cmd_socket): drop packets shorter than 28 bytes or longer than
 * chrony's largest request; drop wrong packet type or non-zero reserved bytes; a version
 * other than 6 gets BADPKTVERSION when it is >= 5 and is dropped otherwise; an unknown
 * command gets INVALID; a request shorter than its padded length gets BADPKTLENGTH. With
 * full access (Unix socket) read-write commands run; otherwise only open commands do and
 * everything else gets UNAUTH. A reply is never longer than its request. The commands
 * themselves are in server_control.ts (read-write) and server_reports.ts (read-only).
 *
 * @module
 */
import type { EngineControl } from "../core/control.ts";
import {
  MAX_REQUEST_LENGTH,
  N_REQUEST_TYPES,
  PKT_TYPE_CMD_REQUEST,
  PROTO_VERSION,
  PROTO_VERSION_MISMATCH_COMPAT_SERVER,
  REPLY_HEADER_LENGTH,
  REQ,
  STT,
} from "./constants.ts";
import { decodeRequestData, decodeRequestHeader, encodeReply } from "./codec.ts";
import { minimumRequestLength } from "./messages.ts";
import { runControlCommand } from "./server_control.ts";
import { type Outcome, status } from "./server_outcome.ts";
import { runReportCommand } from "./server_reports.ts";

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
  for (const name of names) {
    if (!Object.hasOwn(OPEN_COMMAND_NAMES, name)) continue;
    for (const code of OPEN_COMMAND_NAMES[name]) out.add(code);
  }
  return out;
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
      ...outcome,
      command: header.command,
      sequence: header.sequence,
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
  const decodedRequest = decodeRequestData(header.command, request);
  if (decodedRequest === null) return reply(status(STT.BADPKTLENGTH));

  let outcome: Outcome | null = null;
  try {
    if (access.full) outcome = runControlCommand(decodedRequest, control, request);
    if (outcome === null) {
      const open = access.openCommands ?? DEFAULT_OPEN_COMMANDS;
      if (access.full || open.has(header.command)) {
        outcome = runReportCommand(decodedRequest, control, length);
      }
    }
  } catch {
    outcome = status(STT.FAILED);
  }
  return reply(outcome ?? status(STT.UNAUTH));
}
