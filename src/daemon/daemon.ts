/**
 * `tempus daemon`: wires configuration, clock driver, engine, sources, the NTP server and
 * the command servers together, and runs them until SIGTERM/SIGINT or `shutdown`.
 *
 * Start-up order: configuration → logging → clock driver (refuses clock control without
 * CAP_SYS_TIME unless -x) → pidfile → driftfile → engine → sources → NTP server → command
 * servers → privilege drop → sd_notify READY=1. Shutdown writes the driftfile atomically.
 *
 * @module
 */
import type { Config, SourceConfig } from "../config/model.ts";
import { DEFAULT_SOURCE_PARAMS } from "../config/defaults.ts";
import { denoConfReader, parseChronyConfText } from "../config/chrony_conf.ts";
import { formatDiagnostics, loadConfig } from "../config/load.ts";
import type { ConfParseResult } from "../config/load.ts";
import type { ClockDriver, LogPort, NtpTransport } from "../core/ports.ts";
import type { AddSourceRequest, ControlResult } from "../core/control.ts";
import type { TrackingReport } from "../core/reports.ts";
import type { Instant } from "../core/time.ts";
import { Engine, type OneShotResult } from "../core/engine.ts";
import { AccessTable } from "../core/access.ts";
import { ClientLog } from "../core/client_log.ts";
import { loadKeyFile } from "./keys.ts";
import { NullClockDriver } from "../clock/null.ts";
import { clockPermissionError, LinuxClockDriver } from "../clock/linux.ts";
import { RealTimers } from "../io/timers.ts";
import { CryptoRandom } from "../io/random.ts";
import { sdNotify } from "../io/sd_notify.ts";
import { acquirePidFile, releasePidFile } from "../io/pidfile.ts";
import { readDriftFile, writeDriftFile } from "../io/driftfile.ts";
import { ensureDirSync } from "../io/files.ts";
import type { Logging } from "../io/logging.ts";
import { UdpClientTransport } from "../io/udp.ts";
import {
  KernelClientTransport,
  kernelClientTransportAvailable,
} from "../io/kernel_client_transport.ts";
import { resolveHost } from "../io/dns.ts";
import { type NtpServerHandle, startNtpServer } from "../io/ntp_server.ts";
import { type CommandServer, startCommandServer } from "../cmdmon/server_io.ts";
import { openCommandsFromNames } from "../cmdmon/server.ts";
import { CAP_SYS_TIME } from "../../ffi/caps.ts";
import { dropPrivileges } from "../../ffi/privileges.ts";
import { SourceManager } from "./sources.ts";
import { parseIpv4 } from "../ntp/ip.ts";
import { refIdFromAddress } from "../ntp/packet.ts";
import { RtcService, setClockFromRtc } from "./rtc_service.ts";
import { attachLogFiles } from "./log_writer.ts";
import { LogFiles } from "../io/log_files.ts";
import * as edge from "./edge_options.ts";
import { DaemonControl } from "./control.ts";
import type { DaemonOptions } from "./args.ts";

/** A running daemon, for the CLI and for tests. */
export interface RunningDaemon {
  /** The configuration in force. */
  config: Config;
  /** The engine. */
  engine: Engine;
  /** The control surface the command servers use. */
  control: DaemonControl;
  /** The NTP server, when one was started. */
  ntpServer: NtpServerHandle | null;
  /** The command server, when one was started. */
  commandServer: CommandServer | null;
  /** Resolves with the exit code once the daemon has shut down. */
  finished: Promise<number>;
  /** Asks the daemon to shut down with `code`. */
  stop(code?: number): void;
}

