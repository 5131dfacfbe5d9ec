/**
 * Request and reply data layouts of chrony's command protocol (candm.h, version 6) and the
 * packet lengths chrony's pktlength.c derives from them: a request is padded with zeros up
 * to the length of the reply it expects, so that a reply is never longer than its request.
 *
 * Two replies changed layout after chrony 4.3 (SERVER_STATS3 -> SERVER_STATS4, NTP_DATA ->
 * NTP_DATA2). Both forms are described; a server answers with the newer form only when the
 * request is long enough to carry it, which keeps chronyc 4.3 and newer clients working.
 *
 * @module
 */
import { REPLY_HEADER_LENGTH, REQ, REQUEST_HEADER_LENGTH, RPY } from "./constants.ts";
import { type Layout, layoutSize } from "./layout.ts";

const ADDR_VALUE_I32: Layout = [["address", "ip"], ["value", "i32"]];
const ADDR_VALUE_FLOAT: Layout = [["address", "ip"], ["value", "float"]];
const MASK_ADDR: Layout = [["mask", "ip"], ["address", "ip"]];
const ALLOW_DENY: Layout = [["ip", "ip"], ["subnetBits", "i32"]];
const ONE_IP: Layout = [["ip", "ip"]];
const INDEX_I32: Layout = [["index", "i32"]];
const INDEX_U32: Layout = [["index", "u32"]];

/** REQ_NTP_Source (ADD_SOURCE). */
export const NTP_SOURCE_LAYOUT: Layout = [
  ["type", "u32"],
  ["name", { string: 256 }],
  ["port", "u32"],
  ["minpoll", "i32"],
  ["maxpoll", "i32"],
  ["presendMinpoll", "i32"],
  ["minStratum", "u32"],
  ["pollTarget", "u32"],
  ["version", "u32"],
  ["maxSources", "u32"],
  ["minSamples", "i32"],
  ["maxSamples", "i32"],
  ["authkey", "u32"],
  ["ntsPort", "u32"],
  ["maxDelay", "float"],
  ["maxDelayRatio", "float"],
  ["maxDelayDevRatio", "float"],
  ["minDelay", "float"],
  ["asymmetry", "float"],
  ["offset", "float"],
  ["flags", "u32"],
  ["filterLength", "i32"],
  ["certSet", "u32"],
  ["maxDelayQuant", "float"],
  ["maxUnreach", "i32"],
];

