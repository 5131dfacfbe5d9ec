/**
 * Numbers of chrony's command protocol (candm.h): protocol version, packet types, request
 * (REQ_*), reply (RPY_*) and status (STT_*) codes, and the status lines chronyc prints.
 *
 * @module
 */

/** Protocol version spoken (chrony 2.2 and later). */
export const PROTO_VERSION = 6;
/** Oldest version a server answers with BADPKTVERSION instead of dropping. */
export const PROTO_VERSION_MISMATCH_COMPAT_SERVER = 5;
/** Oldest version whose BADPKTVERSION reply a client accepts. */
export const PROTO_VERSION_MISMATCH_COMPAT_CLIENT = 4;
/** Packet type of a request. */
export const PKT_TYPE_CMD_REQUEST = 1;
/** Packet type of a reply. */
export const PKT_TYPE_CMD_REPLY = 2;
/** Length of the request header. */
export const REQUEST_HEADER_LENGTH = 20;
/** Length of the reply header. */
export const REPLY_HEADER_LENGTH = 28;
/** Largest request chrony accepts: header + largest request data (ADD_SOURCE) + padding. */
export const MAX_REQUEST_LENGTH = 860;
/** Number of request codes chrony knows (REQ_* < this). */
export const N_REQUEST_TYPES = 75;
/** Default command port. */
export const DEFAULT_CANDM_PORT = 323;

/** Request codes. */
export const REQ = {
  NULL: 0,
  ONLINE: 1,
  OFFLINE: 2,
  BURST: 3,
  MODIFY_MINPOLL: 4,
  MODIFY_MAXPOLL: 5,
  DUMP: 6,
  MODIFY_MAXDELAY: 7,
  MODIFY_MAXDELAYRATIO: 8,
  MODIFY_MAXUPDATESKEW: 9,
  LOGON: 10,
  SETTIME: 11,
  LOCAL: 12,
  MANUAL: 13,
  N_SOURCES: 14,
  SOURCE_DATA: 15,
  REKEY: 16,
  ALLOW: 17,
  ALLOWALL: 18,
  DENY: 19,
  DENYALL: 20,
  CMDALLOW: 21,
  CMDALLOWALL: 22,
  CMDDENY: 23,
  CMDDENYALL: 24,
  ACCHECK: 25,
  CMDACCHECK: 26,
  ADD_SERVER: 27,
  ADD_PEER: 28,
  DEL_SOURCE: 29,
  WRITERTC: 30,
  DFREQ: 31,
  DOFFSET: 32,
  TRACKING: 33,
  SOURCESTATS: 34,
  RTCREPORT: 35,
  TRIMRTC: 36,
  CYCLELOGS: 37,
  SUBNETS_ACCESSED: 38,
  CLIENT_ACCESSES: 39,
  CLIENT_ACCESSES_BY_INDEX: 40,
  MANUAL_LIST: 41,
  MANUAL_DELETE: 42,
  MAKESTEP: 43,
  ACTIVITY: 44,
  MODIFY_MINSTRATUM: 45,
  MODIFY_POLLTARGET: 46,
  MODIFY_MAXDELAYDEVRATIO: 47,
  RESELECT: 48,
  RESELECTDISTANCE: 49,
  MODIFY_MAKESTEP: 50,
  SMOOTHING: 51,
  SMOOTHTIME: 52,
  REFRESH: 53,
  SERVER_STATS: 54,
  CLIENT_ACCESSES_BY_INDEX2: 55,
  LOCAL2: 56,
  NTP_DATA: 57,
  ADD_SERVER2: 58,
  ADD_PEER2: 59,
  ADD_SERVER3: 60,
  ADD_PEER3: 61,
  SHUTDOWN: 62,
  ONOFFLINE: 63,
  ADD_SOURCE: 64,
  NTP_SOURCE_NAME: 65,
  RESET_SOURCES: 66,
  AUTH_DATA: 67,
  CLIENT_ACCESSES_BY_INDEX3: 68,
  SELECT_DATA: 69,
  RELOAD_SOURCES: 70,
  DOFFSET2: 71,
  MODIFY_SELECTOPTS: 72,
  MODIFY_OFFSET: 73,
  LOCAL3: 74,
} as const;

