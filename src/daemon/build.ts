/**
 * Building the daemon: configuration and keys, logging, the clock driver, the pidfile and
 * driftfile, the engine, its client transport (built after the engine, over the engine's
 * clock), the source manager, access tables and the client log. Nothing here serves yet.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import {
  type ConfParseResult,
  formatDiagnostics,
  loadConfig,
  loadConfigLines,
} from "../config/load.ts";
import { AccessTable } from "../core/access.ts";
import { ClientLog } from "../core/client_log.ts";
import { DEFAULT_CLIENT_SEND_TIMING } from "../core/client_send_timing.ts";
import { Engine, type EngineOptions } from "../core/engine/engine.ts";
import type { RefclockDriverHandle } from "../refclock/driver.ts";
import { openRefclocks } from "../refclock/open.ts";
import type { ClockDriver, LogPort, NtpTransport } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import { NullClockDriver } from "../clock/null.ts";
import { clockPermissionError, LinuxClockDriver } from "../clock/linux.ts";
import type { KeyStore } from "../ntp/keyfile.ts";
import { parseIpv4 } from "../base/ip.ts";
import { errorMessage } from "../base/errors.ts";
import { refIdFromAddress } from "../ntp/packet.ts";
import { resolveHost } from "../io/dns.ts";
import { readDriftFile, writeDriftFile } from "../io/driftfile.ts";
import { ensureDirSync } from "../io/files.ts";
import { KernelClientTransport } from "../io/kernel_client_transport.ts";
import { kernelSocketsAvailable } from "../io/kernel_socket.ts";
import { LogFiles } from "../io/log_files.ts";
import type { Logging } from "../io/logging.ts";
import * as edge from "./edge_options.ts";
import type { TempCompService } from "./tempcomp.ts";
import { loadLeapTable } from "./leap_table.ts";
import { acquirePidFile } from "../io/pidfile.ts";
import { CryptoRandom } from "../io/random.ts";
import { RealTimers } from "../io/timers.ts";
import { REAL_TIMER_SLEW_MARGIN } from "../core/local_clock.ts";
import { UdpClientTransport } from "../io/udp.ts";
import type { DaemonOptions } from "./args.ts";
import { checkStartup } from "./startup_checks.ts";
import type { RunUser } from "./run_user.ts";
import { attachLogFiles } from "./log_writer.ts";
import { RtcService, setClockFromRtc } from "./rtc_service.ts";
import { SourceManager } from "./sources.ts";
import { ntsClientsFor, type NtsSources } from "./nts_sources.ts";
import { ntsKeExchange } from "../nts/ke_client.ts";

/** Thrown by `startDaemon` for a start-up failure that should end with one clear line. */
export class StartupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** A client transport that can be closed at shutdown. */
export type ClientTransport = NtpTransport & { close?: () => void };

/** Everything the daemon is made of, built and wired but not yet serving. */
export interface DaemonParts {
  /** The configuration in force. */
  config: Config;
  /** Symmetric keys from the keyfile. */
  keys: KeyStore;
  /** Logging (stderr and file). */
  logging: Logging;
  /** The daemon's log. */
  log: LogPort;
  /** The clock driver. */
  driver: ClockDriver;
  /** The pidfile held, or null. */
  pidFile: string | null;
  /** The user the daemon runs as (owns the command socket's directory). */
  runUser: RunUser;
  /** Real timers. */
  timers: RealTimers;
  /** Cryptographic randomness. */
  random: CryptoRandom;
  /** The engine. */
  engine: Engine;
  /** Its client transport (the engine sends through it once started). */
  transport: ClientTransport;
  /** Turns configured names into engine sources. */
  sources: SourceManager;
  /** The NTS clients of `nts` sources (authdata). */
  nts?: NtsSources;
  /** RTC tracking, when configured. */
  rtc: RtcService | null;
  /** Reference clock drivers (refclock), running. */
  refclocks: RefclockDriverHandle[];
  /** measurements/statistics/tracking logs, when configured. */
  logFiles: LogFiles | null;
  /** tempcomp, when configured (running). */
  tempComp: TempCompService | null;
  /** The program name of the start and exit log lines (--log-name). */
  logName: string;
  /** NTP allow/deny. */
  ntpAccess: AccessTable;
  /** cmdallow/cmddeny. */
  cmdAccess: AccessTable;
  /** Clients seen by the NTP server and the command port. */
  clientLog: ClientLog;
}

/** Loads the configuration the options ask for. */
export function loadDaemonConfig(options: DaemonOptions): Promise<ConfParseResult> {
  // Each argument is one directive, read by the same rule as the launcher's pre-stage.
  if (options.configLines.length > 0) return Promise.resolve(loadConfigLines(options.configLines));
  return loadConfig(options.configFile);
}