/** Request data layouts by request code; a code absent here is unknown (STT_INVALID). */
export const REQUEST_LAYOUTS: Readonly<Record<number, Layout>> = {
  [REQ.NULL]: [],
  [REQ.ONLINE]: MASK_ADDR,
  [REQ.OFFLINE]: MASK_ADDR,
  [REQ.BURST]: [...MASK_ADDR, ["nGoodSamples", "i32"], ["nTotalSamples", "i32"]],
  [REQ.MODIFY_MINPOLL]: ADDR_VALUE_I32,
  [REQ.MODIFY_MAXPOLL]: ADDR_VALUE_I32,
  [REQ.DUMP]: [["pad", "i32"]],
  [REQ.MODIFY_MAXDELAY]: ADDR_VALUE_FLOAT,
  [REQ.MODIFY_MAXDELAYRATIO]: ADDR_VALUE_FLOAT,
  [REQ.MODIFY_MAXUPDATESKEW]: [["value", "float"]],
  [REQ.SETTIME]: [["ts", "timespec"]],
  [REQ.MANUAL]: [["option", "i32"]],
  [REQ.N_SOURCES]: [],
  [REQ.SOURCE_DATA]: INDEX_I32,
  [REQ.REKEY]: [],
  [REQ.ALLOW]: ALLOW_DENY,
  [REQ.ALLOWALL]: ALLOW_DENY,
  [REQ.DENY]: ALLOW_DENY,
  [REQ.DENYALL]: ALLOW_DENY,
  [REQ.CMDALLOW]: ALLOW_DENY,
  [REQ.CMDALLOWALL]: ALLOW_DENY,
  [REQ.CMDDENY]: ALLOW_DENY,
  [REQ.CMDDENYALL]: ALLOW_DENY,
  [REQ.ACCHECK]: ONE_IP,
  [REQ.CMDACCHECK]: ONE_IP,
  [REQ.DEL_SOURCE]: ONE_IP,
  [REQ.WRITERTC]: [],
  [REQ.DFREQ]: [["value", "float"]],
  [REQ.TRACKING]: [],
  [REQ.SOURCESTATS]: INDEX_U32,
  [REQ.RTCREPORT]: [],
  [REQ.TRIMRTC]: [],
  [REQ.CYCLELOGS]: [],
  [REQ.MANUAL_LIST]: [],
  [REQ.MANUAL_DELETE]: INDEX_I32,
  [REQ.MAKESTEP]: [],
  [REQ.ACTIVITY]: [],
  [REQ.MODIFY_MINSTRATUM]: ADDR_VALUE_I32,
  [REQ.MODIFY_POLLTARGET]: ADDR_VALUE_I32,
  [REQ.MODIFY_MAXDELAYDEVRATIO]: ADDR_VALUE_FLOAT,
  [REQ.RESELECT]: [],
  [REQ.RESELECTDISTANCE]: [["value", "float"]],
  [REQ.MODIFY_MAKESTEP]: [["limit", "i32"], ["threshold", "float"]],
  [REQ.SMOOTHING]: [],
  [REQ.SMOOTHTIME]: [["option", "i32"]],
  [REQ.REFRESH]: [],
  [REQ.SERVER_STATS]: [],
  [REQ.LOCAL2]: [["onOff", "i32"], ["stratum", "i32"], ["distance", "float"], ["orphan", "i32"]],
  [REQ.NTP_DATA]: ONE_IP,
  [REQ.SHUTDOWN]: [],
  [REQ.ONOFFLINE]: [],
  [REQ.ADD_SOURCE]: NTP_SOURCE_LAYOUT,
  [REQ.NTP_SOURCE_NAME]: ONE_IP,
  [REQ.RESET_SOURCES]: [],
  [REQ.AUTH_DATA]: ONE_IP,
  [REQ.CLIENT_ACCESSES_BY_INDEX3]: [
    ["firstIndex", "u32"],
    ["nClients", "u32"],
    ["minHits", "u32"],
    ["reset", "u32"],
  ],
  [REQ.SELECT_DATA]: INDEX_U32,
  [REQ.RELOAD_SOURCES]: [],
  [REQ.DOFFSET2]: [["value", "float"]],
  [REQ.MODIFY_SELECTOPTS]: [
    ["address", "ip"],
    ["refId", "u32"],
    ["mask", "u32"],
    ["options", "u32"],
  ],
  [REQ.MODIFY_OFFSET]: [["address", "ip"], ["refId", "u32"], ["value", "float"]],
  [REQ.LOCAL3]: [
    ["onOff", "i32"],
    ["stratum", "i32"],
    ["distance", "float"],
    ["orphan", "i32"],
    ["activate", "float"],
    ["waitSynced", "float"],
    ["waitUnsynced", "float"],
  ],
};

/** RPY_ClientAccesses_Client. */
export const CLIENT_LAYOUT: Layout = [
  ["ip", "ip"],
  ["ntpHits", "u32"],
  ["nkeHits", "u32"],
  ["cmdHits", "u32"],
  ["ntpDrops", "u32"],
  ["nkeDrops", "u32"],
  ["cmdDrops", "u32"],
  ["ntpInterval", "i8"],
  ["nkeInterval", "i8"],
  ["cmdInterval", "i8"],
  ["ntpTimeoutInterval", "i8"],
  ["lastNtpHitAgo", "u32"],
  ["lastNkeHitAgo", "u32"],
  ["lastCmdHitAgo", "u32"],
];

/** RPY_ManualListSample. */
export const MANUAL_SAMPLE_LAYOUT: Layout = [
  ["when", "timespec"],
  ["slewedOffset", "float"],
  ["origOffset", "float"],
  ["residual", "float"],
];

