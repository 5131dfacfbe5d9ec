/**
 * The Deno permission sandbox of each tempus command: which files it may read and write,
 * which network endpoints, libraries, environment variables and system APIs it may use.
 * The launchers (`./tempus`, `dist/tempus`) run `tempus permissions COMMAND ARGS...` in a
 * read-only pre-stage (it may read files, nothing else), then run the command itself with
 * exactly the flags printed, never `-A`. For the daemon the paths come from its
 * configuration, so the pre-stage parses the configuration the daemon will load (recording
 * every file and directory the parser touches) and grants those plus the paths the
 * configuration names.
 *
 * Deno cannot narrow a granted permission later (`Deno.permissions.revoke` of a path under a
 * global grant drops the whole grant), hence the two stages.
 *
 * Limits, as Deno 2.9 enforces them:
 * - FFI is granted for libc only, but libc can open any file or socket: the sandbox guards
 *   against a Deno-API mistake (a path or endpoint the configuration did not name), not
 *   against code that calls libc directly. The NTP client and server sockets are libc
 *   sockets (kernel timestamps), outside Deno's net permission.
 * - A Unix datagram reply needs net permission for the peer's socket path, and command
 *   clients bind random paths; so a daemon with the Unix command socket (the default), a
 *   systemd notify socket, or `allow`/`cmdallow` rules for other hosts gets `--allow-net`
 *   without a scope. Monitoring commands likewise.
 *
 * @module
 */
import { type ConfReader, loadConfigLines, loadConfigSync } from "../config/load.ts";
import { denoConfReader } from "../config/chrony_conf.ts";
import type { Config } from "../config/model.ts";
import { ipFamily } from "../base/ip.ts";
import { parseDaemonArgs } from "../daemon/args.ts";
import { NO_CLOCK_ENV } from "../cli/sync.ts";
import { DEFAULT_RUN_DIR } from "../config/defaults.ts";
import { CHILD_ENV, COMMAND_LINE_ENV } from "../io/daemonize.ts";

export type { ConfReader };

/** What a command may touch. `net: "all"` means unscoped network permission. */
export interface Grants {
  /** Paths readable (a directory grants everything below it). */
  read: string[];
  /** Paths writable. */
  write: string[];
  /** `host`, `host:port` or `unix:/path` entries, or "all". */
  net: string[] | "all";
  /** FFI: `["*"]` (unscoped; Deno 2.9 cannot scope pointer operations) or none. */
  ffi: string[];
  /** Environment variables readable. */
  env: string[];
  /** System information APIs (`Deno.networkInterfaces` is "networkInterfaces"). */
  sys: string[];
  /** Programs that may be run (the daemon going to the background re-executes deno). */
  run: string[];
}

/** What the pre-stage may look at on the host (injected in tests). */
export interface HostFacts {
  /** An environment variable. */
  env(name: string): string | undefined;
  /** True when the path exists. */
  exists(path: string): boolean;
  /** A text file's content, or null. */
  readText(path: string): string | null;
  /** The configuration reader (wrapped to record what it reads). */
  reader: ConfReader;
  /** The deno binary running this (the one the launcher execs). */
  execPath(): string;
}

/** The host facts through Deno (needs read permission, and env for the names read). */
export function denoHostFacts(reader: ConfReader): HostFacts {
  return {
    env: (name) => {
      try {
        return Deno.env.get(name);
      } catch {
        return undefined;
      }
    },
    exists: (path) => {
      try {
        Deno.statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    readText: (path) => {
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return null;
      }
    },
    reader,
    execPath: () => Deno.execPath(),
  };
}

/** Environment variables the pre-stage itself reads. */
export const PRESTAGE_ENV: readonly string[] = ["NOTIFY_SOCKET", "TMPDIR"];

function empty(): Grants {
  return { read: [], write: [], net: [], ffi: [], env: [], sys: [], run: [] };
}

function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

/** The nameservers of /etc/resolv.conf as `ip:53` net entries (Deno.resolveDns needs them). */
export function nameserverEntries(resolvConf: string | null): string[] {
  const out: string[] = [];
  for (const line of (resolvConf ?? "").split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const ip = m[1].replace(/%.*$/, "");
    const family = ipFamily(ip);
    if (family === 4) out.push(`${ip}:53`);
    else if (family === 6) out.push(`[${ip}]:53`);
  }
  return out;
}

function netHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/**
 * FFI (libc: clocks, adjtimex, capabilities, /dev/rtc, kernel-timestamp sockets). Deno 2.9
 * checks pointer operations (`Deno.UnsafePointer.of`, used for every msghdr) against an
 * unscoped FFI grant only, so `--allow-ffi=/path/libc.so.6` cannot work: FFI is all or none.
 */
const FFI_ALL = ["*"];

/** A ConfReader that records every file read and directory listed. */
export function recordingReader(
  inner: ConfReader,
): { reader: ConfReader; files: Set<string>; dirs: Set<string> } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  return {
    files,
    dirs,
    reader: {
      readFile(path) {
        files.add(path);
        return inner.readFile(path);
      },
      listDir(path) {
        dirs.add(path);
        return inner.listDir(path);
      },
    },
  };
}