/** Thrown by `startDaemon` for a start-up failure that should end with one clear line. */
export class StartupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Loads the configuration the options ask for. */
export function loadDaemonConfig(options: DaemonOptions): Promise<ConfParseResult> {
  if (options.configLines.length > 0) {
    return Promise.resolve(
      parseChronyConfText(options.configLines.join("\n"), "(command line)", denoConfReader()),
    );
  }
  return loadConfig(options.configFile);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/** Formats a one-shot result like chronyd: "System clock wrong by X seconds (...)". */
export function formatOneShot(result: OneShotResult): string {
  // chrony prints the NTP-convention offset (reference minus local): tempus's own sign.
  const what = result.action === "print" ? "ignored" : result.action;
  return `System clock wrong by ${result.offset.toFixed(6)} seconds (${what})`;
}

/** Starts the daemon; throws StartupError on a configuration or permission problem. */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  // Logging first, so that configuration warnings reach the -l file too.
  const logging: Logging = edge.daemonLogging(options, logLevelFor(options));
  const log: LogPort = logging.port("daemon");
  const parsed = await loadDaemonConfig(options);
  for (const w of formatDiagnostics(parsed.warnings)) log.log("warning", w);
  if (!parsed.ok) throw new StartupError(formatDiagnostics(parsed.errors).join("\n"));
  const config = parsed.config;
  edge.applyHwclockFile(config, log);
  const keys = loadKeyFile(config);
  for (const w of keys.warnings) log.log("warning", w);
  if (keys.errors.length > 0) throw new StartupError(keys.errors.join("\n"));

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
      acquirePidFile(pidFile);
    } catch (error) {
      throw new StartupError(describe(error));
    }
  }

  for (const file of [config.driftFile, config.rtcFile]) {
    if (file === null || !file.includes("/")) continue;
    try {
      ensureDirSync(file.slice(0, file.lastIndexOf("/")) || "/");
    } catch (error) {
      log.log("warning", `Could not create the directory of ${file}: ${describe(error)}`);
    }
  }

  let initialDrift: { freqPpm: number; skewPpm: number } | null = null;
  if (config.driftFile !== null) {
    const drift = readDriftFile(config.driftFile);
    if (drift.warning !== null) log.log("warning", drift.warning);
    initialDrift = drift.drift;
    if (initialDrift !== null) {
      log.log("info", `Frequency ${(-initialDrift.freqPpm).toFixed(3)} ppm read from driftfile`);
    }
  }

  const timers = new RealTimers();
  const random = new CryptoRandom();
  let engineRef: Engine | null = null;
  const cookedNow = () => engineRef?.clock.cookedNow() ?? driver.readRawTime();
  const deliver = (id: number, packet: Uint8Array, rx: Instant) =>
    engineRef?.receiveReply(id, packet, rx);
  const replyWaitSeconds = 3 + 4; // chrony: maxdelay + 4 s
  const acquisition = edge.clientSocketOptions(config); // throws when it cannot be honoured
  const transport: NtpTransport & { close?: () => void } = kernelClientTransportAvailable()
    ? new KernelClientTransport({
      cookedNow,
      deliver,
      replyWaitSeconds,
      log,
      onTransmitted: (id, tx) => engineRef?.transmitted(id, tx),
      onSendFailed: (id) => engineRef?.sendFailed(id),
      rawNow: () => engineRef?.clock.rawNow() ?? driver.readRawTime(),
      cookRaw: (raw) => engineRef?.clock.cook(raw) ?? raw,
      ...acquisition,
    })
    : new UdpClientTransport(cookedNow, deliver, replyWaitSeconds * 1000);

  let resolveFinished: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => resolveFinished = r);
  let stopping = false;
  let exitCode = 0;
  const stop = (code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    queueMicrotask(() => void shutdown());
  };

  const engine = new Engine(
    config,
    { driver, timers, random, log: logging.port("engine"), transport },
    initialDrift,
    options.oneShot === null ? { keys: keys.keys, localRefId: localRefId(config) } : {
      keys: keys.keys,
      localRefId: localRefId(config),
      oneShot: {
        action: options.oneShot === "print" ? "print" : "step",
        onResult: (result) => {
          console.log(formatOneShot(result));
          stop(0);
        },
      },
    },
  );
  engineRef = engine;
  engine.onFatal = (message) => {
    log.log("error", message);
    stop(1);
  };
  if (config.driftFile !== null) {
    const path = config.driftFile;
    engine.onDriftUpdate = (freqPpm, skewPpm) => {
      writeDriftFile(path, { freqPpm, skewPpm }).catch((error) =>
        log.log("warning", `Could not write driftfile ${path}: ${describe(error)}`)
      );
    };
  }

  const logFiles = LogFiles.fromConfig(config, { log });
  if (logFiles !== null) attachLogFiles(engine, logFiles);

  let rtc: RtcService | null = null;
  if (config.rtcFile !== null && options.oneShot === null) {
    try {
      rtc = new RtcService(config, {
        cookedNow: () => engine.clock.cookedNow(),
        synchronised: () => engine.referenceState().synchronised,
        slew: (offset) => engine.clock.accumulateOffset(offset, 1.0),
        log,
      }, options.setFromRtc);
      const service = rtc;
      engine.clock.addObserver((change) => service.applyClockChange(change));
    } catch (error) {
      log.log("warning", `RTC tracking disabled: ${describe(error)}`);
    }
  }

  const sources = new SourceManager(
    engine,
    async (name) => {
      const r = await resolveHost(name);
      if (!r.ok) throw new Error(r.error);
      return r.addresses;
    },
    timers,
    log,
  );
  engine.onReplaceSource = (id) => void sources.replace(id);

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

  engine.start();
  engine.reference.leapTable = edge.leapTable(config, log);
  const tempComp = edge.startTempComp(config, engine.clock, logFiles, log, !options.oneShot);
  for (const source of config.sources) void sources.add(source);

  let ntpServer: NtpServerHandle | null = null;
  if (config.port > 0 && config.ntpAccess.length > 0 && options.oneShot === null) {
    try {
      ntpServer = await startNtpServer({ hosts: config.bindAddresses, port: config.port }, {
        readCookedTime: () => engine.clock.cookedNow(),
        reference: () => engine.referenceState(),
        policy: {
          access: ntpAccess.table,
          clientLog: config.noClientLog ? null : clientLog,
          keys: keys.keys,
        },
        log: logging.port("ntp"),
      });
    } catch (error) {
      throw new StartupError(
        `Could not open NTP server socket on port ${config.port}: ${describe(error)}`,
      );
    }
  }

  const control = new DaemonControl(engine, engine, {
    adjustTracking: driver instanceof NullClockDriver
      ? (report: TrackingReport) => ({
        ...report,
        systemTimeOffset: driver.virtualOffsetSeconds() + engine.clock.remainingCorrection(),
      })
      : undefined,
    unresolvedSources: () => sources.unresolvedCount,
    serverStats: () => clientLog.serverStats(),
    clients: () => clientLog.clients(engine.clock.cookedNow()),
    sourceName: (address) =>
      engine.sourceName(address) ?? (engine.ntpData(address) !== null ? address : null),
    addSource: (request) => addSource(sources, request),
    deleteSource: (address) =>
      sources.removeByAddress(address) ? { ok: true } : engine.deleteSource(address),
    ntpAccess: (subnet, allow, all) =>
      accessResult(
        allow ? ntpAccess.table.allow(subnet ?? "", all) : ntpAccess.table.deny(subnet ?? "", all),
      ),
    cmdAccess: (subnet, allow, all) =>
      accessResult(
        allow ? cmdAccess.table.allow(subnet ?? "", all) : cmdAccess.table.deny(subnet ?? "", all),
      ),
    ntpAccessCheck: (address) => ntpAccess.table.isAllowed(address),
    cmdAccessCheck: (address) => cmdAccess.table.isAllowed(address),
    refresh: () => {
      void sources.refresh();
      return { ok: true };
    },
    dump: () => ({ ok: true }),
    cycleLogs: () => {
      logging.reopen();
      logFiles?.reopen();
      return { ok: true };
    },
    rtcReport: () => rtc?.report() ?? null,
    writeRtc: () => {
      if (rtc === null) return { ok: false, status: "nortc" };
      void rtc.write();
      return { ok: true };
    },
    trimRtc: () => rtc?.trim() ?? { ok: false, status: "nortc" },
    shutdown: () => {
      stop(0);
      return { ok: true };
    },
  });

  let commandServer: CommandServer | null = null;
  if (options.oneShot === null) {
    commandServer = await openCommandServer(
      config,
      control,
      cmdAccess.table,
      clientLog,
      () => engine.clock.cookedNow(),
      log,
    );
  }

  edge.tuneListeningSockets(
    config,
    ntpServer?.addresses[0]?.port ?? null,
    commandServer?.udpPorts.values() ?? [],
  );

  if (options.user !== null && options.user !== "root") {
    try {
      const account = dropPrivileges(options.user, options.noClockControl ? [] : [CAP_SYS_TIME]);
      log.log("info", `Running as ${account.name} (uid ${account.uid})`);
    } catch (error) {
      throw new StartupError(`Could not switch to user ${options.user}: ${describe(error)}`);
    }
  }

  const onTerm = () => stop(0);
  const onHup = () => {
    logging.reopen();
    logFiles?.reopen();
  };
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onTerm);
  Deno.addSignalListener("SIGHUP", onHup);
  void sdNotify("READY=1");

  async function shutdown(): Promise<void> {
    log.log("info", `${options.logName} exiting`);
    Deno.removeSignalListener("SIGTERM", onTerm);
    Deno.removeSignalListener("SIGINT", onTerm);
    Deno.removeSignalListener("SIGHUP", onHup);
    sources.close();
    tempComp?.stop();
    engine.onDriftUpdate = null; // written once below, not also from the final flush
    engine.stop();
    if (config.driftFile !== null) {
      const drift = engine.reference.driftValues();
      try {
        await writeDriftFile(config.driftFile, drift);
      } catch (error) {
        log.log("warning", `Could not write driftfile: ${describe(error)}`);
      }
    }
    await rtc?.close();
    await ntpServer?.close();
    await commandServer?.close();
    transport.close?.();
    timers.cancelAll();
    if (pidFile !== null) releasePidFile(pidFile);
    await logging.close();
    resolveFinished(exitCode);
  }

  return { config, engine, control, ntpServer, commandServer, finished, stop };
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

