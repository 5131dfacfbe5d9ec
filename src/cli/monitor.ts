/**
 * `tempus tracking | sources | ... `: chronyc's job over chrony's command protocol, so the
 * same commands work against `tempus daemon` and a real chronyd, with chronyc's output.
 *
 * Options (after the command): `-h HOST|SOCKET[,...]` (default: the Unix socket, then
 * 127.0.0.1, then ::1), `-p PORT` (323; for `clients`, -p is chronyc's minimum-hits option
 * and the port is `--port`), `-c` CSV, `-n` no DNS, `-v` legends, `-a` all sources,
 * `--json`, `-4`/`-6` (IPv4/IPv6 addresses only), `--timeout MS` and `--retries N`
 * (chronyc's timeout/retries). `--json` prints the decoded reply fields as chrony sends
 * them (chrony's signs: freqPpm > 0 = fast, latestMeas > 0 = local clock ahead).
 *
 * @module
 */
import { CmdmonClient, type DaemonAddress, parseHostList } from "../cmdmon/client.ts";
import { DEFAULT_CANDM_PORT } from "../cmdmon/constants.ts";
import { defaultConfig } from "../config/defaults.ts";
import type { MonitorContext, MonitorFlags } from "./monitor_context.ts";
import { runControl } from "./monitor_control.ts";
import { resolveHost } from "./monitor_names.ts";
import * as reports from "./monitor_reports.ts";
import * as perSource from "./monitor_sources.ts";

/** Parsed command line of a monitoring command. */
export interface MonitorArgs {
  /** -h value, or null for the default list. */
  hosts: string | null;
  /** UDP port. */
  port: number;
  /** Output flags. */
  flags: MonitorFlags;
  /** Arguments of the command itself. */
  positional: string[];
  /** clients: -p minimum hits, -k NTS-KE columns, -r reset. */
  clients: { minHits: number; nke: boolean; reset: boolean };
  /** First timeout in ms. */
  timeoutMs: number;
  /** Retries. */
  retries: number;
  /** --help was given. */
  help: boolean;
  /** -4 / -6: only addresses of this IP version (null = both). */
  ipVersion: 4 | 6 | null;
}

/** chronyc's output flags, by option. */
const FLAG_OPTIONS: Readonly<Record<string, keyof MonitorFlags>> = {
  "-c": "csv",
  "-n": "noDns",
  "-v": "verbose",
  "-a": "all",
  "--json": "json",
};

/** Parses the arguments after the command name; returns an error text for bad options. */
export function parseMonitorArgs(command: string, args: string[]): MonitorArgs | string {
  const out: MonitorArgs = {
    hosts: null,
    port: DEFAULT_CANDM_PORT,
    flags: { csv: false, noDns: false, verbose: false, all: false, json: false },
    positional: [],
    clients: { minHits: 0, nke: false, reset: false },
    timeoutMs: 1000,
    retries: 2,
    help: false,
    ipVersion: null,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1] ?? null;
    switch (a) {
      case "-h":
      case "--host":
        if (next === null) return `${a} needs a value`;
        out.hosts = next;
        i++;
        break;
      case "-p":
      case "--port": {
        if (next === null) return `${a} needs a value`;
        const n = Number(next);
        if (!Number.isInteger(n) || n < 0 || n > 65535) return `invalid ${a} value '${next}'`;
        if (a === "-p" && command === "clients") out.clients.minHits = n;
        else out.port = n;
        i++;
        break;
      }
      case "--timeout":
      case "--retries": {
        if (next === null) return `${a} needs a value`;
        const n = Number(next);
        if (!Number.isInteger(n) || n < 0) return `invalid ${a} value '${next}'`;
        if (a === "--timeout") out.timeoutMs = Math.max(1, n);
        else out.retries = n;
        i++;
        break;
      }
      case "-k":
        out.clients.nke = true;
        break;
      case "-r":
        out.clients.reset = true;
        break;
      case "--help":
        out.help = true;
        break;
      case "-4":
        out.ipVersion = 4;
        break;
      case "-6":
        out.ipVersion = 6;
        break;
      case "-m":
        break;
      default:
        if (Object.hasOwn(FLAG_OPTIONS, a)) out.flags[FLAG_OPTIONS[a]] = true;
        else out.positional.push(a);
    }
  }
  if (out.flags.csv) out.flags.verbose = false;
  return out;
}

