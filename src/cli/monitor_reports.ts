/**
 * The read-only monitoring commands, printed exactly as chronyc 4.x prints them (text
 * layout, -v legends, -c CSV): tracking, sources, sourcestats, selectdata, activity,
 * ntpdata, serverstats, clients, manual list, rtcdata, smoothing, authdata, sourcename,
 * waitsync.
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
  parseIpAddr,
  refIdToString,
} from "../cmdmon/ip_addr.ts";
import type { Struct } from "../cmdmon/layout.ts";
import { formatLogDate, printReport, type ReportArg } from "./format_report.ts";
import { ask, formatName, header, type MonitorContext } from "./monitor_context.ts";
import { resolveHost } from "./monitor_names.ts";

function report(ctx: MonitorContext, format: string, args: ReportArg[]): void {
  ctx.write(printReport(format, args, ctx.flags.csv));
}

function num(s: Struct, name: string): number {
  return s[name] as number;
}

function ipOf(s: Struct, name: string): IpAddr {
  return s[name] as IpAddr;
}

/** A JSON-friendly copy of a decoded struct (addresses as text, bigints as strings). */
export function jsonStruct(s: Struct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === "bigint") out[k] = v.toString();
    else if (v && typeof v === "object" && "family" in v) out[k] = formatIpAddr(v as IpAddr);
    else if (Array.isArray(v)) out[k] = v.map((x) => jsonStruct(x as Struct));
    else out[k] = v;
  }
  return out;
}

/** Parses an address argument: IP literal or resolvable name. */
export async function parseAddress(text: string): Promise<IpAddr | null> {
  const direct = parseIpAddr(text);
  if (direct !== null) return direct;
  const resolved = await resolveHost(text);
  return resolved.length > 0 ? parseIpAddr(resolved[0]) : null;
}

/** `tracking`. */
export async function tracking(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.TRACKING);
  if (reply === null) return false;
  const d = reply.data;
  const ip = ipOf(d, "ipAddr");
  const name = await formatName(ctx, ip, {
    ref: ip.family === IPADDR_UNSPEC,
    refId: num(d, "refId"),
    trunc: 0,
  });
  ctx.json({ ...jsonStruct(d), name });
  report(
    ctx,
    "Reference ID    : %R (%s)\n" +
      "Stratum         : %u\n" +
      "Ref time (UTC)  : %T\n" +
      "System time     : %.9O of NTP time\n" +
      "Last offset     : %+.9f seconds\n" +
      "RMS offset      : %.9f seconds\n" +
      "Frequency       : %.3F\n" +
      "Residual freq   : %+.3f ppm\n" +
      "Skew            : %.3f ppm\n" +
      "Root delay      : %.9f seconds\n" +
      "Root dispersion : %.9f seconds\n" +
      "Update interval : %.1f seconds\n" +
      "Leap status     : %L\n",
    [
      num(d, "refId"),
      name,
      num(d, "stratum"),
      d.refTime as bigint,
      num(d, "currentCorrection"),
      num(d, "lastOffset"),
      num(d, "rmsOffset"),
      num(d, "freqPpm"),
      num(d, "residFreqPpm"),
      num(d, "skewPpm"),
      num(d, "rootDelay"),
      num(d, "rootDispersion"),
      num(d, "lastUpdateInterval"),
      num(d, "leapStatus"),
    ],
  );
  return true;
}

async function sourceCount(ctx: MonitorContext): Promise<number | null> {
  const reply = await ask(ctx, REQ.N_SOURCES);
  return reply === null ? null : num(reply.data, "nSources");
}

/**
 * Asks `request` for each of the `n` source indices and hands every reply's data and address
 * to `visit`; sources known only by a reference ID are skipped unless -a. False when the
 * daemon stopped answering.
 */