function logLevelFor(options: DaemonOptions): "debug" | "info" | "warning" | "error" {
  if (options.debugLevel >= 2 || options.logLevel < 0) return "debug";
  return (["info", "warning", "error", "error"] as const)[options.logLevel];
}

/** Chooses the clock driver: null with -x, else Linux (refused without CAP_SYS_TIME). */
function openClockDriver(config: Config, options: DaemonOptions): ClockDriver {
  if (options.noClockControl) return new NullClockDriver();
  if (clockPermissionError() !== null) {
    throw new StartupError(
      "tempus needs root or CAP_SYS_TIME to set the clock; use -x to run without clock control",
    );
  }
  return new LinuxClockDriver({ clearUnsync: config.rtcSync });
}

/** Reads the driftfile (creating the directories of the drift and RTC files). */
function readDrift(config: Config, log: LogPort): { freqPpm: number; skewPpm: number } | null {
  for (const file of [config.driftFile, config.rtcFile]) {
    if (file === null || !file.includes("/")) continue;
    try {
      ensureDirSync(file.slice(0, file.lastIndexOf("/")) || "/");
    } catch (error) {
      log.log("warning", `Could not create the directory of ${file}: ${errorMessage(error)}`);
    }
  }
  if (config.driftFile === null) return null;
  const drift = readDriftFile(config.driftFile);
  if (drift.warning !== null) log.log("warning", drift.warning);
  if (drift.drift !== null) {
    log.log("info", `Frequency ${(-drift.drift.freqPpm).toFixed(3)} ppm read from driftfile`);
  }
  return drift.drift;
}

/**
 * Builds the daemon's parts; throws StartupError on a configuration or permission problem.
 * `oneShot` is the engine's one-shot mode (daemon -q/-Q), or null.
 */
export async function buildDaemon(
  options: DaemonOptions,
  oneShot: EngineOptions["oneShot"],
): Promise<DaemonParts> {
  // Logging first, so that configuration warnings reach the -l file too (dropin).
  const logging: Logging = edge.daemonLogging(options, logLevelFor(options));
  const log = logging.port("daemon");
  const parsed = await loadDaemonConfig(options);
  for (const w of formatDiagnostics(parsed.warnings)) log.log("warning", w);
  if (!parsed.ok) throw new StartupError(formatDiagnostics(parsed.errors).join("\n"));
  const config = parsed.config;
  edge.applyHwclockFile(config, log);
  const acquisition = edge.clientSocketOptions(config); // throws when it cannot be honoured
  // The checks config check also makes: keyfile, keys in use, the run user (-u over user).
  const startup = checkStartup(config, options.user);
  for (const w of startup.warnings) log.log("warning", w);
  if (startup.errors.length > 0 || startup.runUser === null) {
    throw new StartupError(startup.errors.join("\n"));
  }
  const keys = startup.keys;
  const runUser = startup.runUser;

  const driver = openClockDriver(config, options);
  log.log(
    "info",
    `${options.logName} starting (${
      options.noClockControl ? "no clock control" : `clock driver ${driver.name}`
    })`,
  );
  if (options.noClockControl) log.log("info", "Disabled control of system clock");
  if (options.setFromRtc) log.log("info", await setClockFromRtc(config, driver, log));

  const pidFile = options.oneShot === null ? config.pidFile : null;
  if (pidFile !== null) {
    try {
      acquirePidFile(pidFile, runUser);
    } catch (error) {
      throw new StartupError(errorMessage(error));
    }
  }
  const initialDrift = readDrift(config, log);

  const timers = new RealTimers();
  const random = new CryptoRandom();
  const engine = new Engine(
    config,
    { driver, timers, random, log: logging.port("engine") },
    initialDrift,
    { keys, localRefId: localRefId(config), oneShot, slewTimerMargin: REAL_TIMER_SLEW_MARGIN },
  );
  if (config.driftFile !== null) {
    const path = config.driftFile;
    engine.onDriftUpdate = (freqPpm, skewPpm) => {
      writeDriftFile(path, { freqPpm, skewPpm }).catch((error) =>
        log.log("warning", `Could not write driftfile ${path}: ${errorMessage(error)}`)
      );
    };
  }
  const logFiles = LogFiles.fromConfig(config, { log });
  if (logFiles !== null) attachLogFiles(engine, logFiles);
  engine.reference.leapTable = loadLeapTable(config, log);
  const tempComp = edge.startTempComp(config, engine.clock, logFiles, log, !options.oneShot);
  const rtc = options.oneShot === null ? openRtc(config, engine, log, options.setFromRtc) : null;

  const resolve = async (name: string) => {
    const r = await resolveHost(name);
    if (!r.ok) throw new Error(r.error);
    return r.addresses;
  };
  const nts = ntsClientsFor(config, engine, { exchange: ntsKeExchange, resolve, timers, log });
  const sources = new SourceManager(engine, resolve, timers, log, nts.connector());
  engine.onReplaceSource = (id) => void sources.replace(id);
  if (options.oneShot !== null && config.refclocks.length > 0) {
    throw new StartupError(
      `refclock (${config.refclocks[0].origin}) is not supported with -q/-Q yet`,
    );
  }
  let refclocks: RefclockDriverHandle[];
  try {
    refclocks = openRefclocks(
      config.refclocks,
      engine,
      log,
      config,
      (t) => driver.rawFromRealtime?.(t) ?? t,
    );
  } catch (e) {
    throw new StartupError(errorMessage(e));
  }

  const ntpAccess = AccessTable.fromRules(config.ntpAccess);
  for (const e of ntpAccess.errors) log.log("warning", `allow/deny: ${e}`);
  const cmdAccess = AccessTable.fromRules(config.cmdAccess, { loopbackAlwaysAllowed: true });
  for (const e of cmdAccess.errors) log.log("warning", `cmdallow/cmddeny: ${e}`);
  const clientLog = new ClientLog({
    limitBytes: config.clientLogLimit,
    disabled: config.noClientLog,
    ntpRateLimit: config.rateLimit,
    random: () => random.next(),
  });
  engine.clock.addObserver((change) => {
    if (change.kind !== "adjust") clientLog.applyClockStep(change.doffset);
  });

  return {
    config,
    keys,
    logging,
    log,
    driver,
    pidFile,
    runUser,
    timers,
    random,
    engine,
    transport: openClientTransport(engine, log, acquisition),
    tempComp,
    logName: options.logName,
    sources,
    nts,
    rtc,
    refclocks,
    logFiles,
    ntpAccess: ntpAccess.table,
    cmdAccess: cmdAccess.table,
    clientLog,
  };
}