/** Turns the -h list into daemon addresses, resolving host names (-4/-6 filter them). */
export async function daemonAddresses(
  hosts: string | null,
  port: number,
  ipVersion: 4 | 6 | null = null,
): Promise<DaemonAddress[]> {
  const socket = defaultConfig().cmdSocket;
  const list = hosts ?? [socket, "127.0.0.1", "::1"].filter((h) => h !== null).join(",");
  const out: DaemonAddress[] = [];
  for (const addr of parseHostList(list, port)) {
    if (addr.kind === "unix") {
      out.push(addr);
      continue;
    }
    for (const ip of await resolveHost(addr.hostname)) {
      const v6 = ip.includes(":");
      if ((ipVersion === 4 && v6) || (ipVersion === 6 && !v6)) continue;
      out.push({ kind: "udp", hostname: ip, port });
    }
  }
  return out;
}

const HELP =
  `Usage: tempus <command> [args] [-h HOST|SOCKET[,...]] [-p PORT] [-c] [-n] [-v] [-a] [--json]
Commands (as chronyc): tracking, sources [-v], sourcestats [-v], selectdata [-v], activity,
ntpdata [ADDR], serverstats, clients [-p N] [-k] [-r], sourcename ADDR, rtcdata, smoothing,
authdata, manual on|off|reset|list|delete N, settime TIME, waitsync [TRIES [CORR [SKEW [INT]]]],
makestep [THRESHOLD LIMIT], burst GOOD/MAX [[MASK/]ADDR], online|offline [[MASK/]ADDR],
onoffline, add server|pool|peer NAME [OPTIONS], delete ADDR, allow|deny [all] [SUBNET],
cmdallow|cmddeny [all] [SUBNET], accheck ADDR, cmdaccheck ADDR, local [OPTIONS]|off,
maxupdateskew PPM, reselectdist DIST, reselect, refresh, dump, cyclelogs, trimrtc, writertc,
shutdown`;

/** The report commands, by name. */
const REPORTS: Readonly<Record<string, (ctx: MonitorContext, a: MonitorArgs) => Promise<boolean>>> =
  {
    tracking: (ctx) => reports.tracking(ctx),
    sources: (ctx) => perSource.sources(ctx),
    sourcestats: (ctx) => perSource.sourcestats(ctx),
    selectdata: (ctx) => perSource.selectdata(ctx),
    activity: (ctx) => reports.activity(ctx),
    ntpdata: (ctx, a) => perSource.ntpdata(ctx, a.positional),
    serverstats: (ctx) => reports.serverstats(ctx),
    clients: (ctx, a) => reports.clients(ctx, a.clients),
    rtcdata: (ctx) => reports.rtcdata(ctx),
    smoothing: (ctx) => reports.smoothing(ctx),
    authdata: (ctx) => perSource.authdata(ctx),
    sourcename: (ctx, a) => reports.sourcename(ctx, a.positional),
    waitsync: (ctx, a) => reports.waitsync(ctx, a.positional),
  };

async function dispatch(ctx: MonitorContext, command: string, a: MonitorArgs): Promise<boolean> {
  const args = a.positional;
  if (Object.hasOwn(REPORTS, command)) return await REPORTS[command](ctx, a);
  if (command === "manual" && args[0] === "list") return await reports.manualList(ctx);
  const result = await runControl(ctx, command, args);
  if (result === null) {
    console.error(`tempus: unknown monitoring command '${command}'`);
    return false;
  }
  return result;
}

/** Where a command's standard output goes (tests capture it). */
export interface MonitorOutput {
  /** Writes text as is. */
  write(text: string): void;
}

const encoder = new TextEncoder();

/** Standard output, written synchronously so lines keep their order. */
export const stdoutOutput: MonitorOutput = {
  write(text: string) {
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  },
};

/** Runs one monitoring/control command; returns the exit code (0 success, 1 failure). */
export async function runMonitor(
  command: string,
  args: string[],
  output: MonitorOutput = stdoutOutput,
): Promise<number> {
  const parsed = parseMonitorArgs(command, args);
  if (typeof parsed === "string") {
    console.error(`tempus ${command}: ${parsed}`);
    return 2;
  }
  if (parsed.help) {
    output.write(`${HELP}\n`);
    return 0;
  }
  const jsonValues: unknown[] = [];
  const client = new CmdmonClient({
    addresses: await daemonAddresses(parsed.hosts, parsed.port, parsed.ipVersion),
    timeoutMs: parsed.timeoutMs,
    retries: parsed.retries,
  });
  const ctx: MonitorContext = {
    client,
    flags: parsed.flags,
    write(text: string) {
      if (!parsed.flags.json) output.write(text);
    },
    json(value: unknown) {
      jsonValues.push(value);
    },
  };
  let ok = false;
  try {
    ok = await dispatch(ctx, command, parsed);
  } finally {
    await client.close();
  }
  if (parsed.flags.json) {
    const value = jsonValues.length === 0
      ? { status: ok ? "200 OK" : "failed" }
      : jsonValues.length === 1
      ? jsonValues[0]
      : jsonValues;
    const text = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v, 2);
    output.write(`${text}\n`);
  }
  return ok ? 0 : 1;
}
