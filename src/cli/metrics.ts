/**
 * `tempus metrics [-h HOST|SOCKET] [-p PORT]`: asks a daemon (tempus or chronyd) for its
 * reports over chrony's command protocol and prints them once in the Prometheus text format,
 * exactly as the daemon's `metricsport` endpoint serves them (same renderer). The wire's
 * chrony signs are turned back into tempus's here (inverse of cmdmon/wire_reports.ts).
 *
 * @module
 */
import { CmdmonClient } from "../cmdmon/client.ts";
import type { Reply } from "../cmdmon/codec.ts";
import { REQ, RPY, STT } from "../cmdmon/constants.ts";
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

const HELP = `Usage: tempus metrics [-h HOST|SOCKET[,...]] [-p PORT]
Prints the daemon's tracking, per-source and server counters once in the Prometheus text
format (what the metricsport endpoint serves). Works against tempus and chronyd.`;

/** A decoded reply's fields, read by name (the layouts are in cmdmon/replies.ts). */
export type Struct = Readonly<Record<string, unknown>>;

const n = (s: Struct, k: string): number => Number(s[k] ?? 0);
const ip = (s: Struct, k: string): IpAddr => s[k] as IpAddr;
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
export function trackingFromWire(d: Struct): TrackingReport {
  const addr = ip(d, "ipAddr");
  const leap = n(d, "leapStatus");
  return {
    refId: n(d, "refId"),
    refAddress: isIp(addr) ? formatIpAddr(addr) : null,
    stratum: n(d, "stratum"),
    leapStatus: (leap >= 0 && leap <= 3 ? leap : 3) as LeapStatus,
    refTime: d.refTime as bigint,
    systemTimeOffset: n(d, "currentCorrection"),
    lastOffset: -n(d, "lastOffset"),
    rmsOffset: n(d, "rmsOffset"),
    freqPpm: -n(d, "freqPpm"),
    residualFreqPpm: -n(d, "residFreqPpm"),
    skewPpm: n(d, "skewPpm"),
    rootDelay: n(d, "rootDelay"),
    rootDispersion: n(d, "rootDispersion"),
    lastUpdateInterval: n(d, "lastUpdateInterval"),
    synchronised: leap !== 3 && n(d, "refId") !== 0,
  };
}

/** RPY_Source_Data to a SourceReport (name unknown: null). */
export function sourceFromWire(d: Struct, id: number): SourceReport {
  const since = n(d, "sinceSample");
  return {
    id,
    address: formatIpAddr(ip(d, "ipAddr")),
    name: null,
    poll: n(d, "poll"),
    stratum: n(d, "stratum"),
    state: STATES[n(d, "state")] ?? "nonselectable",
    mode: MODES[n(d, "mode")] ?? "client",
    reachability: n(d, "reachability"),
    sinceSample: since >= 0xffffffff ? null : since,
    origLatestOffset: -n(d, "origLatestMeas"),
    latestOffset: -n(d, "latestMeas"),
    latestError: n(d, "latestMeasErr"),
  };
}

/** RPY_Sourcestats to a SourceStatsReport. */
export function sourceStatsFromWire(d: Struct, id: number): SourceStatsReport {
  return {
    id,
    refId: n(d, "refId"),
    address: formatIpAddr(ip(d, "ipAddr")),
    samples: n(d, "nSamples"),
    runs: n(d, "nRuns"),
    spanSeconds: n(d, "spanSeconds"),
    stdDev: n(d, "sd"),
    residualFreqPpm: -n(d, "residFreqPpm"),
    skewPpm: n(d, "skewPpm"),
    estimatedOffset: -n(d, "estOffset"),
    estimatedOffsetError: n(d, "estOffsetErr"),
  };
}

