/**
 * The per-source monitoring commands, printed exactly as chronyc 4.x prints them (text
 * layout, -v legends, -c CSV): sources, sourcestats, selectdata, ntpdata and authdata. Each
 * walks the daemon's source list by index.
 *
 * @module
 */
import { REQ, RPY } from "../cmdmon/constants.ts";
import {
  formatIpAddr,
  type IpAddr,
  IPADDR_ID,
  IPADDR_INET4,
  IPADDR_INET6,
  IPADDR_UNSPEC,
  ipToRefId,
  refIdToString,
} from "../cmdmon/ip_addr.ts";
import { printReport, type ReportArg } from "./format_report.ts";
import { ask, formatName, header, jsonFields, type MonitorContext } from "./monitor_context.ts";
import { parseAddress } from "./monitor_names.ts";

function report(ctx: MonitorContext, format: string, args: ReportArg[]): void {
  ctx.write(printReport(format, args, ctx.flags.csv));
}

async function sourceCount(ctx: MonitorContext): Promise<number | null> {
  const reply = await ask(ctx, REQ.N_SOURCES);
  return reply === null ? null : reply.data.nSources;
}

/**
 * One table of the source list: the -v legend, the header, then the report of each source
 * index, which `row` prints and returns as its JSON row; sources known only by a reference
 * ID are skipped unless -a. False when the daemon stopped answering.
 */
async function sourceTable<D extends { ipAddr: IpAddr }>(
  ctx: MonitorContext,
  legend: string[],
  title: string,
  fetch: (index: number) => Promise<{ data: D } | null>,
  row: (d: D, ip: IpAddr) => Promise<unknown>,
): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  if (ctx.flags.verbose && !ctx.flags.csv) ctx.write(legend.join("\n") + "\n");
  header(ctx, title);
  const rows: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await fetch(i);
    if (reply === null) return false;
    const ip = reply.data.ipAddr;
    if (!ctx.flags.all && ip.family === IPADDR_ID) continue;
    rows.push(await row(reply.data, ip));
  }
  ctx.json(rows);
  return true;
}

/** The name column of sourcestats and selectdata (a refclock shows its refid). */
function statsName(ctx: MonitorContext, ip: IpAddr, refId: number): Promise<string> {
  return formatName(ctx, ip, { ref: ip.family === IPADDR_UNSPEC, refId, trunc: 25 });
}

const SOURCES_LEGEND = [
  "",
  "  .-- Source mode  '^' = server, '=' = peer, '#' = local clock.",
  " / .- Source state '*' = current best, '+' = combined, '-' = not combined,",
  "| /             'x' = may be in error, '~' = too variable, '?' = unusable.",
  "||                                                 .- xxxx [ yyyy ] +/- zzzz",
  "||      Reachability register (octal) -.           |  xxxx = adjusted offset,",
  "||      Log2(Polling interval) --.      |          |  yyyy = measured offset,",
  "||                                \\     |          |  zzzz = estimated error.",
  "||                                 |    |           \\",
];

/** `sources [-a] [-v]`. */
export function sources(ctx: MonitorContext): Promise<boolean> {
  const title = "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ";
  const fetch = (index: number) => ask(ctx, REQ.SOURCE_DATA, { index });
  return sourceTable(ctx, SOURCES_LEGEND, title, fetch, async (d, ip) => {
    const ref = d.mode === 2 && ip.family === IPADDR_INET4;
    const name = await formatName(ctx, ip, { ref, refId: ref ? ipToRefId(ip) : 0, trunc: 25 });
    const modeCh = ["^", "=", "#"][d.mode] ?? " ";
    const stateCh = ["*", "?", "x", "~", "+", "-"][d.state] ?? " ";
    report(ctx, "%c%c %-27s  %2d  %2d   %3o  %I  %+S[%+S] +/- %S\n", [
      modeCh,
      stateCh,
      name,
      d.stratum,
      d.poll,
      d.reachability,
      d.sinceSample,
      d.latestMeas,
      d.origLatestMeas,
      d.latestMeasErr,
    ]);
    return { ...jsonFields(d), name, modeChar: modeCh, stateChar: stateCh };
  });
}

