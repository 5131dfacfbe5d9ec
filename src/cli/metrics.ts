/**
 * `tempus metrics [-h HOST|SOCKET] [-p PORT]`: asks a daemon (tempus or chronyd) for its
 * reports over chrony's command protocol and prints them once in the Prometheus text format,
 * exactly as the daemon's `metricsport` endpoint serves them (same renderer). The typed
 * replies' chrony signs are turned back into tempus's here (inverse of cmdmon/wire_reports.ts).
 *
 * @module
 */
import { CmdmonClient } from "../cmdmon/client.ts";
import { REQ, STT } from "../cmdmon/constants.ts";
import { formatIpAddr, type IpAddr, IPADDR_INET4, IPADDR_INET6 } from "../cmdmon/ip_addr.ts";
import type {
  LeapStatus,
  NtpDataReport,
  ServerStatsReport,
  SourceReport,
  SourceStatsReport,
  TrackingReport,
} from "../core/reports.ts";
import { type MetricsSnapshot, renderMetrics } from "../io/metrics_text.ts";
import { VERSION } from "../version.ts";
import { daemonAddresses, parseMonitorArgs } from "./monitor.ts";
import { acceptedReplies, type ReplyCodeTo } from "../cmdmon/messages.ts";
import type { Reply } from "../cmdmon/codec.ts";
import { isExpected } from "./monitor_context.ts";
import type {
  NtpDataData,
  ServerStats3Data,
  ServerStats4Data,
  SourceData,
  SourceStatsData,
  TrackingData,
} from "../cmdmon/replies.ts";
import type { RequestCode, RequestData } from "../cmdmon/requests.ts";

const HELP = `Usage: tempus metrics [-h HOST|SOCKET[,...]] [-p PORT]
Prints the daemon's tracking, per-source and server counters once in the Prometheus text
format (what the metricsport endpoint serves). Works against tempus and chronyd.`;

const isIp = (a: IpAddr) => a.family === IPADDR_INET4 || a.family === IPADDR_INET6;

const STATES: SourceReport["state"][] = [
  "selected",
  "nonselectable",
  "falseticker",
  "jittery",
  "unselected",
  "selectable",
];
const MODES: SourceReport["mode"][] = ["client", "peer", "refclock"];

/** RPY_Tracking (chrony signs) to a TrackingReport (tempus signs). */
export function trackingFromWire(d: TrackingData): TrackingReport {
  const leap = d.leapStatus;
  return {
    refId: d.refId,
    refAddress: isIp(d.ipAddr) ? formatIpAddr(d.ipAddr) : null,
    stratum: d.stratum,
    leapStatus: (leap >= 0 && leap <= 3 ? leap : 3) as LeapStatus,
    refTime: d.refTime,
    systemTimeOffset: d.currentCorrection,
    lastOffset: -d.lastOffset,
    rmsOffset: d.rmsOffset,
    freqPpm: -d.freqPpm,
    residualFreqPpm: -d.residFreqPpm,
    skewPpm: d.skewPpm,
    rootDelay: d.rootDelay,
    rootDispersion: d.rootDispersion,
    lastUpdateInterval: d.lastUpdateInterval,
    synchronised: leap !== 3 && d.refId !== 0,
  };
}

/** RPY_Source_Data to a SourceReport (name unknown: null). */
export function sourceFromWire(d: SourceData, id: number): SourceReport {
  return {
    id,
    address: formatIpAddr(d.ipAddr),
    name: null,
    poll: d.poll,
    stratum: d.stratum,
    state: STATES[d.state] ?? "nonselectable",
    mode: MODES[d.mode] ?? "client",
    reachability: d.reachability,
    sinceSample: d.sinceSample >= 0xffffffff ? null : d.sinceSample,
    origLatestOffset: -d.origLatestMeas,
    latestOffset: -d.latestMeas,
    latestError: d.latestMeasErr,
  };
}

/** RPY_Sourcestats to a SourceStatsReport. */
export function sourceStatsFromWire(d: SourceStatsData, id: number): SourceStatsReport {
  return {
    id,
    refId: d.refId,
    address: formatIpAddr(d.ipAddr),
    samples: d.nSamples,
    runs: d.nRuns,
    spanSeconds: d.spanSeconds,
    stdDev: d.sd,
    residualFreqPpm: -d.residFreqPpm,
    skewPpm: d.skewPpm,
    estimatedOffset: -d.estOffset,
    estimatedOffsetError: d.estOffsetErr,
  };
}