function accessResult(r: { ok: true } | { ok: false; error: string }): ControlResult {
  return r.ok ? { ok: true } : { ok: false, status: "badsubnet", message: r.error };
}

async function addSource(
  sources: SourceManager,
  request: AddSourceRequest,
): Promise<ControlResult> {
  const params = { ...DEFAULT_SOURCE_PARAMS, port: request.port };
  const p = params as unknown as Record<string, number | boolean | null>;
  for (const [key, value] of Object.entries(request.options)) {
    if (!(key in p)) return { ok: false, status: "invalid", message: `unknown option ${key}` };
    p[key] = value;
  }
  const config: SourceConfig = {
    type: request.type,
    name: request.name,
    params,
    origin: "(chronyc add)",
  };
  await sources.add(config);
  return { ok: true };
}

/**
 * Read-only reports served over UDP: chrony's default open commands plus ntpdata,
 * serverstats and selectdata (reports only; every command that changes something needs the
 * Unix socket).
 */
const UDP_OPEN_COMMANDS = openCommandsFromNames([
  "activity",
  "manual",
  "rtcdata",
  "smoothing",
  "sourcename",
  "sources",
  "sourcestats",
  "tracking",
  "ntpdata",
  "serverstats",
  "selectdata",
]);

/** Opens the UDP and Unix command sockets (a host that cannot be bound is logged and skipped). */
function openCommandServer(
  config: Config,
  control: DaemonControl,
  cmdAccess: AccessTable,
  clientLog: ClientLog,
  now: () => Instant,
  log: LogPort,
): Promise<CommandServer> {
  const udpHosts = config.cmdPort > 0
    ? config.bindCmdAddresses.filter((h) => !h.startsWith("/"))
    : [];
  return startCommandServer(
    {
      udpHosts,
      port: config.cmdPort,
      socketPath: config.cmdSocket,
      allowUdp: (address: string) => cmdAccess.isAllowed(address),
      openCommands: UDP_OPEN_COMMANDS,
      onCommand: (address) => {
        if (address !== null) clientLog.cmdRequest(address, now(), true);
      },
    },
    control,
    log,
  );
}