async function forEachSource(
  ctx: MonitorContext,
  n: number,
  request: number,
  visit: (d: Struct, ip: IpAddr) => Promise<void> | void,
): Promise<boolean> {
  for (let i = 0; i < n; i++) {
    const reply = await ask(ctx, request, { index: i });
    if (reply === null) return false;
    const ip = ipOf(reply.data, "ipAddr");
    if (!ctx.flags.all && ip.family === IPADDR_ID) continue;
    await visit(reply.data, ip);
  }
  return true;
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
export async function sources(ctx: MonitorContext): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  if (ctx.flags.verbose && !ctx.flags.csv) ctx.write(SOURCES_LEGEND.join("\n") + "\n");
  header(ctx, "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ");
  const rows: unknown[] = [];
  const ok = await forEachSource(ctx, n, REQ.SOURCE_DATA, async (d, ip) => {
    const mode = num(d, "mode");
    const ref = mode === 2 && ip.family === IPADDR_INET4;
    const name = await formatName(ctx, ip, { ref, refId: ref ? ipToRefId(ip) : 0, trunc: 25 });
    const modeCh = ["^", "=", "#"][mode] ?? " ";
    const stateCh = ["*", "?", "x", "~", "+", "-"][num(d, "state")] ?? " ";
    rows.push({ ...jsonStruct(d), name, modeChar: modeCh, stateChar: stateCh });
    report(ctx, "%c%c %-27s  %2d  %2d   %3o  %I  %+S[%+S] +/- %S\n", [
      modeCh,
      stateCh,
      name,
      num(d, "stratum"),
      num(d, "poll"),
      num(d, "reachability"),
      num(d, "sinceSample"),
      num(d, "latestMeas"),
      num(d, "origLatestMeas"),
      num(d, "latestMeasErr"),
    ]);
  });
  if (!ok) return false;
  ctx.json(rows);
  return true;
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
export async function sourcestats(ctx: MonitorContext): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  if (ctx.flags.verbose && !ctx.flags.csv) ctx.write(SOURCESTATS_LEGEND.join("\n") + "\n");
  header(ctx, "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev");
  const rows: unknown[] = [];
  const ok = await forEachSource(ctx, n, REQ.SOURCESTATS, async (d, ip) => {
    const name = await formatName(ctx, ip, {
      ref: ip.family === IPADDR_UNSPEC,
      refId: num(d, "refId"),
      trunc: 25,
    });
    rows.push({ ...jsonStruct(d), name });
    report(ctx, "%-25s %3U %3U  %I %+P %P  %+S  %S\n", [
      name,
      num(d, "nSamples"),
      num(d, "nRuns"),
      num(d, "spanSeconds"),
      num(d, "residFreqPpm"),
      num(d, "skewPpm"),
      num(d, "estOffset"),
      num(d, "sd"),
    ]);
  });
  if (!ok) return false;
  ctx.json(rows);
  return true;
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

function options(bits: number): string[] {
  return [
    bits & 1 ? "N" : "-",
    bits & 2 ? "P" : "-",
    bits & 4 ? "T" : "-",
    bits & 8 ? "R" : "-",
    "-",
  ];
}

/** `selectdata [-a] [-v]`. */
export async function selectdata(ctx: MonitorContext): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  if (ctx.flags.verbose && !ctx.flags.csv) ctx.write(SELECTDATA_LEGEND.join("\n") + "\n");
  header(ctx, "S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap");
  const rows: unknown[] = [];
  const ok = await forEachSource(ctx, n, REQ.SELECT_DATA, async (d, ip) => {
    const name = await formatName(ctx, ip, {
      ref: ip.family === IPADDR_UNSPEC,
      refId: num(d, "refId"),
      trunc: 25,
    });
    const state = String.fromCharCode(num(d, "stateChar"));
    rows.push({ ...jsonStruct(d), name, stateChar: state });
    report(ctx, "%c %-25s %c %c%c%c%c%c %c%c%c%c%c %I %5.1f %+S %+S  %1L\n", [
      state,
      name,
      num(d, "authentication") ? "Y" : "N",
      ...options(num(d, "confOptions")),
      ...options(num(d, "effOptions")),
      num(d, "lastSampleAgo"),
      num(d, "score"),
      num(d, "loLimit"),
      num(d, "hiLimit"),
      num(d, "leap"),
    ]);
  });
  if (!ok) return false;
  ctx.json(rows);
  return true;
}

/** `activity`. */
export async function activity(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.ACTIVITY, {}, !ctx.flags.csv);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonStruct(d));
  report(
    ctx,
    "%d sources online\n%d sources offline\n%d sources doing burst (return to online)\n" +
      "%d sources doing burst (return to offline)\n%d sources with unknown address\n",
    [
      num(d, "online"),
      num(d, "offline"),
      num(d, "burstOnline"),
      num(d, "burstOffline"),
      num(d, "unresolved"),
    ],
  );
  return true;
}