/** Reply codes. */
export const RPY = {
  NULL: 1,
  N_SOURCES: 2,
  SOURCE_DATA: 3,
  MANUAL_TIMESTAMP: 4,
  TRACKING: 5,
  SOURCESTATS: 6,
  RTC: 7,
  SUBNETS_ACCESSED: 8,
  CLIENT_ACCESSES: 9,
  CLIENT_ACCESSES_BY_INDEX: 10,
  MANUAL_LIST: 11,
  ACTIVITY: 12,
  SMOOTHING: 13,
  SERVER_STATS: 14,
  CLIENT_ACCESSES_BY_INDEX2: 15,
  NTP_DATA: 16,
  MANUAL_TIMESTAMP2: 17,
  MANUAL_LIST2: 18,
  NTP_SOURCE_NAME: 19,
  AUTH_DATA: 20,
  CLIENT_ACCESSES_BY_INDEX3: 21,
  SERVER_STATS2: 22,
  SELECT_DATA: 23,
  SERVER_STATS3: 24,
  SERVER_STATS4: 25,
  NTP_DATA2: 26,
} as const;

/** Status codes. */
export const STT = {
  SUCCESS: 0,
  FAILED: 1,
  UNAUTH: 2,
  INVALID: 3,
  NOSUCHSOURCE: 4,
  INVALIDTS: 5,
  NOTENABLED: 6,
  BADSUBNET: 7,
  ACCESSALLOWED: 8,
  ACCESSDENIED: 9,
  NOHOSTACCESS: 10,
  SOURCEALREADYKNOWN: 11,
  TOOMANYSOURCES: 12,
  NORTC: 13,
  BADRTCFILE: 14,
  INACTIVE: 15,
  BADSAMPLE: 16,
  INVALIDAF: 17,
  BADPKTVERSION: 18,
  BADPKTLENGTH: 19,
  INVALIDNAME: 21,
} as const;

const STATUS_LINES: Record<number, string> = {
  [STT.SUCCESS]: "200 OK",
  [STT.ACCESSALLOWED]: "208 Access allowed",
  [STT.ACCESSDENIED]: "209 Access denied",
  [STT.FAILED]: "500 Failure",
  [STT.UNAUTH]: "501 Not authorised",
  [STT.INVALID]: "502 Invalid command",
  [STT.NOSUCHSOURCE]: "503 No such source",
  [STT.INVALIDTS]: "504 Duplicate or stale logon detected",
  [STT.NOTENABLED]: "505 Facility not enabled in daemon",
  [STT.BADSUBNET]: "507 Bad subnet",
  [STT.NOHOSTACCESS]: "510 No command access from this host",
  [STT.SOURCEALREADYKNOWN]: "511 Source already present",
  [STT.TOOMANYSOURCES]: "512 Too many sources present",
  [STT.NORTC]: "513 RTC driver not running",
  [STT.BADRTCFILE]: "514 Can't write RTC parameters",
  [STT.INVALIDAF]: "515 Invalid address family",
  [STT.BADSAMPLE]: "516 Sample index out of range",
  [STT.BADPKTVERSION]: "517 Protocol version mismatch",
  [STT.BADPKTLENGTH]: "518 Packet length mismatch",
  [STT.INACTIVE]: "519 Client logging is not active in the daemon",
  [STT.INVALIDNAME]: "521 Invalid name",
};

/** The line chronyc prints for a status code. */
export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? "520 Got unexpected error from daemon";
}

/** What chronyc prints when no daemon answers. */
export const CANNOT_TALK = "506 Cannot talk to daemon";
/** What chronyc prints for a reply of the wrong type. */
export const BAD_REPLY = "508 Bad reply from daemon";