/** Host names (not IP literals) of a list of `HOST[:PORT]` / `[V6]:PORT` arguments. */
function hostNames(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let h = a;
    if (h.startsWith("[")) h = h.slice(1, h.indexOf("]") > 0 ? h.indexOf("]") : undefined);
    else if (h.split(":").length === 2) h = h.slice(0, h.indexOf(":"));
    if (ipFamily(h) === null && /^[A-Za-z0-9._-]+$/.test(h)) out.push(h);
  }
  return out;
}

/**
 * Grants of `sync` and `query`: libc (clock, kernel-timestamp sockets), DNS, and UDP from an
 * ephemeral port to the servers named (unscoped when a name must be resolved: its
 * addresses are not known before).
 */
function clientGrants(args: string[], defaultServer: string | null): Grants {
  const g = empty();
  g.ffi = FFI_ALL;
  const positional = args.filter((a, i) =>
    !a.startsWith("-") &&
    !/^--(timeout|threshold|samples|count|nts-port|nts-ca)$|^-c$/.test(args[i - 1] ?? "")
  );
  const servers = positional.length ? positional : defaultServer ? [defaultServer] : [];
  // NTS-KE (TCP) names the NTP server to use: not known before.
  if (hostNames(servers).length > 0 || args.includes("--nts")) {
    g.net = "all";
    return g;
  }
  g.net = ["0.0.0.0:0", "[::]:0"];
  for (const s of servers) {
    const bracketed = s.startsWith("[");
    const colons = s.split(":").length - 1;
    const hasPort = bracketed ? /\]:\d+$/.test(s) : colons === 1;
    g.net.push(hasPort ? s : `${netHost(s)}:123`);
  }
  return g;
}

function monitorGrants(args: string[], host: HostFacts): Grants {
  const g = empty();
  const tmp = host.env("TMPDIR") || "/tmp";
  // -h lists sockets and hosts; the default tries the Unix socket first.
  const hi = args.indexOf("-h") >= 0 ? args.indexOf("-h") : args.indexOf("--host");
  const list = hi >= 0 && args[hi + 1] ? args[hi + 1].split(",") : [
    `${DEFAULT_RUN_DIR}/tempus.sock`,
  ];
  const socketDirs = list.filter((h) => h.startsWith("/")).map(dirOf);
  g.read = [...socketDirs, tmp, "/etc/hosts"];
  g.write = [...socketDirs, tmp];
  g.sys = ["uid", "gid"]; // the client's private socket directory is checked for its owner
  g.ffi = FFI_ALL; // connected UDP sockets and directory descriptors (ffi/)
  // Each request goes out from a socket bound at a random path (chronyc's scheme), which
  // Deno's net permission can name only unscoped.
  g.net = "all";
  return g;
}

function configFileGrants(files: Set<string>, dirs: Set<string>, g: Grants): void {
  for (const f of files) g.read.push(f);
  for (const d of dirs) g.read.push(d);
}

/** True when no allow/cmdallow rule lets other hosts in (so replies go to loopback only). */
function isLoopbackRule(config: Config): boolean {
  const rules = [...config.ntpAccess, ...config.cmdAccess];
  return rules.every((r) => !r.allow);
}