/** RTC tracking over the engine's clock (a failure is logged and leaves it off). */
function openRtc(
  config: Config,
  engine: Engine,
  log: LogPort,
  setFromRtc: boolean,
): RtcService | null {
  if (config.rtcFile === null) return null;
  try {
    const rtc = new RtcService(config, {
      cookedNow: () => engine.clock.cookedNow(),
      synchronised: () => engine.referenceState().synchronised,
      slew: (offset) => engine.clock.accumulateOffset(offset, 1.0),
      log,
    }, setFromRtc);
    engine.clock.addObserver((change) => rtc.applyClockChange(change));
    return rtc;
  } catch (error) {
    log.log("warning", `RTC tracking disabled: ${errorMessage(error)}`);
    return null;
  }
}

/**
 * The client transport over the engine's clock: kernel timestamps when the libc sockets work,
 * else Deno sockets. Replies, transmit timestamps and late send failures go to the engine.
 */
function openClientTransport(
  engine: Engine,
  log: LogPort,
  acquisition: ReturnType<typeof edge.clientSocketOptions>,
): ClientTransport {
  const cookedNow = () => engine.clock.cookedNow();
  const deliver = (id: number, packet: Uint8Array, rx: Instant, rxKernel = false) =>
    engine.receiveReply(id, packet, rx, rxKernel);
  const replyWaitSeconds = 3 + 4; // chrony: maxdelay + 4 s
  if (!kernelSocketsAvailable()) {
    return new UdpClientTransport(cookedNow, deliver, replyWaitSeconds * 1000);
  }
  return new KernelClientTransport({
    clock: engine.clock,
    deliver,
    replyWaitSeconds,
    timing: DEFAULT_CLIENT_SEND_TIMING,
    log,
    onTransmitted: (id, tx) => engine.transmitted(id, tx),
    onSendFailed: (id) => engine.sendFailed(id),
    ...acquisition,
  });
}

/**
 * The reference ID of this host's own address (orphan mode compares it, test D checks it
 * against a source's refid): the first IPv4 bind address, else the first non-loopback IPv4
 * interface address.
 */
function localRefId(config: Config): number | undefined {
  const candidates = [
    ...config.bindAddresses,
    ...Deno.networkInterfaces().filter((i) => i.family === "IPv4").map((i) => i.address),
  ];
  const address = candidates.find((a) => parseIpv4(a) !== null && !a.startsWith("127."));
  return address === undefined ? undefined : refIdFromAddress(address) ?? undefined;
}