const SOURCESTATS_LEGEND = [
  "                             .- Number of sample points in measurement set.",
  "                            /    .- Number of residual runs with same sign.",
  "                           |    /    .- Length of measurement set (time).",
  "                           |   |    /      .- Est. clock freq error (ppm).",
  "                           |   |   |      /           .- Est. error in freq.",
  "                           |   |   |     |           /         .- Est. offset.",
  "                           |   |   |     |          |          |   On the -.",
  "                           |   |   |     |          |          |   samples. \\",
  "                           |   |   |     |          |          |             |",
];

/** `sourcestats [-a] [-v]`. */
export function sourcestats(ctx: MonitorContext): Promise<boolean> {
  const title = "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev";
  const fetch = (index: number) => ask(ctx, REQ.SOURCESTATS, { index });
  return sourceTable(ctx, SOURCESTATS_LEGEND, title, fetch, async (d, ip) => {
    const name = await statsName(ctx, ip, d.refId);
    report(ctx, "%-25s %3U %3U  %I %+P %P  %+S  %S\n", [
      name,
      d.nSamples,
      d.nRuns,
      d.spanSeconds,
      d.residFreqPpm,
      d.skewPpm,
      d.estOffset,
      d.sd,
    ]);
    return { ...jsonFields(d), name };
  });
}

const SELECTDATA_LEGEND = [
  "  . State: N - noselect, s - unsynchronised, M - missing samples,",
  " /         d/D - large distance, ~ - jittery, w/W - waits for others,",
  "|          S - stale, O - orphan, T - not trusted, P - not preferred,",
  "|          U - waits for update,, x - falseticker, + - combined, * - best.",
  "|   Effective options   ---------.  (N - noselect, P - prefer",
  "|   Configured options  ----.     \\  T - trust, R - require)",
  "|   Auth. enabled (Y/N) -.   \\     \\     Offset interval --.",
  "|                        |    |     |                       |",
];

/** The five option columns: bits 0..3 as N, P, T and R, then a column chrony leaves "-". */
function options(bits: number): string[] {
  return [..."NPTR"].map((flag, i) => bits & (1 << i) ? flag : "-").concat("-");
}

/** `selectdata [-a] [-v]`. */
export function selectdata(ctx: MonitorContext): Promise<boolean> {
  const title = "S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap";
  const fetch = (index: number) => ask(ctx, REQ.SELECT_DATA, { index });
  return sourceTable(ctx, SELECTDATA_LEGEND, title, fetch, async (d, ip) => {
    const name = await statsName(ctx, ip, d.refId);
    const state = String.fromCharCode(d.stateChar);
    report(ctx, "%c %-25s %c %c%c%c%c%c %c%c%c%c%c %I %5.1f %+S %+S  %1L\n", [
      state,
      name,
      d.authentication ? "Y" : "N",
      ...options(d.confOptions),
      ...options(d.effOptions),
      d.lastSampleAgo,
      d.score,
      d.loLimit,
      d.hiLimit,
      d.leap,
    ]);
    return { ...jsonFields(d), name, stateChar: state };
  });
}

function log2ToDouble(l: number): number {
  return Math.pow(2, Math.max(-30, Math.min(30, l)));
}

/** Addresses of the NTP sources (client or peer mode, with an IP address). */
async function ntpSourceAddresses(ctx: MonitorContext): Promise<IpAddr[] | null> {
  const n = await sourceCount(ctx);
  if (n === null) return null;
  const out: IpAddr[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await ask(ctx, REQ.SOURCE_DATA, { index: i });
    if (reply === null) return null;
    const { mode, ipAddr } = reply.data;
    if (mode !== 0 && mode !== 1) continue;
    if (ipAddr.family !== IPADDR_INET4 && ipAddr.family !== IPADDR_INET6) continue;
    out.push(ipAddr);
  }
  return out;
}