/** RPY_NTPData(2) to the parts of an NtpDataReport the metrics show. */
export function ntpDataFromWire(d: Struct): NtpDataReport {
  return {
    remoteAddress: formatIpAddr(ip(d, "remoteAddr")),
    remotePort: n(d, "remotePort"),
    localAddress: formatIpAddr(ip(d, "localAddr")),
    leap: n(d, "leap"),
    version: n(d, "version"),
    mode: n(d, "mode"),
    stratum: n(d, "stratum"),
    poll: n(d, "poll"),
    precision: n(d, "precision"),
    rootDelay: n(d, "rootDelay"),
    rootDispersion: n(d, "rootDispersion"),
    refId: n(d, "refId"),
    refTime: (d.refTime as bigint | undefined) ?? 0n,
    offset: n(d, "offset"),
    peerDelay: n(d, "peerDelay"),
    peerDispersion: n(d, "peerDispersion"),
    responseTime: n(d, "responseTime"),
    jitterAsymmetry: n(d, "jitterAsymmetry"),
    tests: 0,
    interleaved: (n(d, "flags") & 0x4000) !== 0,
    authenticated: (n(d, "flags") & 0x8000) !== 0,
    totalTx: n(d, "totalTxCount"),
    totalRx: n(d, "totalRxCount"),
    totalValidRx: n(d, "totalValidCount"),
    totalGoodRx: n(d, "totalGoodCount"),
  };
}

/** RPY_ServerStats(3/4) to a ServerStatsReport. */
export function serverStatsFromWire(d: Struct): ServerStatsReport {
  return {
    ntpHits: n(d, "ntpHits"),
    ntsKeHits: n(d, "nkeHits"),
    cmdHits: n(d, "cmdHits"),
    ntpDrops: n(d, "ntpDrops"),
    ntsKeDrops: n(d, "nkeDrops"),
    cmdDrops: n(d, "cmdDrops"),
    logDrops: n(d, "logDrops"),
    ntpAuthHits: n(d, "ntpAuthHits"),
    ntpInterleavedHits: n(d, "ntpInterleavedHits"),
    ntpTimestamps: n(d, "ntpTimestamps"),
    ntpSpanSeconds: n(d, "ntpSpanSeconds"),
    ntpDaemonRxTimestamps: n(d, "ntpDaemonRxTimestamps"),
    ntpDaemonTxTimestamps: n(d, "ntpDaemonTxTimestamps"),
    ntpKernelRxTimestamps: n(d, "ntpKernelRxTimestamps"),
    ntpKernelTxTimestamps: n(d, "ntpKernelTxTimestamps"),
    ntpHwRxTimestamps: n(d, "ntpHwRxTimestamps"),
    ntpHwTxTimestamps: n(d, "ntpHwTxTimestamps"),
  };
}

function ok(reply: Reply | null, expected: number[]): Struct | null {
  if (reply === null || reply.header.status !== STT.SUCCESS) return null;
  return expected.includes(reply.reply) ? reply.data as unknown as Struct : null;
}

/** Collects one snapshot from the daemon; null when it does not answer. */
export async function collectSnapshot(client: CmdmonClient): Promise<MetricsSnapshot | null> {
  const t = ok(await client.request(REQ.TRACKING), [RPY.TRACKING]);
  if (t === null) return null;
  const count = ok(await client.request(REQ.N_SOURCES), [RPY.N_SOURCES]);
  const sources: SourceReport[] = [];
  const sourceStats: SourceStatsReport[] = [];
  const ntpData = new Map<string, NtpDataReport>();
  for (let i = 0; i < (count === null ? 0 : n(count, "nSources")); i++) {
    const sd = ok(await client.request(REQ.SOURCE_DATA, { index: i }), [RPY.SOURCE_DATA]);
    if (sd === null) continue;
    const source = sourceFromWire(sd, i + 1);
    sources.push(source);
    const st = ok(await client.request(REQ.SOURCESTATS, { index: i }), [RPY.SOURCESTATS]);
    if (st !== null) {
      sourceStats.push({ ...sourceStatsFromWire(st, i + 1), address: source.address });
    }
    if (isIp(ip(sd, "ipAddr"))) {
      const nd = ok(await client.request(REQ.NTP_DATA, { ip: ip(sd, "ipAddr") }), [
        RPY.NTP_DATA,
        RPY.NTP_DATA2,
      ]);
      if (nd !== null) ntpData.set(source.address, ntpDataFromWire(nd));
    }
  }
  const ss = ok(await client.request(REQ.SERVER_STATS), [
    RPY.SERVER_STATS3,
    RPY.SERVER_STATS4,
  ]);
  return {
    version: VERSION,
    tracking: trackingFromWire(t),
    sources,
    sourceStats,
    ntpData,
    serverStats: ss === null ? null : serverStatsFromWire(ss),
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
