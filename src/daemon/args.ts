/**
 * `tempus daemon` command-line options, chronyd's set: -f FILE, -x, -d, -n, -q, -Q, -s,
 * -u USER, -L LEVEL, -l FILE, -m, -P PRIORITY, -F LEVEL (0, 2, -2), -r, -v, plus configuration
 * lines given as arguments (as `chronyd -q 'server ...'`).
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Parsed daemon options. */
export interface DaemonOptions {
  /** -f FILE: configuration file (null: the embedded default, or the given lines). */
  configFile: string | null;
  /** Configuration lines given as arguments (they replace the file, like chronyd). */
  configLines: string[];
  /** -x: no clock control. */
  noClockControl: boolean;
  /** -d: log to stderr (twice: debug level). */
  debugLevel: number;
  /** -q: set the clock once and exit; -Q: measure once and exit. */
  oneShot: "set" | "print" | null;
  /** -s: set the system clock from the RTC at start. */
  setFromRtc: boolean;
  /** -r: load the dump files of dumpdir at start (chronyd -r). */
  reloadDumps: boolean;
  /** -u USER: drop root after binding sockets. */
  user: string | null;
  /** -L LEVEL: minimum log level (0 info, 1 warning, 2 error, -1 debug). */
  logLevel: number;
  /** -l FILE: log to this file only (not stderr, not syslog). */
  logFile: string | null;
  /** -n: stay in the foreground (also -d, -q, -Q, and under systemd's Type=notify). */
  noFork: boolean;
  /** -m: lock the process's memory into RAM (mlockall). */
  lockMemory: boolean;
  /** -P PRIORITY: run under SCHED_FIFO at this priority (1-99); 0 keeps the default. */
  schedPriority: number;
  /** -F LEVEL: system call filter: 0 none, 2 / -2 deny exec, fork, ptrace (kill / SIGSYS). */
  filterLevel: number;
  /** --log-name NAME: the program name in log lines ("NAME starting", "NAME exiting"). */
  logName: string;
  /** -v: print the version and exit. */
  version: boolean;
  /** --help. */
  help: boolean;
}

/** The daemon's help text. */
export const DAEMON_USAGE = `Usage: tempus daemon [OPTION]... [DIRECTIVE]...

Run the time service (chronyd's job).

  -f FILE    configuration file (chrony.conf syntax, or TOML when it ends in .toml);
             default: the embedded configuration (pool pool.ntp.org iburst, makestep 1.0 3,
             driftfile /var/lib/tempus/drift, rtcsync)
  -x         do not control the system clock (like chronyd -x): measure and serve only
  -n         stay in the foreground (default: go to the background once started; also
             foreground with -d, -q, -Q and under systemd Type=notify, i.e. $NOTIFY_SOCKET set)
  -d         log to stderr in the foreground (twice: debug messages)
  -q         set the clock once from the configured sources and exit
  -Q         print the offset once and exit; never touch the clock
  -s         set the system clock from the RTC at start (rtcfile drift applied)
  -r         load the sources' samples from the dump files in dumpdir at start (written
             by chronyc dump and at exit; chronyd's format)
  -u USER    switch to USER after binding sockets
  -L LEVEL   minimum log level: -1 debug, 0 info (default), 1 warning, 2 error
  -l FILE    log to FILE only (default: stderr in the foreground, syslog in the background)
  -m         lock the daemon's memory into RAM (mlockall)
  -P PRIO    run with the SCHED_FIFO real-time scheduler at priority PRIO (1-99; 0: off)
  -F LEVEL   system call filter (seccomp): 0 none (default); 2 deny exec, fork and ptrace,
             killing the daemon; -2 the same with SIGSYS; level 1 (allow-list) is refused
  -v         print the version and exit
  --log-name NAME  the program name used in log lines (default tempus)
  DIRECTIVE  configuration lines used instead of the file, e.g. 'server 192.0.2.1 iburst'`;

/** "-F", "-1" -> "-F-1": chronyd's getopt takes a negative level as -F's value. */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if ((a === "-F" || a === "-P" || a === "-L") && next !== undefined && /^-\d/.test(next)) {
      out.push(a + next);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parses daemon arguments; throws an Error with a clear message on bad usage. */
export function parseDaemonArgs(args: string[]): DaemonOptions {
  // Deno decodes argv lossily: a path with bytes that are not UTF-8 would name another file.
  const garbled = args.find((a) => a.includes("\uFFFD"));
  if (garbled !== undefined) {
    throw new Error(`argument '${garbled.slice(0, 60)}' holds bytes that are not valid UTF-8`);
  }
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(args),
    allowPositionals: true,
    strict: true,
    options: {
      f: { type: "string" },
      x: { type: "boolean" },
      d: { type: "boolean", multiple: true },
      q: { type: "boolean" },
      Q: { type: "boolean" },
      s: { type: "boolean" },
      r: { type: "boolean" },
      u: { type: "string" },
      L: { type: "string" },
      l: { type: "string" },
      n: { type: "boolean" },
      m: { type: "boolean" },
      P: { type: "string" },
      F: { type: "string" },
      v: { type: "boolean" },
      "log-name": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.q && values.Q) throw new Error("-q and -Q cannot be used together");
  const logLevel = values.L === undefined ? 0 : Number(values.L);
  if (!Number.isInteger(logLevel) || logLevel < -1 || logLevel > 3) {
    throw new Error(`invalid log level '${values.L}' (use -1, 0, 1, 2 or 3)`);
  }
  const schedPriority = values.P === undefined ? 0 : Number(values.P);
  if (!/^\d+$/.test(values.P ?? "0") || schedPriority > 99) {
    throw new Error(`invalid priority '${values.P}' for -P (use 0 to 99)`);
  }
  const filterLevel = values.F === undefined ? 0 : Number(values.F);
  if (!/^-?\d+$/.test(values.F ?? "0") || filterLevel < -2 || filterLevel > 2) {
    throw new Error(`invalid filter level '${values.F}' for -F (chronyd's levels are -2 to 2)`);
  }
  if (filterLevel === 1 || filterLevel === -1) {
    throw new Error(
      `-F ${filterLevel}: level 1 (an allow-list of system calls) is not supported by tempus; ` +
        "use -F 2 (deny exec, fork and ptrace) or -F 0",
    );
  }
  const logName = values["log-name"] ?? "tempus";
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(logName)) {
    throw new Error(`invalid --log-name '${logName}' (letters, digits, '.', '_', '-')`);
  }
  return {
    configFile: values.f ?? null,
    configLines: positionals,
    noClockControl: values.x === true || values.Q === true,
    debugLevel: values.d?.length ?? 0,
    oneShot: values.q ? "set" : values.Q ? "print" : null,
    setFromRtc: values.s === true,
    reloadDumps: values.r === true,
    user: values.u ?? null,
    logLevel,
    logFile: values.l ?? null,
    noFork: values.n === true,
    lockMemory: values.m === true,
    schedPriority,
    filterLevel,
    logName,
    version: values.v === true,
    help: values.help === true,
  };
}