const NTPDATA_FORMAT = "Remote address  : %s (%R)\n" +
  "Remote port     : %u\n" +
  "Local address   : %s (%R)\n" +
  "Leap status     : %L\n" +
  "Version         : %u\n" +
  "Mode            : %M\n" +
  "Stratum         : %u\n" +
  "Poll interval   : %d (%.0f seconds)\n" +
  "Precision       : %d (%.9f seconds)\n" +
  "Root delay      : %.6f seconds\n" +
  "Root dispersion : %.6f seconds\n" +
  "Reference ID    : %R (%s)\n" +
  "Reference time  : %T\n" +
  "Offset          : %+.9f seconds\n" +
  "Peer delay      : %.9f seconds\n" +
  "Peer dispersion : %.9f seconds\n" +
  "Response time   : %.9f seconds\n" +
  "Jitter asymmetry: %+.2f\n" +
  "NTP tests       : %.3b %.3b %.4b\n" +
  "Interleaved     : %B\n" +
  "Authenticated   : %B\n" +
  "TX timestamping : %N\n" +
  "RX timestamping : %N\n" +
  "Total TX        : %U\n" +
  "Total RX        : %U\n" +
  "Total valid RX  : %U\n" +
  "Total good RX   : %U\n";

const NTPDATA2_FORMAT = NTPDATA_FORMAT +
  "Total kernel TX : %U\nTotal kernel RX : %U\nTotal HW TX     : %U\nTotal HW RX     : %U\n";

/** `ntpdata [ADDRESS]`. */
export async function ntpdata(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const specified = args.length > 0;
  let targets: IpAddr[];
  if (specified) {
    const addr = await parseAddress(args[0]);
    if (addr === null) {
      console.error("Could not get address for hostname");
      return false;
    }
    targets = [addr];
  } else {
    const found = await ntpSourceAddresses(ctx);
    if (found === null) return false;
    targets = found;
  }
  const rows: unknown[] = [];
  for (const target of targets) {
    const reply = await ask(ctx, REQ.NTP_DATA, { ip: target });
    if (reply === null) return false;
    const d = reply.data;
    if (!specified && !ctx.flags.csv) ctx.write("\n");
    rows.push(jsonFields(d));
    const flags = d.flags;
    const args: ReportArg[] = [
      formatIpAddr(d.remoteAddr),
      ipToRefId(d.remoteAddr),
      d.remotePort,
      formatIpAddr(d.localAddr),
      ipToRefId(d.localAddr),
      d.leap,
      d.version,
      d.mode,
      d.stratum,
      d.poll,
      log2ToDouble(d.poll),
      d.precision,
      log2ToDouble(d.precision),
      d.rootDelay,
      d.rootDispersion,
      d.refId,
      d.stratum <= 1 ? refIdToString(d.refId) : "",
      d.refTime,
      d.offset,
      d.peerDelay,
      d.peerDispersion,
      d.responseTime,
      d.jitterAsymmetry,
      flags >> 7,
      flags >> 4,
      flags,
      flags & 0x4000,
      flags & 0x8000,
      d.txTssChar,
      d.rxTssChar,
      d.totalTxCount,
      d.totalRxCount,
      d.totalValidCount,
      d.totalGoodCount,
    ];
    if (reply.reply === RPY.NTP_DATA2) {
      const e = reply.data;
      args.push(e.totalKernelTxTs, e.totalKernelRxTs, e.totalHwTxTs, e.totalHwRxTs);
      report(ctx, NTPDATA2_FORMAT, args);
    } else {
      report(ctx, NTPDATA_FORMAT, args);
    }
  }
  ctx.json(specified ? rows[0] ?? null : rows);
  return true;
}

/** `authdata [-a] [-v]`. */
export async function authdata(ctx: MonitorContext): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  header(ctx, "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen");
  for (let i = 0; i < n; i++) {
    const src = await ask(ctx, REQ.SOURCE_DATA, { index: i });
    if (src === null) return false;
    const { mode, ipAddr: ip } = src.data;
    if (mode !== 0 && mode !== 1) continue;
    if (!ctx.flags.all && ip.family === IPADDR_ID) continue;
    const reply = await ask(ctx, REQ.AUTH_DATA, { ip });
    if (reply === null) return false;
    const d = reply.data;
    const name = await formatName(ctx, ip, { ref: false, refId: 0, trunc: 25 });
    report(ctx, "%-27s %4s %5U %4d %4d %I %4d %4d %4d %4d\n", [
      name,
      ["-", "SK", "NTS"][d.mode] ?? "?",
      d.keyId,
      d.keyType,
      d.keyLength,
      d.lastKeAgo,
      d.keAttempts,
      d.nak,
      d.cookies,
      d.cookieLength,
    ]);
  }
  return true;
}
