/**
 * Reply data layouts of chrony's command protocol (candm.h, version 6), by reply code, and
 * the typed reply each code carries. The server encodes tempus's reports into these types
 * (wire_reports.ts) and the client decodes into the very same types, so both sides share
 * one description per reply.
 *
 * Two replies changed layout after chrony 4.3 (SERVER_STATS3 -> SERVER_STATS4, NTP_DATA ->
 * NTP_DATA2). Both forms are described.
 *
 * @module
 */
import { RPY } from "./constants.ts";
import { layout, type LayoutValue } from "./layout.ts";

/** RPY_ClientAccesses_Client. */
const CLIENT_LAYOUT = layout({
  ip: "ip",
  ntpHits: "u32",
  nkeHits: "u32",
  cmdHits: "u32",
  ntpDrops: "u32",
  nkeDrops: "u32",
  cmdDrops: "u32",
  ntpInterval: "i8",
  nkeInterval: "i8",
  cmdInterval: "i8",
  ntpTimeoutInterval: "i8",
  lastNtpHitAgo: "u32",
  lastNkeHitAgo: "u32",
  lastCmdHitAgo: "u32",
});

/** RPY_ManualListSample. */
const MANUAL_SAMPLE_LAYOUT = layout({
  when: "timespec",
  slewedOffset: "float",
  origOffset: "float",
  residual: "float",
});

const NTP_DATA_COMMON = layout({
  remoteAddr: "ip",
  localAddr: "ip",
  remotePort: "u16",
  leap: "u8",
  version: "u8",
  mode: "u8",
  stratum: "u8",
  poll: "i8",
  precision: "i8",
  rootDelay: "float",
  rootDispersion: "float",
  refId: "u32",
  refTime: "timespec",
  offset: "float",
  peerDelay: "float",
  peerDispersion: "float",
  responseTime: "float",
  jitterAsymmetry: "float",
  flags: "u16",
  txTssChar: "u8",
  rxTssChar: "u8",
  totalTxCount: "u32",
  totalRxCount: "u32",
  totalValidCount: "u32",
  totalGoodCount: "u32",
});

const SERVER_STATS3 = layout({
  ntpHits: "u32",
  nkeHits: "u32",
  cmdHits: "u32",
  ntpDrops: "u32",
  nkeDrops: "u32",
  cmdDrops: "u32",
  logDrops: "u32",
  ntpAuthHits: "u32",
  ntpInterleavedHits: "u32",
  ntpTimestamps: "u32",
  ntpSpanSeconds: "u32",
});

const SERVER_STATS4 = layout({
  ntpHits: "int64",
  nkeHits: "int64",
  cmdHits: "int64",
  ntpDrops: "int64",
  nkeDrops: "int64",
  cmdDrops: "int64",
  logDrops: "int64",
  ntpAuthHits: "int64",
  ntpInterleavedHits: "int64",
  ntpTimestamps: "int64",
  ntpSpanSeconds: "int64",
  ntpDaemonRxTimestamps: "int64",
  ntpDaemonTxTimestamps: "int64",
  ntpKernelRxTimestamps: "int64",
  ntpKernelTxTimestamps: "int64",
  ntpHwRxTimestamps: "int64",
  ntpHwTxTimestamps: "int64",
  reserved: { reserved: 8 },
});

