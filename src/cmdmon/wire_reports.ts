/**
 * Converts tempus report objects (src/core/reports.ts, tempus signs) into the wire structs
 * of chrony's replies (chrony signs). This is the only place where signs flip:
 *
 * - frequencies: chrony reports the clock's own error (freq_ppm > 0 = "fast"), tempus the
 *   correction applied (freqPpm > 0 = made faster), so wire = -tempus (also residual
 *   frequencies and manual dfreq/new frequency);
 * - tracking current_correction ("System time", > 0 = "slow"): same as tempus
 *   systemTimeOffset (reference minus system);
 * - offsets kept by chrony's sourcestats (sources' latest_meas, sourcestats est_offset,
 *   tracking last_offset, select intervals, manual samples, settime offset) are local minus
 *   reference (> 0 = local fast): wire = -tempus offset;
 * - ntpdata offset is the raw NTP sample offset (RFC 5905 sign, as tempus): unchanged.
 *
 * @module
 */
import type {
  ActivityReport,
  ClientAccessReport,
  ManualSampleReport,
  ManualTimestampReport,
  NtpDataReport,
  RtcReport,
  SelectDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../core/reports.ts";
import type {
  ActivityData,
  ClientData,
  ManualSampleData,
  ManualTimestampData,
  NtpData2Data,
  RtcData,
  SelectData,
  ServerStats3Data,
  ServerStats4Data,
  SourceData,
  SourceStatsData,
  TrackingData,
} from "./replies.ts";
import { type IpAddr, IPADDR_ID, ipv4FromNumber, parseIpAddr, unspecAddr } from "./ip_addr.ts";
import { refIdFromAscii } from "../ntp/packet.ts";

/** A tempus address string as an IPAddr (unspecified when not an IP literal). */
export function addressToIp(address: string | null): IpAddr {
  if (address === null) return unspecAddr();
  return parseIpAddr(address) ?? unspecAddr();
}

function seconds32(value: number | null): number {
  if (value === null || !Number.isFinite(value) || value < 0 || value >= 0xffffffff) {
    return 0xffffffff;
  }
  return Math.min(0xfffffffe, Math.round(value));
}

/** RPY_Tracking. */
export function trackingToWire(r: TrackingReport): TrackingData {
  return {
    refId: r.refId >>> 0,
    ipAddr: addressToIp(r.refAddress),
    stratum: r.stratum,
    leapStatus: r.leapStatus,
    refTime: r.refTime,
    currentCorrection: r.systemTimeOffset,
    lastOffset: -r.lastOffset,
    rmsOffset: r.rmsOffset,
    freqPpm: -r.freqPpm,
    residFreqPpm: -r.residualFreqPpm,
    skewPpm: r.skewPpm,
    rootDelay: r.rootDelay,
    rootDispersion: r.rootDispersion,
    lastUpdateInterval: r.lastUpdateInterval,
  };
}

const STATE_CODES: Record<SourceReport["state"], number> = {
  selected: 0,
  nonselectable: 1,
  falseticker: 2,
  jittery: 3,
  unselected: 4,
  selectable: 5,
};
const MODE_CODES: Record<SourceReport["mode"], number> = { client: 0, peer: 1, refclock: 2 };

/** RPY_Source_Data. Refclocks carry their refid in the IPv4 field, as chrony does. */
export function sourceToWire(r: SourceReport): SourceData {
  let ipAddr: IpAddr;
  if (r.mode === "refclock") {
    ipAddr = ipv4FromNumber(refIdFromAscii(r.address));
  } else {
    const parsed = parseIpAddr(r.address);
    if (parsed !== null) {
      ipAddr = parsed;
    } else {
      ipAddr = ipv4FromNumber(r.id);
      ipAddr.family = IPADDR_ID;
    }
  }
  return {
    ipAddr,
    poll: r.poll,
    stratum: r.stratum,
    state: STATE_CODES[r.state] ?? 1,
    mode: MODE_CODES[r.mode] ?? 0,
    flags: 0,
    reachability: r.reachability & 0xff,
    sinceSample: seconds32(r.sinceSample),
    origLatestMeas: -r.origLatestOffset,
    latestMeas: -r.latestOffset,
    latestMeasErr: r.latestError,
  };
}

/** RPY_Sourcestats. Non-IP sources (refclocks) go out as UNSPEC with their refid. */
export function sourceStatsToWire(r: SourceStatsReport): SourceStatsData {
  const ip = parseIpAddr(r.address);
  return {
    refId: ip === null && r.refId === 0 ? refIdFromAscii(r.address) : r.refId >>> 0,
    ipAddr: ip ?? unspecAddr(),
    nSamples: r.samples,
    nRuns: r.runs,
    spanSeconds: seconds32(r.spanSeconds),
    sd: r.stdDev,
    residFreqPpm: -r.residualFreqPpm,
    skewPpm: r.skewPpm,
    estOffset: -r.estimatedOffset,
    estOffsetErr: r.estimatedOffsetError,
  };
}

/** RPY_SelectData. The offset interval flips with the sign. */
export function selectDataToWire(r: SelectDataReport): SelectData {
  const ip = parseIpAddr(r.address);
  return {
    refId: ip === null && r.refId === 0 ? refIdFromAscii(r.address) : r.refId >>> 0,
    ipAddr: ip ?? unspecAddr(),
    stateChar: r.stateChar.length > 0 ? r.stateChar.charCodeAt(0) & 0xff : 0x3f,
    authentication: r.authenticated ? 1 : 0,
    leap: r.leap,
    pad: 0,
    confOptions: r.configuredOptions,
    effOptions: r.effectiveOptions,
    lastSampleAgo: seconds32(r.lastSampleAgo),
    score: r.score,
    loLimit: -r.highLimit,
    hiLimit: -r.lowLimit,
  };
}

/** RPY_Activity. */
export function activityToWire(r: ActivityReport): ActivityData {
  return {
    online: r.online,
    offline: r.offline,
    burstOnline: r.burstOnline,
    burstOffline: r.burstOffline,
    unresolved: r.unresolved,
  };
}

/** RPY_ServerStats3 (chrony 4.3 clients): the first 11 counters, 32 bits each. */
export function serverStats3ToWire(r: ServerStatsReport): ServerStats3Data {
  return {
    ntpHits: r.ntpHits,
    nkeHits: r.ntsKeHits,
    cmdHits: r.cmdHits,
    ntpDrops: r.ntpDrops,
    nkeDrops: r.ntsKeDrops,
    cmdDrops: r.cmdDrops,
    logDrops: r.logDrops,
    ntpAuthHits: r.ntpAuthHits,
    ntpInterleavedHits: r.ntpInterleavedHits,
    ntpTimestamps: r.ntpTimestamps,
    ntpSpanSeconds: r.ntpSpanSeconds,
  };
}

/** RPY_ServerStats4: every counter, 64 bits each. */
export function serverStats4ToWire(r: ServerStatsReport): ServerStats4Data {
  const counters: Record<keyof ServerStats4Data, number> = {
    ...serverStats3ToWire(r),
    ntpDaemonRxTimestamps: r.ntpDaemonRxTimestamps,
    ntpDaemonTxTimestamps: r.ntpDaemonTxTimestamps,
    ntpKernelRxTimestamps: r.ntpKernelRxTimestamps,
    ntpKernelTxTimestamps: r.ntpKernelTxTimestamps,
    ntpHwRxTimestamps: r.ntpHwRxTimestamps,
    ntpHwTxTimestamps: r.ntpHwTxTimestamps,
  };
  const big = (n: number) => BigInt(Math.trunc(Number.isFinite(n) ? n : 0));
  return Object.fromEntries(
    Object.entries(counters).map(([k, v]) => [k, big(v)]),
  ) as ServerStats4Data;
}

/**
 * Test bits as chrony sends them: test 1 in bit 9 down to test D in bit 0 (tempus keeps
 * test 1 in bit 0, see core TestBit), so the 10 bits are reversed.
 */
export function testBitsToWire(tests: number): number {
  let out = 0;
  for (let i = 0; i < 10; i++) if (tests & (1 << i)) out |= 1 << (9 - i);
  return out;
}

/** RPY_NTPData / RPY_NTPData2. */
export function ntpDataToWire(r: NtpDataReport): NtpData2Data {
  return {
    remoteAddr: addressToIp(r.remoteAddress),
    localAddr: addressToIp(r.localAddress),
    remotePort: r.remotePort,
    leap: r.leap,
    version: r.version,
    mode: r.mode,
    stratum: r.stratum,
    poll: r.poll,
    precision: r.precision,
    rootDelay: r.rootDelay,
    rootDispersion: r.rootDispersion,
    refId: r.refId >>> 0,
    refTime: r.refTime,
    offset: r.offset,
    peerDelay: r.peerDelay,
    peerDispersion: r.peerDispersion,
    responseTime: r.responseTime,
    jitterAsymmetry: r.jitterAsymmetry,
    flags: testBitsToWire(r.tests & 0x3ff) | (r.interleaved ? 0x4000 : 0) |
      (r.authenticated ? 0x8000 : 0),
    txTssChar: r.txKernel === true ? 0x4b : 0x44, // 'K' kernel, 'D' daemon timestamp
    rxTssChar: r.rxKernel === true ? 0x4b : 0x44,
    totalTxCount: r.totalTx,
    totalRxCount: r.totalRx,
    totalValidCount: r.totalValidRx,
    totalGoodCount: r.totalGoodRx,
    // Hardware timestamps: tempus takes kernel and daemon timestamps only.
    totalKernelTxTs: r.totalKernelTx ?? 0,
    totalKernelRxTs: r.totalKernelRx ?? 0,
    totalHwTxTs: 0,
    totalHwRxTs: 0,
  };
}

/** One RPY_ClientAccesses_Client. */
export function clientToWire(r: ClientAccessReport): ClientData {
  return {
    ip: addressToIp(r.address),
    ntpHits: r.ntpHits,
    nkeHits: 0,
    cmdHits: r.cmdHits,
    ntpDrops: r.ntpDrops,
    nkeDrops: 0,
    cmdDrops: r.cmdDrops,
    ntpInterval: r.ntpInterval,
    nkeInterval: 127,
    cmdInterval: r.cmdInterval,
    ntpTimeoutInterval: 127,
    lastNtpHitAgo: seconds32(r.lastNtpHitAgo),
    lastNkeHitAgo: 0xffffffff,
    lastCmdHitAgo: seconds32(r.lastCmdHitAgo),
  };
}

/** One RPY_ManualListSample. */
export function manualSampleToWire(r: ManualSampleReport): ManualSampleData {
  return {
    when: r.when,
    slewedOffset: -r.slewedOffset,
    origOffset: -r.origOffset,
    residual: -r.residual,
  };
}

/** RPY_ManualTimestamp2 ("Clock was X seconds fast"). */
export function manualTimestampToWire(r: ManualTimestampReport): ManualTimestampData {
  return { offset: -r.offset, dfreqPpm: -r.dfreqPpm, newAfreqPpm: -r.newFreqPpm };
}

/** RPY_Rtc. */
export function rtcToWire(r: RtcReport): RtcData {
  return {
    refTime: r.refTime,
    nSamples: r.samples,
    nRuns: r.runs,
    spanSeconds: seconds32(r.spanSeconds),
    rtcSecondsFast: r.rtcSecondsFast,
    rtcGainRatePpm: r.rtcGainRatePpm,
  };
}