/** RPY_NTPData(2) to the parts of an NtpDataReport the metrics show. */
export function ntpDataFromWire(d: NtpDataData): NtpDataReport {
  return {
    remoteAddress: formatIpAddr(d.remoteAddr),
    remotePort: d.remotePort,
    localAddress: formatIpAddr(d.localAddr),
    leap: d.leap,
    version: d.version,
    mode: d.mode,
    stratum: d.stratum,
    poll: d.poll,
    precision: d.precision,
    rootDelay: d.rootDelay,
    rootDispersion: d.rootDispersion,
    refId: d.refId,
    refTime: d.refTime,
    offset: d.offset,
    peerDelay: d.peerDelay,
    peerDispersion: d.peerDispersion,
    responseTime: d.responseTime,
    jitterAsymmetry: d.jitterAsymmetry,
    tests: 0,
    interleaved: (d.flags & 0x4000) !== 0,
    authenticated: (d.flags & 0x8000) !== 0,
    totalTx: d.totalTxCount,
    totalRx: d.totalRxCount,
    totalValidRx: d.totalValidCount,
    totalGoodRx: d.totalGoodCount,
  };
}

/** RPY_ServerStats(3/4) to a ServerStatsReport (the newer reply's counters: 0 in the older). */
export function serverStatsFromWire(d: ServerStats3Data | ServerStats4Data): ServerStatsReport {
  const v4 = (name: keyof ServerStats4Data) => "ntpHwTxTimestamps" in d ? Number(d[name]) : 0;
  return {
    ntpHits: Number(d.ntpHits),
    ntsKeHits: Number(d.nkeHits),
    cmdHits: Number(d.cmdHits),
    ntpDrops: Number(d.ntpDrops),
    ntsKeDrops: Number(d.nkeDrops),
    cmdDrops: Number(d.cmdDrops),
    logDrops: Number(d.logDrops),
    ntpAuthHits: Number(d.ntpAuthHits),
    ntpInterleavedHits: Number(d.ntpInterleavedHits),
    ntpTimestamps: Number(d.ntpTimestamps),
    ntpSpanSeconds: Number(d.ntpSpanSeconds),
    ntpDaemonRxTimestamps: v4("ntpDaemonRxTimestamps"),
    ntpDaemonTxTimestamps: v4("ntpDaemonTxTimestamps"),
    ntpKernelRxTimestamps: v4("ntpKernelRxTimestamps"),
    ntpKernelTxTimestamps: v4("ntpKernelTxTimestamps"),
    ntpHwRxTimestamps: v4("ntpHwRxTimestamps"),
    ntpHwTxTimestamps: v4("ntpHwTxTimestamps"),
  };
}

/** A successful reply to `command` (of a code it accepts), or null. */
async function ask<C extends RequestCode>(
  client: CmdmonClient,
  command: C,
  data: Partial<RequestData<C>> = {},
): Promise<Reply<ReplyCodeTo<C>> | null> {
  const reply = await client.request(command, data);
  if (reply === null || reply.header.status !== STT.SUCCESS) return null;
  return isExpected(reply, acceptedReplies(command)) ? reply : null;
}

/** Collects one snapshot from the daemon; null when it does not answer. */
export async function collectSnapshot(client: CmdmonClient): Promise<MetricsSnapshot | null> {
  const t = (await ask(client, REQ.TRACKING))?.data;
  if (t === undefined) return null;
  const count = (await ask(client, REQ.N_SOURCES))?.data;
  const sources: SourceReport[] = [];
  const sourceStats: SourceStatsReport[] = [];
  const ntpData = new Map<string, NtpDataReport>();
  for (let i = 0; i < (count?.nSources ?? 0); i++) {
    const sd = (await ask(client, REQ.SOURCE_DATA, { index: i }))?.data;
    if (sd === undefined) continue;
    const source = sourceFromWire(sd, i + 1);
    sources.push(source);
    const st = (await ask(client, REQ.SOURCESTATS, { index: i }))?.data;
    if (st !== undefined) {
      sourceStats.push({ ...sourceStatsFromWire(st, i + 1), address: source.address });
    }
    if (isIp(sd.ipAddr)) {
      const nd = (await ask(client, REQ.NTP_DATA, { ip: sd.ipAddr }))?.data;
      if (nd !== undefined) ntpData.set(source.address, ntpDataFromWire(nd));
    }
  }
  const ss = (await ask(client, REQ.SERVER_STATS))?.data;
  return {
    version: VERSION,
    tracking: trackingFromWire(t),
    sources,
    sourceStats,
    ntpData,
    serverStats: ss === undefined ? null : serverStatsFromWire(ss),
  };
}

/** `tempus metrics`. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseMonitorArgs("metrics", args);
  if (typeof parsed === "string") {
    console.error(`tempus metrics: ${parsed}`);
    return 2;
  }
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  if (parsed.positional.length > 0) {
    console.error(`tempus metrics: unexpected argument '${parsed.positional[0]}'`);
    return 2;
  }
  const client = new CmdmonClient({
    addresses: await daemonAddresses(parsed.hosts, parsed.port, parsed.ipVersion),
    timeoutMs: parsed.timeoutMs,
    retries: parsed.retries,
  });
  try {
    const snapshot = await collectSnapshot(client);
    if (snapshot === null) {
      console.log("506 Cannot talk to daemon");
      return 1;
    }
    await Deno.stdout.write(new TextEncoder().encode(renderMetrics(snapshot)));
    return 0;
  } finally {
    await client.close();
  }
}