function log2ToDouble(l: number): number {
  return Math.pow(2, Math.max(-30, Math.min(30, l)));
}

/** `ntpdata [ADDRESS]`. */
export async function ntpdata(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const specified = args.length > 0;
  const targets: IpAddr[] = [];
  if (specified) {
    const addr = await parseAddress(args[0]);
    if (addr === null) {
      console.error("Could not get address for hostname");
      return false;
    }
    targets.push(addr);
  } else {
    const n = await sourceCount(ctx);
    if (n === null) return false;
    for (let i = 0; i < n; i++) {
      const reply = await ask(ctx, REQ.SOURCE_DATA, { index: i });
      if (reply === null) return false;
      const mode = num(reply.data, "mode");
      const ip = ipOf(reply.data, "ipAddr");
      if (mode !== 0 && mode !== 1) continue;
      if (ip.family !== IPADDR_INET4 && ip.family !== IPADDR_INET6) continue;
      targets.push(ip);
    }
  }
  const rows: unknown[] = [];
  for (const target of targets) {
    const reply = await ask(ctx, REQ.NTP_DATA, { ip: target });
    if (reply === null) return false;
    const d = reply.data;
    if (!specified && !ctx.flags.csv) ctx.write("\n");
    rows.push(jsonStruct(d));
    const remote = ipOf(d, "remoteAddr");
    const local = ipOf(d, "localAddr");
    const flags = num(d, "flags");
    const extended = reply.header.reply === RPY.NTP_DATA2;
    const format = "Remote address  : %s (%R)\n" +
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
      "Total good RX   : %U\n" +
      (extended
        ? "Total kernel TX : %U\nTotal kernel RX : %U\nTotal HW TX     : %U\nTotal HW RX     : %U\n"
        : "");
    const args: ReportArg[] = [
      formatIpAddr(remote),
      ipToRefId(remote),
      num(d, "remotePort"),
      formatIpAddr(local),
      ipToRefId(local),
      num(d, "leap"),
      num(d, "version"),
      num(d, "mode"),
      num(d, "stratum"),
      num(d, "poll"),
      log2ToDouble(num(d, "poll")),
      num(d, "precision"),
      log2ToDouble(num(d, "precision")),
      num(d, "rootDelay"),
      num(d, "rootDispersion"),
      num(d, "refId"),
      num(d, "stratum") <= 1 ? refIdToString(num(d, "refId")) : "",
      d.refTime as bigint,
      num(d, "offset"),
      num(d, "peerDelay"),
      num(d, "peerDispersion"),
      num(d, "responseTime"),
      num(d, "jitterAsymmetry"),
      flags >> 7,
      flags >> 4,
      flags,
      flags & 0x4000,
      flags & 0x8000,
      num(d, "txTssChar"),
      num(d, "rxTssChar"),
      num(d, "totalTxCount"),
      num(d, "totalRxCount"),
      num(d, "totalValidCount"),
      num(d, "totalGoodCount"),
    ];
    if (extended) {
      args.push(
        num(d, "totalKernelTxTs"),
        num(d, "totalKernelRxTs"),
        num(d, "totalHwTxTs"),
        num(d, "totalHwRxTs"),
      );
    }
    report(ctx, format, args);
  }
  ctx.json(specified ? rows[0] ?? null : rows);
  return true;
}

const STATS_LINES: Array<[string, string]> = [
  ["NTP packets received       : ", "ntpHits"],
  ["NTP packets dropped        : ", "ntpDrops"],
  ["Command packets received   : ", "cmdHits"],
  ["Command packets dropped    : ", "cmdDrops"],
  ["Client log records dropped : ", "logDrops"],
  ["NTS-KE connections accepted: ", "nkeHits"],
  ["NTS-KE connections dropped : ", "nkeDrops"],
  ["Authenticated NTP packets  : ", "ntpAuthHits"],
  ["Interleaved NTP packets    : ", "ntpInterleavedHits"],
  ["NTP timestamps held        : ", "ntpTimestamps"],
  ["NTP timestamp span         : ", "ntpSpanSeconds"],
  ["NTP daemon RX timestamps   : ", "ntpDaemonRxTimestamps"],
  ["NTP daemon TX timestamps   : ", "ntpDaemonTxTimestamps"],
  ["NTP kernel RX timestamps   : ", "ntpKernelRxTimestamps"],
  ["NTP kernel TX timestamps   : ", "ntpKernelTxTimestamps"],
  ["NTP hardware RX timestamps : ", "ntpHwRxTimestamps"],
  ["NTP hardware TX timestamps : ", "ntpHwTxTimestamps"],
];