const NTP_DATA_COMMON: Layout = [
  ["remoteAddr", "ip"],
  ["localAddr", "ip"],
  ["remotePort", "u16"],
  ["leap", "u8"],
  ["version", "u8"],
  ["mode", "u8"],
  ["stratum", "u8"],
  ["poll", "i8"],
  ["precision", "i8"],
  ["rootDelay", "float"],
  ["rootDispersion", "float"],
  ["refId", "u32"],
  ["refTime", "timespec"],
  ["offset", "float"],
  ["peerDelay", "float"],
  ["peerDispersion", "float"],
  ["responseTime", "float"],
  ["jitterAsymmetry", "float"],
  ["flags", "u16"],
  ["txTssChar", "u8"],
  ["rxTssChar", "u8"],
  ["totalTxCount", "u32"],
  ["totalRxCount", "u32"],
  ["totalValidCount", "u32"],
  ["totalGoodCount", "u32"],
];

const SERVER_STATS_NAMES = [
  "ntpHits",
  "nkeHits",
  "cmdHits",
  "ntpDrops",
  "nkeDrops",
  "cmdDrops",
  "logDrops",
  "ntpAuthHits",
  "ntpInterleavedHits",
  "ntpTimestamps",
  "ntpSpanSeconds",
];

/** Reply data layouts by reply code. */
export const REPLY_LAYOUTS: Readonly<Record<number, Layout>> = {
  [RPY.NULL]: [],
  [RPY.N_SOURCES]: [["nSources", "u32"]],
  [RPY.SOURCE_DATA]: [
    ["ipAddr", "ip"],
    ["poll", "i16"],
    ["stratum", "u16"],
    ["state", "u16"],
    ["mode", "u16"],
    ["flags", "u16"],
    ["reachability", "u16"],
    ["sinceSample", "u32"],
    ["origLatestMeas", "float"],
    ["latestMeas", "float"],
    ["latestMeasErr", "float"],
  ],
  [RPY.TRACKING]: [
    ["refId", "u32"],
    ["ipAddr", "ip"],
    ["stratum", "u16"],
    ["leapStatus", "u16"],
    ["refTime", "timespec"],
    ["currentCorrection", "float"],
    ["lastOffset", "float"],
    ["rmsOffset", "float"],
    ["freqPpm", "float"],
    ["residFreqPpm", "float"],
    ["skewPpm", "float"],
    ["rootDelay", "float"],
    ["rootDispersion", "float"],
    ["lastUpdateInterval", "float"],
  ],
  [RPY.SOURCESTATS]: [
    ["refId", "u32"],
    ["ipAddr", "ip"],
    ["nSamples", "u32"],
    ["nRuns", "u32"],
    ["spanSeconds", "u32"],
    ["sd", "float"],
    ["residFreqPpm", "float"],
    ["skewPpm", "float"],
    ["estOffset", "float"],
    ["estOffsetErr", "float"],
  ],
  [RPY.RTC]: [
    ["refTime", "timespec"],
    ["nSamples", "u16"],
    ["nRuns", "u16"],
    ["spanSeconds", "u32"],
    ["rtcSecondsFast", "float"],
    ["rtcGainRatePpm", "float"],
  ],
  [RPY.MANUAL_TIMESTAMP2]: [["offset", "float"], ["dfreqPpm", "float"], ["newAfreqPpm", "float"]],
  [RPY.CLIENT_ACCESSES_BY_INDEX3]: [
    ["nIndices", "u32"],
    ["nextIndex", "u32"],
    ["nClients", "u32"],
    ["clients", { array: CLIENT_LAYOUT, count: 8 }],
  ],
  [RPY.SERVER_STATS3]: SERVER_STATS_NAMES.map((n) => [n, "u32"] as const),
  [RPY.SERVER_STATS4]: [
    ...SERVER_STATS_NAMES.map((n) => [n, "int64"] as const),
    ["ntpDaemonRxTimestamps", "int64"],
    ["ntpDaemonTxTimestamps", "int64"],
    ["ntpKernelRxTimestamps", "int64"],
    ["ntpKernelTxTimestamps", "int64"],
    ["ntpHwRxTimestamps", "int64"],
    ["ntpHwTxTimestamps", "int64"],
    ["reserved", { reserved: 8 }],
  ],
  [RPY.MANUAL_LIST2]: [
    ["nSamples", "u32"],
    ["samples", { array: MANUAL_SAMPLE_LAYOUT, count: 16 }],
  ],
  [RPY.ACTIVITY]: [
    ["online", "i32"],
    ["offline", "i32"],
    ["burstOnline", "i32"],
    ["burstOffline", "i32"],
    ["unresolved", "i32"],
  ],
  [RPY.SMOOTHING]: [
    ["flags", "u32"],
    ["offset", "float"],
    ["freqPpm", "float"],
    ["wanderPpm", "float"],
    ["lastUpdateAgo", "float"],
    ["remainingTime", "float"],
  ],
  [RPY.NTP_DATA]: [...NTP_DATA_COMMON, ["reserved", { reserved: 3 }]],
  [RPY.NTP_DATA2]: [
    ...NTP_DATA_COMMON,
    ["totalKernelTxTs", "u32"],
    ["totalKernelRxTs", "u32"],
    ["totalHwTxTs", "u32"],
    ["totalHwRxTs", "u32"],
    ["reserved", { reserved: 4 }],
  ],
  [RPY.NTP_SOURCE_NAME]: [["name", { string: 256 }]],
  [RPY.AUTH_DATA]: [
    ["mode", "u16"],
    ["keyType", "u16"],
    ["keyId", "u32"],
    ["keyLength", "u16"],
    ["keAttempts", "u16"],
    ["lastKeAgo", "u32"],
    ["cookies", "u16"],
    ["cookieLength", "u16"],
    ["nak", "u16"],
    ["pad", "u16"],
  ],
  [RPY.SELECT_DATA]: [
    ["refId", "u32"],
    ["ipAddr", "ip"],
    ["stateChar", "u8"],
    ["authentication", "u8"],
    ["leap", "u8"],
    ["pad", "u8"],
    ["confOptions", "u16"],
    ["effOptions", "u16"],
    ["lastSampleAgo", "u32"],
    ["score", "float"],
    ["loLimit", "float"],
    ["hiLimit", "float"],
  ],
};

