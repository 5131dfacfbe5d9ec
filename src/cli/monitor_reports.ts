/**
 * The daemon-wide monitoring commands, printed exactly as chronyc 4.x prints them (text
 * layout, -c CSV): tracking, activity, serverstats, clients, manual list, rtcdata, smoothing,
 * sourcename, waitsync. The per-source tables are in monitor_sources.ts.
 *
 * @module
 */
import { REQ, RPY } from "../cmdmon/constants.ts";
import { IPADDR_UNSPEC } from "../cmdmon/ip_addr.ts";
import type { ServerStats3Data, ServerStats4Data } from "../cmdmon/replies.ts";
import { formatLogDate, printReport, type ReportArg } from "./format_report.ts";
import { ask, formatName, header, jsonFields, type MonitorContext } from "./monitor_context.ts";
import { parseAddress } from "./monitor_names.ts";

function report(ctx: MonitorContext, format: string, args: ReportArg[]): void {
  ctx.write(printReport(format, args, ctx.flags.csv));
}

/** `tracking`. */
export async function tracking(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.TRACKING);
  if (reply === null) return false;
  const d = reply.data;
  const ip = d.ipAddr;
  const name = await formatName(ctx, ip, {
    ref: ip.family === IPADDR_UNSPEC,
    refId: d.refId,
    trunc: 0,
  });
  ctx.json({ ...jsonFields(d), name });
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
      d.refId,
      name,
      d.stratum,
      d.refTime,
      d.currentCorrection,
      d.lastOffset,
      d.rmsOffset,
      d.freqPpm,
      d.residFreqPpm,
      d.skewPpm,
      d.rootDelay,
      d.rootDispersion,
      d.lastUpdateInterval,
      d.leapStatus,
    ],
  );
  return true;
}

/** `activity`. */
export async function activity(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.ACTIVITY, {}, !ctx.flags.csv);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonFields(d));
  report(
    ctx,
    "%d sources online\n%d sources offline\n%d sources doing burst (return to online)\n" +
      "%d sources doing burst (return to offline)\n%d sources with unknown address\n",
    [d.online, d.offline, d.burstOnline, d.burstOffline, d.unresolved],
  );
  return true;
}

/** serverstats lines of chrony 4.3's reply (SERVER_STATS3). */
const STATS3_LINES: ReadonlyArray<readonly [string, keyof ServerStats3Data]> = [
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
];

/** serverstats lines of the newer reply (SERVER_STATS4). */
const STATS4_LINES: ReadonlyArray<readonly [string, keyof ServerStats4Data]> = [
  ...STATS3_LINES,
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
  ctx.json(jsonFields(reply.data));
  const [lines, spec] = reply.reply === RPY.SERVER_STATS4
    ? [STATS4_LINES, "%Q"]
    : [STATS3_LINES, "%U"];
  const data: Readonly<Record<string, ReportArg>> = reply.data; // the fields `lines` name
  const format = lines.map(([label]) => `${label}${spec}\n`).join("");
  report(ctx, format, lines.map(([, name]) => data[name]));
  return true;
}

/** Entries of one CLIENT_ACCESSES_BY_INDEX3 reply. */
const CLIENTS_PER_REPLY = 8;

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
      nClients: CLIENTS_PER_REPLY,
      minHits: opts.minHits,
      reset: opts.reset ? 1 : 0,
    });
    if (reply === null) return false;
    const d = reply.data;
    const count = Math.min(d.nClients, CLIENTS_PER_REPLY);
    for (const c of d.clients.slice(0, count)) {
      const ip = c.ip;
      if (ip.family === IPADDR_UNSPEC) continue;
      const name = await formatName(ctx, ip, { ref: false, refId: 0, trunc: 25 });
      rows.push({ ...jsonFields(c), name });
      report(ctx, "%-25s  %6U  %5U  %C  %C  %I  %6U  %5U  %C  %I\n", [
        name,
        c.ntpHits,
        c.ntpDrops,
        c.ntpInterval,
        c.ntpTimeoutInterval,
        c.lastNtpHitAgo,
        opts.nke ? c.nkeHits : c.cmdHits,
        opts.nke ? c.nkeDrops : c.cmdDrops,
        opts.nke ? c.nkeInterval : c.cmdInterval,
        opts.nke ? c.lastNkeHitAgo : c.lastCmdHitAgo,
      ]);
    }
    next = d.nextIndex;
    if (next >= d.nIndices || count < CLIENTS_PER_REPLY) break;
  }
  ctx.json(rows);
  return true;
}

/** Samples of one MANUAL_LIST2 reply. */
const MANUAL_SAMPLES_PER_REPLY = 16;

/** `manual list`. */
export async function manualList(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.MANUAL_LIST);
  if (reply === null) return false;
  const n = Math.min(reply.data.nSamples, MANUAL_SAMPLES_PER_REPLY);
  if (!ctx.flags.csv) ctx.write(`210 n_samples = ${n}\n`);
  header(ctx, "#    Date     Time(UTC)    Slewed   Original   Residual");
  const samples = reply.data.samples.slice(0, n);
  samples.forEach((s, i) => {
    report(ctx, "%2d %s %10.2f %10.2f %10.2f\n", [
      i,
      formatLogDate(s.when),
      s.slewedOffset,
      s.origOffset,
      s.residual,
    ]);
  });
  ctx.json(samples.map(jsonFields));
  return true;
}

/** `rtcdata`. */
export async function rtcdata(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.RTCREPORT);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonFields(d));
  report(
    ctx,
    "RTC ref time (UTC) : %T\nNumber of samples  : %u\nNumber of runs     : %u\n" +
      "Sample span period : %I\nRTC is fast by     : %12.6f seconds\n" +
      "RTC gains time at  : %9.3f ppm\n",
    [d.refTime, d.nSamples, d.nRuns, d.spanSeconds, d.rtcSecondsFast, d.rtcGainRatePpm],
  );
  return true;
}

/** `smoothing`. */
export async function smoothing(ctx: MonitorContext): Promise<boolean> {
  const reply = await ask(ctx, REQ.SMOOTHING);
  if (reply === null) return false;
  const d = reply.data;
  ctx.json(jsonFields(d));
  report(
    ctx,
    "Active         : %B %s\nOffset         : %+.9f seconds\nFrequency      : %+.6f ppm\n" +
      "Wander         : %+.6f ppm per second\nLast update    : %.1f seconds ago\n" +
      "Remaining time : %.1f seconds\n",
    [
      d.flags & 1,
      d.flags & 2 ? "(leap second only)" : "",
      d.offset,
      d.freqPpm,
      d.wanderPpm,
      d.lastUpdateAgo,
      d.remainingTime,
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
  const name = reply.data.name;
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
    const reply = await ask(ctx, REQ.TRACKING);
    if (reply !== null) {
      const d = reply.data;
      const refId = d.refId;
      const correction = Math.abs(d.currentCorrection);
      const skew = d.skewPpm;
      report(ctx, "try: %d, refid: %R, correction: %.9f, skew: %.3f\n", [
        i,
        refId,
        correction,
        skew,
      ]);
      ctx.json({ try: i, refId, correction, skew });
      if (
        (d.ipAddr.family !== IPADDR_UNSPEC || (refId !== 0 && refId !== 0x7f7f0101)) &&
        (maxCorrection === 0 || correction <= maxCorrection) &&
        (maxSkew === 0 || skew <= maxSkew)
      ) return true;
    }
    if (maxTries !== 0 && i >= maxTries) return false;
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
}
