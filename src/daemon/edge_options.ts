/**
 * The daemon's process-edge settings from chronyd's options and directives, kept out of the
 * daemon's wiring so that it needs one line per hook:
 *
 * - logging: -l FILE logs only to the file; in the background without -l, syslog (as
 *   chronyd); in the foreground without -l, stderr;
 * - client sockets: bindacqaddress, bindacqdevice, dscp (options of the client transport);
 * - listening sockets: binddevice and dscp on the NTP server's, bindcmddevice on the UDP
 *   command sockets' (found by their bound port);
 * - tempcomp: the temperature compensation service;
 * - hwclockfile: whether the RTC keeps UTC or local time, from an adjtime file.
 *
 * Failures throw an Error with a clear message; the CLI reports it as a start-up failure.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { LogPort } from "../base/ports.ts";
import type { LocalClock } from "../core/local_clock.ts";
import { isBackgroundChild } from "../io/daemonize.ts";
import { type Logging, setupLoggingSync } from "../io/logging.ts";
import type { LogFiles } from "../io/log_files.ts";
import { kernelSocketsAvailable } from "../io/kernel_socket.ts";
import {
  acquisitionAddresses,
  clientTuning,
  commandTuning,
  serverTuning,
  socketConfigurer,
  tuneBoundSockets,
} from "../io/socket_tuning.ts";
import type { SocketTuning } from "../../ffi/socket_options.ts";
import { TempCompService } from "./tempcomp.ts";

/** Sets up the daemon's logging as chronyd does for -l, -d/-n and the background. */
export function daemonLogging(
  options: { logFile: string | null; logName: string },
  level: "debug" | "info" | "warning" | "error",
): Logging {
  const background = isBackgroundChild();
  return setupLoggingSync({
    level,
    stderr: options.logFile === null && !background,
    syslog: options.logFile === null && background ? options.logName : null,
    file: options.logFile,
  });
}

/** Options for KernelClientTransport: bindacqaddress, and bindacqdevice/dscp on each socket. */
export function clientSocketOptions(config: Config): {
  bindAddress?: { v4: string | null; v6: string | null };
  configureSocket?: (fd: number, family: number) => void;
} {
  const tuning = clientTuning(config);
  const addresses = acquisitionAddresses(config);
  const needed = tuning !== null || addresses.v4 !== null || addresses.v6 !== null;
  if (!needed) return {};
  if (!kernelSocketsAvailable()) {
    throw new Error("bindacqaddress, bindacqdevice and dscp need libc sockets (FFI)");
  }
  return {
    bindAddress: addresses,
    configureSocket: tuning === null ? undefined : socketConfigurer(tuning),
  };
}

function tune(port: number, tuning: SocketTuning | null, what: string): void {
  if (tuning === null || port === 0) return;
  try {
    tuneBoundSockets(port, tuning);
  } catch (error) {
    throw new Error(`${what} on port ${port}: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * Applies binddevice/dscp to the NTP server's sockets (bound on `ntpPort`, null when no
 * server runs) and bindcmddevice to the UDP command sockets (bound on `cmdPorts`).
 */
export function tuneListeningSockets(
  config: Config,
  ntpPort: number | null,
  cmdPorts: Iterable<number>,
): void {
  if (ntpPort !== null) tune(ntpPort, serverTuning(config), "binddevice/dscp");
  for (const port of new Set(cmdPorts)) tune(port, commandTuning(config), "bindcmddevice");
}

/** Starts tempcomp when configured (and `enabled`); throws when its point file is bad. */
export function startTempComp(
  config: Config,
  clock: LocalClock,
  logFiles: LogFiles | null,
  log: LogPort,
  enabled: boolean,
): TempCompService | null {
  if (!config.tempComp || !enabled) return null;
  let service: TempCompService;
  try {
    service = new TempCompService(config.tempComp, {
      apply: (ppm) => clock.setTempComp(ppm),
      now: () => clock.cookedNow(),
      logLine: (time, temperature, comp) => logFiles?.tempcomp(time, temperature, comp),
      log,
    });
  } catch (error) {
    throw new Error(`tempcomp: ${error instanceof Error ? error.message : error}`);
  }
  service.start();
  return service;
}

/**
 * hwclockfile: the third line of an adjtime file (/etc/adjtime) says whether the RTC keeps
 * UTC or local time; it overrides rtconutc, as chronyd. A missing file is ignored (as
 * chronyd); a file without LOCAL/UTC there is warned about.
 */
export function applyHwclockFile(
  config: Config,
  log: LogPort,
  read: (path: string) => string = (p) => Deno.readTextFileSync(p),
): void {
  const path = config.hwclockFile;
  if (path === null || path === "") return;
  let text: string;
  try {
    text = read(path);
  } catch {
    return;
  }
  const line = text.split("\n")[2];
  if (line?.startsWith("LOCAL")) config.rtcOnUtc = false;
  else if (line?.startsWith("UTC")) config.rtcOnUtc = true;
  else log.log("warning", `Could not read RTC LOCAL/UTC setting from ${path}`);
}