/** Grants of `tempus daemon ARGS` under the configuration it will load. */
export function daemonGrants(args: string[], host: HostFacts): Grants {
  const g = empty();
  g.ffi = FFI_ALL;
  g.env = ["NOTIFY_SOCKET", "JOURNAL_STREAM"];
  g.sys = ["networkInterfaces", "uid", "gid"];
  let options;
  try {
    options = parseDaemonArgs(args);
  } catch {
    return g; // the daemon prints the usage error itself
  }
  const notify = host.env("NOTIFY_SOCKET");
  if (!(options.noFork || options.debugLevel > 0 || options.oneShot !== null || notify)) {
    // Going to the background: deno re-executes itself with the same flags (the launcher
    // passes its command line, since Deno keeps /proc/self/cmdline from a sandbox).
    const deno = host.execPath();
    g.run.push(deno);
    g.read.push(deno);
    g.env.push(CHILD_ENV, COMMAND_LINE_ENV);
  }
  const rec = recordingReader(host.reader);
  const parsed = options.configLines.length > 0
    ? loadConfigLines(options.configLines, rec.reader)
    : loadConfigSync(options.configFile, rec.reader);
  if (options.configFile !== null) rec.files.add(options.configFile);
  configFileGrants(rec.files, rec.dirs, g);
  if (!parsed.ok) return g; // the daemon reports the configuration errors itself
  const c = parsed.config;
  const rw = (path: string | null, dirToo = false) => {
    if (path === null || path === "") return;
    g.read.push(path);
    g.write.push(path);
    if (dirToo) {
      g.read.push(dirOf(path));
      g.write.push(dirOf(path));
    }
  };
  const ro = (path: string | null) => {
    if (path !== null && path !== "") g.read.push(path);
  };
  // Atomic rewrites (a temporary file beside the target, then rename) need the directory.
  rw(c.driftFile, true);
  rw(c.rtcFile, true);
  rw(c.pidFile, true);
  rw(c.logDir);
  rw(c.dumpDir);
  rw(options.logFile);
  ro(c.keyFile);
  ro(c.hwclockFile);
  ro(c.leapSecList);
  if (c.leapSecTz !== null) ro("/usr/share/zoneinfo");
  for (const d of c.sourceDirs ?? []) ro(d);
  // SOCK refclocks bind their socket (replacing a stale one); SHM goes through FFI.
  for (const r of c.refclocks) if (r.driver === "SOCK") rw(r.parameter);
  if (c.cmdSocket !== null) rw(dirOf(c.cmdSocket));
  if (c.pidFile !== null) ro("/proc"); // is the pid in an existing pidfile alive?
  // ops: the error-bound page and the recording are created (with their directory).
  rw(c.errorBoundFile ?? null, true);
  rw(c.recordMeasurements ?? null, true);
  // NTS: cookie and server-key dumps; trusted certificates are looked at (file or directory).
  rw(c.nts?.dumpDir ?? null);
  for (const p of c.nts?.trustedCerts ?? []) ro(p);
  // The run user (or the process's own name) is looked up in /etc/passwd.
  g.read.push("/etc/passwd");
  if (notify) {
    // sd_notify binds a datagram socket in a fresh temporary directory and sends to
    // $NOTIFY_SOCKET (Deno checks a Unix datagram destination as a write).
    const tmp = host.env("TMPDIR") || "/tmp";
    g.read.push(tmp);
    g.write.push(tmp);
    if (notify.startsWith("/")) g.write.push(notify);
  }
  // NTS: NTS-KE over TCP, then NTP to whatever server NTS-KE names; the NTS-KE listener.
  const nts = c.sources.some((s) => s.params.nts === true) ||
    (c.nts?.serverKeys.length ?? 0) > 0;
  if (c.cmdSocket !== null || notify || !isLoopbackRule(c) || nts) {
    g.net = "all";
  } else {
    const net: string[] = [...nameserverEntries(host.readText("/etc/resolv.conf"))];
    for (const s of c.sources) if (ipFamily(s.name) === null) net.push(s.name);
    if (c.cmdPort > 0) {
      // cmdmon over UDP: bound on bindcmdaddress, answering loopback clients on any port.
      const hosts = c.bindCmdAddresses.filter((a) => !a.startsWith("/"));
      for (const h of hosts.length ? hosts : ["127.0.0.1", "::1"]) {
        net.push(netHost(h));
      }
      net.push("127.0.0.1", "[::1]");
    }
    // The NTP port is opened only with `allow` rules, which make net unscoped above.
    // ops: the metrics endpoint (Deno.serve) listens on bindmetricsaddress:metricsport.
    if ((c.metricsPort ?? 0) > 0) {
      net.push(`${netHost(c.bindMetricsAddress ?? "127.0.0.1")}:${c.metricsPort}`);
    }
    g.net = net;
  }
  return g;
}

/**
 * `config check FILE` runs the daemon's start-up checks (keyfile, run user, command socket
 * directory): the daemon's reads and user look-ups, nothing else.
 */
function configCheckGrants(args: string[], host: HostFacts): Grants {
  const g = empty();
  const file = args.find((a, i) => i > 0 && !a.startsWith("-")) ??
    (args.includes("-") ? "-" : undefined);
  if (file === undefined || args[0] !== "check") return g;
  const daemon = daemonGrants(file === "-" ? [] : ["-f", file], host);
  g.read = daemon.read;
  g.sys = ["uid", "gid"];
  return g;
}

/** The value after `name` (or its short form) in `args`, or null. */
function optionValue(args: string[], names: string[]): string | null {
  for (let i = 0; i < args.length - 1; i++) if (names.includes(args[i])) return args[i + 1];
  const eq = args.find((a) => names.some((n) => a.startsWith(`${n}=`)));
  return eq === undefined ? null : eq.slice(eq.indexOf("=") + 1);
}