/** `serverstats` (11 lines from chrony 4.3 daemons, 17 from newer ones and tempus). */
export async function serverstats(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.SERVER_STATS);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonStruct(d));
  const lines = reply.header.reply === RPY.SERVER_STATS4 ? STATS_LINES : STATS_LINES.slice(0, 11);
  const spec = reply.header.reply === RPY.SERVER_STATS4 ? "%Q" : "%U";
  report(
    ctx,
    lines.map(([label]) => `${label}${spec}\n`).join(""),
    lines.map(([, name]) => d[name] as number | bigint),
  );
  return true;
}

/** `clients [-p MIN] [-k] [-r]`. */
export async function clients(
  ctx: MonitorContext,
  opts: { minHits: number; nke: boolean; reset: boolean },
): Promise<boolean> {
  header(
    ctx,
    `Hostname                      NTP   Drop Int IntL Last  ${
      (opts.nke ? "NTS-KE" : "Cmd").padStart(6)
    }   Drop Int  Last`,
  );
  const rows: unknown[] = [];
  let next = 0;
  while (true) {
    const reply = await ask(ctx, REQ.CLIENT_ACCESSES_BY_INDEX3, {
      firstIndex: next,
      nClients: 8,
      minHits: opts.minHits,
      reset: opts.reset ? 1 : 0,
    });
    if (reply === null) return false;
    const d = reply.data;
    const count = Math.min(num(d, "nClients"), 8);
    const list = d.clients as Struct[];
    for (let i = 0; i < count; i++) {
      const c = list[i];
      const ip = ipOf(c, "ip");
      if (ip.family === IPADDR_UNSPEC) continue;
      const name = await formatName(ctx, ip, { ref: false, refId: 0, trunc: 25 });
      rows.push({ ...jsonStruct(c), name });
      report(ctx, "%-25s  %6U  %5U  %C  %C  %I  %6U  %5U  %C  %I\n", [
        name,
        num(c, "ntpHits"),
        num(c, "ntpDrops"),
        num(c, "ntpInterval"),
        num(c, "ntpTimeoutInterval"),
        num(c, "lastNtpHitAgo"),
        num(c, opts.nke ? "nkeHits" : "cmdHits"),
        num(c, opts.nke ? "nkeDrops" : "cmdDrops"),
        num(c, opts.nke ? "nkeInterval" : "cmdInterval"),
        num(c, opts.nke ? "lastNkeHitAgo" : "lastCmdHitAgo"),
      ]);
    }
    next = num(d, "nextIndex");
    if (next >= num(d, "nIndices") || count < 8) break;
  }
  ctx.json(rows);
  return true;
}

/** `manual list`. */
export async function manualList(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.MANUAL_LIST);
  if (reply === null) return false;
  const n = Math.min(num(reply.data, "nSamples"), 16);
  if (!ctx.flags.csv) ctx.write(`210 n_samples = ${n}\n`);
  header(ctx, "#    Date     Time(UTC)    Slewed   Original   Residual");
  const samples = (reply.data.samples as Struct[]).slice(0, n);
  samples.forEach((s, i) => {
    report(ctx, "%2d %s %10.2f %10.2f %10.2f\n", [
      i,
      formatLogDate(s.when as bigint),
      num(s, "slewedOffset"),
      num(s, "origOffset"),
      num(s, "residual"),
    ]);
  });
  ctx.json(samples.map(jsonStruct));
  return true;
}

/** `rtcdata`. */
export async function rtcdata(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.RTCREPORT);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonStruct(d));
  report(
    ctx,
    "RTC ref time (UTC) : %T\nNumber of samples  : %u\nNumber of runs     : %u\n" +
      "Sample span period : %I\nRTC is fast by     : %12.6f seconds\n" +
      "RTC gains time at  : %9.3f ppm\n",
    [
      d.refTime as bigint,
      num(d, "nSamples"),
      num(d, "nRuns"),
      num(d, "spanSeconds"),
      num(d, "rtcSecondsFast"),
      num(d, "rtcGainRatePpm"),
    ],
  );
  return true;
}

