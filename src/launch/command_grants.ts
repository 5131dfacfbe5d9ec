/**
 * The sandbox of the commands other than the daemon: `sync` and `query` (NTP clients), the
 * monitoring commands (chronyc's), and the ops commands `now`, `plot` and `replay`.
 *
 * @module
 */
import { loadConfigSync } from "../config/load.ts";
import { ipFamily } from "../base/ip.ts";
import { DEFAULT_RUN_DIR } from "../config/defaults.ts";
import {
  dirOf,
  emptyGrants,
  FFI_ALL,
  type Grants,
  type HostFacts,
  loadGranting,
  netHost,
  optionValue,
  positionals,
  tmpDir,
} from "./grants.ts";

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
export function clientGrants(args: string[], defaultServer: string | null): Grants {
  const g = emptyGrants();
  g.ffi = FFI_ALL;
  const positional = positionals(args, [
    "--timeout",
    "--threshold",
    "--samples",
    "--count",
    "-c",
    "--nts-port",
    "--nts-ca",
  ]);
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

/** Grants of the monitoring commands (chronyc's): the command socket or hosts they ask. */
export function monitorGrants(args: string[], host: HostFacts): Grants {
  const g = emptyGrants();
  const tmp = tmpDir(host);
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

/** ops: `tempus now` reads the error-bound page and the clocks (libc). */
export function nowGrants(args: string[]): Grants {
  const g = emptyGrants();
  g.ffi = FFI_ALL;
  g.read = [optionValue(args, ["--file", "-f"]) ?? `${DEFAULT_RUN_DIR}/errorbound`];
  return g;
}

/** ops: `tempus plot` reads the logs it is given and writes its output (or asks a daemon). */
export function plotGrants(args: string[]): Grants {
  const g = emptyGrants();
  const logs = ["--tracking", "--measurements"];
  const valued = [...logs, "-o", "--output", "--title", "--url", "--step-threshold"];
  g.read.push(...positionals(args, valued));
  for (const o of logs) {
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
export function replayGrants(args: string[], host: HostFacts): Grants {
  const g = emptyGrants();
  g.read.push(...positionals(args, ["-f", "--config", "--compare"]));
  const compare = optionValue(args, ["--compare"]);
  if (compare !== null) g.read.push(compare);
  const config = optionValue(args, ["-f", "--config"]);
  if (config !== null) loadGranting(g, host, config, (reader) => loadConfigSync(config, reader));
  return g;
}