/** Positional arguments: not options, not values of the `valued` options. */
function positionals(args: string[], valued: string[]): string[] {
  return args.filter((a, i) => !a.startsWith("-") && !valued.includes(args[i - 1] ?? ""));
}

/** ops: `tempus now` reads the error-bound page and the clocks (libc). */
function nowGrants(args: string[]): Grants {
  const g = empty();
  g.ffi = FFI_ALL;
  g.read = [optionValue(args, ["--file", "-f"]) ?? `${DEFAULT_RUN_DIR}/errorbound`];
  return g;
}

/** ops: `tempus plot` reads the logs it is given and writes its output (or asks a daemon). */
function plotGrants(args: string[]): Grants {
  const g = empty();
  const valued = [
    "--tracking",
    "--measurements",
    "-o",
    "--output",
    "--title",
    "--url",
    "--step-threshold",
  ];
  for (const p of positionals(args, valued)) g.read.push(p);
  for (const o of ["--tracking", "--measurements"]) {
    const v = optionValue(args, [o]);
    if (v !== null) g.read.push(v);
  }
  const out = optionValue(args, ["-o", "--output"]);
  if (out !== null) g.write.push(out);
  const url = optionValue(args, ["--url"]);
  if (url !== null) {
    try {
      g.net = [new URL(url).host];
    } catch {
      // the command reports a bad URL itself
    }
  }
  return g;
}

/** ops: `tempus replay` reads the recording (or log directory) and the configuration. */
function replayGrants(args: string[], host: HostFacts): Grants {
  const g = empty();
  for (const p of positionals(args, ["-f", "--config", "--compare"])) g.read.push(p);
  const compare = optionValue(args, ["--compare"]);
  if (compare !== null) g.read.push(compare);
  const config = optionValue(args, ["-f", "--config"]);
  if (config !== null) {
    const rec = recordingReader(host.reader);
    loadConfigSync(config, rec.reader);
    rec.files.add(config);
    configFileGrants(rec.files, rec.dirs, g);
  }
  return g;
}

/** The grants of one tempus command line (the arguments after `tempus`). */
export function grantsFor(args: string[], host: HostFacts): Grants {
  const [command, ...rest] = args;
  switch (command) {
    case "daemon":
      return daemonGrants(rest, host);
    case "sync":
      return withEnv(clientGrants(rest, "pool.ntp.org"), [NO_CLOCK_ENV]);
    case "query":
      return clientGrants(rest, null);
    case "config":
      return configCheckGrants(rest, host);
    case "now":
      return nowGrants(rest);
    case "plot":
      return plotGrants(rest);
    case "replay":
      return replayGrants(rest, host);
    case undefined:
    case "--help":
    case "-h":
    case "help":
    case "--version":
    case "-V":
    case "version":
    case "permissions":
      return empty();
    default:
      return monitorGrants(rest, host);
  }
}

function withEnv(g: Grants, env: string[]): Grants {
  g.env.push(...env);
  return g;
}

/** Rejects a path Deno's comma-separated flag syntax cannot carry. */
function checkEntry(entry: string): void {
  if (/[,\n]/.test(entry)) throw new Error(`cannot grant '${entry}': it contains a comma`);
}

/** The `deno run` flags that grant exactly `g` (never -A). */
export function denoFlags(g: Grants): string[] {
  const flag = (name: string, list: string[]) => {
    const unique = [...new Set(list)].sort();
    unique.forEach(checkEntry);
    return unique.length ? [`--allow-${name}=${unique.join(",")}`] : [];
  };
  return [
    ...flag("read", g.read),
    ...flag("write", g.write),
    ...(g.net === "all" ? ["--allow-net"] : flag("net", g.net)),
    ...(g.ffi.includes("*") ? ["--allow-ffi"] : flag("ffi", g.ffi)),
    ...flag("env", g.env),
    ...flag("sys", g.sys),
    ...flag("run", g.run),
  ];
}

/**
 * `tempus permissions COMMAND [ARGS...]`: prints the deno flags (one per line) the
 * launchers run that command line with. Run it with read permission only.
 */
export function run(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === "--help") {
    console.log(
      "Usage: tempus permissions COMMAND [ARGS...]\n\nPrints the Deno permission flags " +
        "(one per line) that the launcher grants `tempus COMMAND ARGS...`.",
    );
    return Promise.resolve(args.length === 0 ? 2 : 0);
  }
  try {
    const flags = denoFlags(grantsFor(args, denoHostFacts(denoConfReader())));
    if (flags.length) console.log(flags.join("\n"));
    return Promise.resolve(0);
  } catch (error) {
    console.error(`tempus permissions: ${error instanceof Error ? error.message : error}`);
    return Promise.resolve(1);
  }
}