/** The reply each request expects (for padding); absent = RPY_NULL. Newest forms. */
export const EXPECTED_REPLY: Readonly<Record<number, number>> = {
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
};

/** Older reply forms a server still gives to shorter (chrony 4.3) requests. */
export const COMPAT_REPLY: Readonly<Record<number, number>> = {
  [REQ.SERVER_STATS]: RPY.SERVER_STATS3,
  [REQ.NTP_DATA]: RPY.NTP_DATA,
};

/** Reply codes a client accepts for a request (newest first). */
export function acceptedReplies(command: number): number[] {
  const out = [EXPECTED_REPLY[command] ?? RPY.NULL];
  const compat = COMPAT_REPLY[command];
  if (compat !== undefined) out.push(compat);
  return out;
}

/** chrony's PKL_ReplyLength: header + data of a reply code, or 0 if the code is unknown. */
export function replyLength(reply: number): number {
  const layout = REPLY_LAYOUTS[reply];
  return layout === undefined ? 0 : REPLY_HEADER_LENGTH + layoutSize(layout);
}

/** Header + data of a request without padding, or 0 if the command is unknown. */
export function commandLength(command: number): number {
  const layout = REQUEST_LAYOUTS[command];
  return layout === undefined ? 0 : REQUEST_HEADER_LENGTH + layoutSize(layout);
}

/**
 * chrony's PKL_CommandLength for version 6: the request padded to its expected reply's
 * length (newest reply form). 0 = unknown command.
 */
export function requestLength(command: number): number {
  const base = commandLength(command);
  if (base === 0) return 0;
  return Math.max(base, replyLength(EXPECTED_REPLY[command] ?? RPY.NULL));
}

/**
 * The shortest request a server accepts for a command: the padded length for the oldest
 * reply form it can still answer with (chrony 4.3 clients). 0 = unknown command.
 */
export function minimumRequestLength(command: number): number {
  const base = commandLength(command);
  if (base === 0) return 0;
  const compat = COMPAT_REPLY[command];
  const reply = compat ?? EXPECTED_REPLY[command] ?? RPY.NULL;
  return Math.max(base, replyLength(reply));
}