/** `smoothing`. */
export async function smoothing(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.SMOOTHING);
  if (reply === null) return false;
  const d = reply.data;
  const flags = num(d, "flags");
  ctx.json(jsonStruct(d));
  report(
    ctx,
    "Active         : %B %s\nOffset         : %+.9f seconds\nFrequency      : %+.6f ppm\n" +
      "Wander         : %+.6f ppm per second\nLast update    : %.1f seconds ago\n" +
      "Remaining time : %.1f seconds\n",
    [
      flags & 1,
      flags & 2 ? "(leap second only)" : "",
      num(d, "offset"),
      num(d, "freqPpm"),
      num(d, "wanderPpm"),
      num(d, "lastUpdateAgo"),
      num(d, "remainingTime"),
    ],
  );
  return true;
}

/** `sourcename ADDRESS`. */
export async function sourcename(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const addr = args.length > 0 ? await parseAddress(args[0]) : null;
  if (addr === null) {
    console.error("Could not read address");
    return false;
  }
  const reply = await ask(ctx, REQ.NTP_SOURCE_NAME, { ip: addr });
  if (reply === null) return false;
  const name = reply.data.name as string;
  if (!/^[\x21-\x7e]+$/.test(name)) return false;
  ctx.json({ name });
  report(ctx, "%s\n", [name]);
  return true;
}

/** `waitsync [max-tries [max-correction [max-skew [interval]]]]` (uses TRACKING only). */
export async function waitsync(ctx: MonitorContext, args: string[]): Promise<boolean> {
  const maxTries = Math.trunc(Number(args[0] ?? 0)) || 0;
  const maxCorrection = Number(args[1] ?? 0) || 0;
  const maxSkew = Number(args[2] ?? 0) || 0;
  let interval = Number(args[3] ?? 10);
  if (!(interval >= 0.1)) interval = 0.1;
  for (let i = 1;; i++) {
    let ok = false;
    const reply = await ask(ctx, REQ.TRACKING);
    if (reply !== null) {
      const d = reply.data;
      const refId = num(d, "refId");
      const correction = Math.abs(num(d, "currentCorrection"));
      const skew = num(d, "skewPpm");
      report(ctx, "try: %d, refid: %R, correction: %.9f, skew: %.3f\n", [
        i,
        refId,
        correction,
        skew,
      ]);
      ctx.json({ try: i, refId, correction, skew });
      const ip = ipOf(d, "ipAddr");
      if (
        (ip.family !== IPADDR_UNSPEC || (refId !== 0 && refId !== 0x7f7f0101)) &&
        (maxCorrection === 0 || correction <= maxCorrection) &&
        (maxSkew === 0 || skew <= maxSkew)
      ) {
        ok = true;
      }
    }
    if (ok) return true;
    if (maxTries !== 0 && i >= maxTries) return false;
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}

/** `authdata [-a] [-v]`. */
export async function authdata(ctx: MonitorContext): Promise<boolean> {
  const n = await sourceCount(ctx);
  if (n === null) return false;
  header(ctx, "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen");
  for (let i = 0; i < n; i++) {
    const src = await ask(ctx, REQ.SOURCE_DATA, { index: i });
    if (src === null) return false;
    const mode = num(src.data, "mode");
    const ip = ipOf(src.data, "ipAddr");
    if (mode !== 0 && mode !== 1) continue;
    if (!ctx.flags.all && ip.family === IPADDR_ID) continue;
    const reply = await ask(ctx, REQ.AUTH_DATA, { ip });
    if (reply === null) return false;
    const d = reply.data;
    const name = await formatName(ctx, ip, { ref: false, refId: 0, trunc: 25 });
    report(ctx, "%-27s %4s %5U %4d %4d %I %4d %4d %4d %4d\n", [
      name,
      ["-", "SK", "NTS"][num(d, "mode")] ?? "?",
      num(d, "keyId"),
      num(d, "keyType"),
      num(d, "keyLength"),
      num(d, "lastKeAgo"),
      num(d, "keAttempts"),
      num(d, "nak"),
      num(d, "cookies"),
      num(d, "cookieLength"),
    ]);
  }
  return true;
}