/** Reply data layouts by reply code. */
export const REPLY_LAYOUTS = {
  [RPY.NULL]: layout({}),
  [RPY.N_SOURCES]: layout({ nSources: "u32" }),
  [RPY.SOURCE_DATA]: layout({
    ipAddr: "ip",
    poll: "i16",
    stratum: "u16",
    state: "u16",
    mode: "u16",
    flags: "u16",
    reachability: "u16",
    sinceSample: "u32",
    origLatestMeas: "float",
    latestMeas: "float",
    latestMeasErr: "float",
  }),
  [RPY.TRACKING]: layout({
    refId: "u32",
    ipAddr: "ip",
    stratum: "u16",
    leapStatus: "u16",
    refTime: "timespec",
    currentCorrection: "float",
    lastOffset: "float",
    rmsOffset: "float",
    freqPpm: "float",
    residFreqPpm: "float",
    skewPpm: "float",
    rootDelay: "float",
    rootDispersion: "float",
    lastUpdateInterval: "float",
  }),
  [RPY.SOURCESTATS]: layout({
    refId: "u32",
    ipAddr: "ip",
    nSamples: "u32",
    nRuns: "u32",
    spanSeconds: "u32",
    sd: "float",
    residFreqPpm: "float",
    skewPpm: "float",
    estOffset: "float",
    estOffsetErr: "float",
  }),
  [RPY.RTC]: layout({
    refTime: "timespec",
    nSamples: "u16",
    nRuns: "u16",
    spanSeconds: "u32",
    rtcSecondsFast: "float",
    rtcGainRatePpm: "float",
  }),
  [RPY.MANUAL_TIMESTAMP2]: layout({ offset: "float", dfreqPpm: "float", newAfreqPpm: "float" }),
  [RPY.CLIENT_ACCESSES_BY_INDEX3]: layout({
    nIndices: "u32",
    nextIndex: "u32",
    nClients: "u32",
    clients: { array: CLIENT_LAYOUT, count: 8 },
  }),
  [RPY.SERVER_STATS3]: SERVER_STATS3,
  [RPY.SERVER_STATS4]: SERVER_STATS4,
  [RPY.MANUAL_LIST2]: layout({
    nSamples: "u32",
    samples: { array: MANUAL_SAMPLE_LAYOUT, count: 16 },
  }),
  [RPY.ACTIVITY]: layout({
    online: "i32",
    offline: "i32",
    burstOnline: "i32",
    burstOffline: "i32",
    unresolved: "i32",
  }),
  [RPY.SMOOTHING]: layout({
    flags: "u32",
    offset: "float",
    freqPpm: "float",
    wanderPpm: "float",
    lastUpdateAgo: "float",
    remainingTime: "float",
  }),
  [RPY.NTP_DATA]: layout({ ...NTP_DATA_COMMON, reserved: { reserved: 3 } }),
  [RPY.NTP_DATA2]: layout({
    ...NTP_DATA_COMMON,
    totalKernelTxTs: "u32",
    totalKernelRxTs: "u32",
    totalHwTxTs: "u32",
    totalHwRxTs: "u32",
    reserved: { reserved: 4 },
  }),
  [RPY.NTP_SOURCE_NAME]: layout({ name: { string: 256 } }),
  [RPY.AUTH_DATA]: layout({
    mode: "u16",
    keyType: "u16",
    keyId: "u32",
    keyLength: "u16",
    keAttempts: "u16",
    lastKeAgo: "u32",
    cookies: "u16",
    cookieLength: "u16",
    nak: "u16",
    pad: "u16",
  }),
  [RPY.SELECT_DATA]: layout({
    refId: "u32",
    ipAddr: "ip",
    stateChar: "u8",
    authentication: "u8",
    leap: "u8",
    pad: "u8",
    confOptions: "u16",
    effOptions: "u16",
    lastSampleAgo: "u32",
    score: "float",
    loLimit: "float",
    hiLimit: "float",
  }),
} as const;

/** A reply code tempus knows (a key of `REPLY_LAYOUTS`). */
export type ReplyCode = keyof typeof REPLY_LAYOUTS;

/** The data a reply of code `R` carries. */
export type ReplyData<R extends ReplyCode> = LayoutValue<(typeof REPLY_LAYOUTS)[R]>;

/** A reply's code and data, narrowed together by `reply`. */
export type ReplyBody<R extends ReplyCode = ReplyCode> = {
  [K in R]: { reply: K; data: ReplyData<K> };
}[R];

/** Whether `reply` is a reply code tempus knows. */
export function isReplyCode(reply: number): reply is ReplyCode {
  return Object.hasOwn(REPLY_LAYOUTS, reply);
}

/** RPY_Tracking. */
export type TrackingData = ReplyData<typeof RPY.TRACKING>;
/** RPY_Source_Data. */
export type SourceData = ReplyData<typeof RPY.SOURCE_DATA>;
/** RPY_Sourcestats. */
export type SourceStatsData = ReplyData<typeof RPY.SOURCESTATS>;
/** RPY_SelectData. */
export type SelectData = ReplyData<typeof RPY.SELECT_DATA>;
/** RPY_Activity. */
export type ActivityData = ReplyData<typeof RPY.ACTIVITY>;
/** RPY_ServerStats3 (chrony 4.3). */
export type ServerStats3Data = ReplyData<typeof RPY.SERVER_STATS3>;
/** RPY_ServerStats4. */
export type ServerStats4Data = ReplyData<typeof RPY.SERVER_STATS4>;
/** RPY_NTPData (chrony 4.3). */
export type NtpDataData = ReplyData<typeof RPY.NTP_DATA>;
/** RPY_NTPData2. */
export type NtpData2Data = ReplyData<typeof RPY.NTP_DATA2>;
/** One RPY_ClientAccesses_Client. */
export type ClientData = ReplyData<typeof RPY.CLIENT_ACCESSES_BY_INDEX3>["clients"][number];
/** One RPY_ManualListSample. */
export type ManualSampleData = ReplyData<typeof RPY.MANUAL_LIST2>["samples"][number];
/** RPY_ManualTimestamp2. */
export type ManualTimestampData = ReplyData<typeof RPY.MANUAL_TIMESTAMP2>;
/** RPY_Rtc. */
export type RtcData = ReplyData<typeof RPY.RTC>;
