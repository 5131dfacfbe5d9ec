/**
 * The daemon's sandbox: the paths, endpoints and programs its configuration names, read
 * through the very parser the daemon will run (every file and directory it touches is
 * granted too); and `config check`, which reads what the daemon reads.
 *
 * A Unix datagram reply needs net permission for the peer's socket path, and command clients
 * bind random paths; so a daemon with the Unix command socket (the default), a systemd notify
 * socket, or `allow`/`cmdallow` rules for other hosts gets `--allow-net` without a scope.
 *
 * @module
 */
import { loadConfigLines, loadConfigSync } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { ipFamily } from "../base/ip.ts";
import { parseDaemonArgs } from "../daemon/args.ts";
import { CHILD_ENV, COMMAND_LINE_ENV } from "../io/daemonize.ts";
import {
  dirOf,
  emptyGrants,
  FFI_ALL,
  type Grants,
  type HostFacts,
  loadGranting,
  netHost,
  tmpDir,
} from "./grants.ts";

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

/** True when no allow/cmdallow rule lets other hosts in (so replies go to loopback only). */
function isLoopbackRule(config: Config): boolean {
  const rules = [...config.ntpAccess, ...config.cmdAccess];
  return rules.every((r) => !r.allow);
}

/** Grants of `tempus daemon ARGS` under the configuration it will load. */
export function daemonGrants(args: string[], host: HostFacts): Grants {
  const g = emptyGrants();
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
  const parsed = loadGranting(
    g,
    host,
    options.configFile,
    (reader) =>
      options.configLines.length > 0
        ? loadConfigLines(options.configLines, reader)
        : loadConfigSync(options.configFile, reader),
  );
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
  // SOCK refclocks bind their socket (replacing a stale one); SHM, PPS, PHC, RTC, NMEA use FFI.
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
    rw(tmpDir(host));
    if (notify.startsWith("/")) g.write.push(notify);
  }
  // NTS: NTS-KE over TCP, then NTP to whatever server NTS-KE names; the NTS-KE listener.
  const nts = c.sources.some((s) => s.params.nts === true) ||
    (c.nts?.serverKeys.length ?? 0) > 0;
  // Symmetric peers open the NTP port and talk to their peers from it, like `allow` rules;
  // manycastclient solicits its group through Deno's UDP (daemon/manycast_service.ts).
  const peers = c.sources.some((s) => s.type === "peer");
  const manycast = (c.broadcast?.manycastClients.length ?? 0) > 0;
  if (c.cmdSocket !== null || notify || !isLoopbackRule(c) || manycast || peers || nts) {
    g.net = "all";
  } else {
    const net: string[] = [...nameserverEntries(host.readText("/etc/resolv.conf"))];
    for (const s of c.sources) if (ipFamily(s.name) === null) net.push(s.name);
    if (c.cmdPort > 0) {
      // cmdmon over UDP: bound on bindcmdaddress, answering loopback clients on any port.
      const hosts = c.bindCmdAddresses.filter((a) => !a.startsWith("/"));
      for (const h of hosts.length ? hosts : ["127.0.0.1", "::1"]) net.push(netHost(h));
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
export function configCheckGrants(args: string[], host: HostFacts): Grants {
  const g = emptyGrants();
  const file = args.find((a, i) => i > 0 && !a.startsWith("-")) ??
    (args.includes("-") ? "-" : undefined);
  if (file === undefined || args[0] !== "check") return g;
  g.read = daemonGrants(file === "-" ? [] : ["-f", file], host).read;
  g.sys = ["uid", "gid"];
  return g;
}
