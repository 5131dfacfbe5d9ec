/**
 * `tempus daemon` command-line options, chronyd's set: -f FILE, -x, -d, -q, -Q, -s, -u USER,
 * -n, -P?, plus configuration lines given as arguments (as `chronyd -q 'server ...'`).
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
  /** -u USER: drop root after binding sockets. */
  user: string | null;
  /** -L LEVEL: minimum log level (0 info, 1 warning, 2 error, -1 debug). */
  logLevel: number;
  /** -l FILE: log to a file instead of stderr. */
  logFile: string | null;
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
  -d         log to stderr in the foreground (twice: debug messages)
  -q         set the clock once from the configured sources and exit
  -Q         print the offset once and exit; never touch the clock
  -s         set the system clock from the RTC at start (rtcfile drift applied)
  -u USER    switch to USER after binding sockets
  -L LEVEL   minimum log level: -1 debug, 0 info (default), 1 warning, 2 error
  -l FILE    log to FILE
  DIRECTIVE  configuration lines used instead of the file, e.g. 'server 192.0.2.1 iburst'`;

/** Parses daemon arguments; throws an Error with a clear message on bad usage. */
export function parseDaemonArgs(args: string[]): DaemonOptions {
  // Deno decodes argv lossily: a path with bytes that are not UTF-8 would name another file.
  const garbled = args.find((a) => a.includes("\uFFFD"));
  if (garbled !== undefined) {
    throw new Error(`argument '${garbled.slice(0, 60)}' holds bytes that are not valid UTF-8`);
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      f: { type: "string" },
      x: { type: "boolean" },
      d: { type: "boolean", multiple: true },
      q: { type: "boolean" },
      Q: { type: "boolean" },
      s: { type: "boolean" },
      u: { type: "string" },
      L: { type: "string" },
      l: { type: "string" },
      n: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.q && values.Q) throw new Error("-q and -Q cannot be used together");
  const logLevel = values.L === undefined ? 0 : Number(values.L);
  if (!Number.isInteger(logLevel) || logLevel < -1 || logLevel > 3) {
    throw new Error(`invalid log level '${values.L}' (use -1, 0, 1, 2 or 3)`);
  }
  return {
    configFile: values.f ?? null,
    configLines: positionals,
    noClockControl: values.x === true || values.Q === true,
    debugLevel: values.d?.length ?? 0,
    oneShot: values.q ? "set" : values.Q ? "print" : null,
    setFromRtc: values.s === true,
    user: values.u ?? null,
    logLevel,
    logFile: values.l ?? null,
    help: values.help === true,
  };
}
