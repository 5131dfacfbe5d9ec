/**
 * Serving: the engine starts polling, configured sources are added, the NTP server and the
 * command servers open, and the control surface chronyc-style commands reach is composed.
 *
 * @module
 */
import type { ControlResult } from "../core/control.ts";
import type { TrackingReport } from "../core/reports.ts";
import { NullClockDriver } from "../clock/null.ts";
import { type CommandServer, startCommandServer } from "../cmdmon/server_io.ts";
import { openCommandsFromNames } from "../cmdmon/server.ts";
import { type NtpServerHandle, startNtpServer } from "../io/ntp_server.ts";
import { type NtsKeServerHandle, startNtsServer } from "./nts_server.ts";
import { mode6Control } from "./mode6.ts";
import { watchSmoothedSources } from "./smoothed_sources.ts";
import type { DaemonOptions } from "./args.ts";
import { type DaemonParts, StartupError } from "./build.ts";
import { errorMessage } from "../base/errors.ts";
import { DaemonControl } from "./control.ts";
import * as edge from "./edge_options.ts";
import { type OpsServices, startOpsServices } from "./ops_services.ts";
import { type SmoothingService, startSmoothing } from "./smoothing_service.ts";
import { type Maintenance, startMaintenance } from "./maintenance.ts";
import * as broadcast from "./broadcast_service.ts";
import type { BroadcastSender } from "./broadcast_service.ts";
import { type ManycastClients, startManycastClients } from "./manycast_service.ts";
import { startXdpService, type XdpService } from "./xdp_service.ts";

/** What serving opened. */
export interface Serving {
  /** The control surface the command servers use. */
  control: DaemonControl;
  /** The NTP server, when one was started. */
  ntpServer: NtpServerHandle | null;
  /** The command server, when one was started. */
  commandServer: CommandServer | null;
  /** ops: metrics endpoint, error-bound page, recording (ops_services.ts), or null. */
  ops: OpsServices | null;
  /** ops: smoothtime (smoothing_service.ts), or null. */
  smoothing: SmoothingService | null;
  /** The NTS-KE server (nts_server.ts), when ntsserverkey/ntsservercert are set. */
  ntsKe?: NtsKeServerHandle | null;
  /** The broadcast server (broadcast lines), or null. */
  broadcastSender?: BroadcastSender | null;
  /** The manycast clients (manycastclient lines), or null. */
  manycast?: ManycastClients | null;
  /** Dump files, reload sources, rekey (maintenance.ts). */
  maintenance: Maintenance;
  /** xdpserver (xdp_service.ts), or null. */
  xdp?: XdpService | null;
}

/**
 * Starts the engine and the sources, opens the NTP and command servers (not in one-shot
 * mode); `shutdown` is what the `shutdown` command asks for.
 */
export async function serve(
  parts: DaemonParts,
  options: DaemonOptions,
  shutdown: () => void,
): Promise<Serving> {
  const { config, engine, logging, log, clientLog } = parts;
  engine.start(parts.transport);
  // Configured sources, -r, dump, reload sources, rekey, authdata (maintenance.ts).
  const maintenance = startMaintenance(parts, options);

  // ops: smoothtime (served time smoothing, smoothing_service.ts)
  const smoothing = options.oneShot === null ? startSmoothing(config, engine) : null;
  let nts: ReturnType<typeof startNtsServer> = null;
  if (options.oneShot === null) {
    try {
      nts = startNtsServer(config, {
        log: logging.port("nts"),
        timers: parts.timers,
        ntpPort: config.port,
      });
    } catch (error) {
      throw new StartupError(`Could not start the NTS-KE server: ${errorMessage(error)}`);
    }
  }
  let ntpServer: NtpServerHandle | null = null;
  // broadcast, multicast, manycast (broadcast_service.ts): socket options, mode-5 routing
  const broadcastClients = broadcast.broadcastClientRouting(parts, logging.port("ntp"));
  // The NTP port opens for clients (allow/deny), for ntpq (mode6allow/mode6deny,
  // daemon/mode6.ts), for broadcast and for symmetric peers, which send from it (chrony);
  // without allow rules nobody else gets an answer.
  const peers = config.sources.some((s) => s.type === "peer");
  if (peers && config.port === 0) {
    log.log("warning", "port 0: symmetric peers need the NTP port and will send nothing");
  }
  const wantsServer = config.ntpAccess.length > 0 || (config.mode6Access ?? []).length > 0 ||
    broadcast.needsServerSocket(config) || peers;
  const socketOptions = broadcast.serverSocketOptions(config);
  if (config.port > 0 && wantsServer && options.oneShot === null) {
    try {
      ntpServer = await startNtpServer({
        hosts: config.bindAddresses,
        port: config.port,
        configure: socketOptions?.configure,
      }, {
        clock: smoothing === null ? engine.clock : {
          rawNow: () => engine.clock.rawNow(),
          cook: (raw) => smoothing.serve(engine.clock.cook(raw)),
        },
        reference: () => smoothing?.reference(engine.referenceState()) ?? engine.referenceState(),
        policy: {
          access: parts.ntpAccess,
          clientLog: config.noClientLog ? null : clientLog,
          keys: parts.keys,
          nts: nts?.authenticator ?? null,
        },
        log: logging.port("ntp"),
        peers: {
          receive: (from, data, rx, local) => engine.receivePeerPacket(from, data, rx, local),
          interleaved: config.sources.some((s) => s.type === "peer" && s.params.xleave),
          transmitted: (payload, tx) => engine.peerTransmitted(payload, tx),
        },
        onBroadcast: broadcastClients === null ? undefined : (data, from, rx) => {
          if (broadcastClients.receive(data, from, rx) === "mobilised") {
            log.log("info", `Broadcast server ${from.address} mobilised`);
          }
        },
        // mode 6, read-only, for ntpq (daemon/mode6.ts)
        control: mode6Control(config, {
          engine,
          servedNow: () => smoothing?.serve(engine.clock.cookedNow()) ?? engine.clock.cookedNow(),
          reference: () => smoothing?.reference(engine.referenceState()) ?? engine.referenceState(),
        }),
      });
      const server = ntpServer;
      engine.attachNtpPort({ send: (_id, to, bytes) => server.sendPeer(to, bytes) });
    } catch (error) {
      throw new StartupError(
        `Could not open NTP server socket on port ${config.port}: ${errorMessage(error)}`,
      );
    }
  }

  // xdpserver: plain IPv4 requests answered in the kernel (xdp_service.ts)
  const xdp = ntpServer === null ? null : startXdp(parts);
  const unjoined = ntpServer === null ? [] : socketOptions?.unjoined() ?? [];
  if (unjoined.length > 0) {
    xdp?.close();
    await ntpServer?.close();
    throw new StartupError(`No IPv6 server socket to join ${unjoined.join(", ")} (bindaddress)`);
  }
  const targets = broadcast.broadcastConfig(config)?.targets ?? [];
  let broadcastSender: BroadcastSender | null = null;
  let manycast: ManycastClients | null = null;
  try {
    if (ntpServer !== null && targets.length > 0) {
      broadcastSender = broadcast.startBroadcastSender(targets, ntpServer, parts);
    }
    if (options.oneShot === null) manycast = startManycastClients(config, parts);
  } catch (error) {
    throw new StartupError(errorMessage(error));
  }
  const control = daemonControl(parts, shutdown, smoothing, maintenance, nts?.ke ?? null, xdp);
  let commandServer: CommandServer | null = null;
  if (options.oneShot === null) {
    commandServer = await openCommandServer(parts, control);
  }
  // binddevice/dscp, bindcmddevice (dropin): on the sockets just opened, found by port.
  edge.tuneListeningSockets(
    config,
    ntpServer?.addresses[0]?.port ?? null,
    commandServer?.udpPorts.values() ?? [],
  );
  // ops: metrics endpoint, error-bound page, recordmeasurements (ops_services.ts)
  const ops = options.oneShot === null ? await startOpsServices(parts, control) : null;
  // RFC 8633: warn when smoothed and unsmoothed servers are mixed (daemon/smoothed_sources.ts)
  if (options.oneShot === null) watchSmoothedSources(engine, log);
  return {
    control,
    ntpServer,
    commandServer,
    ops,
    smoothing,
    maintenance,
    broadcastSender,
    manycast,
    ntsKe: nts?.ke ?? null,
    xdp,
  };
}

/** Starts `xdpserver` over the engine's served clock, or returns null (off, or not possible). */
function startXdp(parts: DaemonParts): XdpService | null {
  const { config, engine, driver } = parts;
  return startXdpService(config, {
    clock: {
      cook: (raw) => engine.clock.cook(raw),
      rawFromRealtime: (realtime) => driver.rawFromRealtime?.(realtime) ?? realtime,
      rawRateError: () => driver instanceof NullClockDriver ? driver.readFrequencyPpm() * 1e-6 : 0,
      onChange: (fn) => {
        engine.clock.addObserver(() => fn());
        engine.clock.addRateObserver(fn);
        const previous = engine.onReferenceUpdated;
        engine.onReferenceUpdated = (update) => {
          previous?.(update);
          fn();
        };
      },
    },
    reference: () => engine.referenceState(),
    access: parts.ntpAccess,
    timers: parts.timers,
    log: parts.logging.port("ntp"),
  });
}

/** The daemon's EngineControl over the engine and the daemon's own services. */
function daemonControl(
  parts: DaemonParts,
  shutdown: () => void,
  smoothing: SmoothingService | null,
  maintenance: Maintenance,
  ntsKe: NtsKeServerHandle | null = null,
  xdp: XdpService | null = null,
): DaemonControl {
  const { engine, driver, sources, clientLog, ntpAccess, cmdAccess, rtc } = parts;
  return new DaemonControl(engine, engine, {
    adjustTracking: driver instanceof NullClockDriver
      ? (report: TrackingReport) => ({
        ...report,
        systemTimeOffset: driver.virtualOffsetSeconds() + engine.clock.remainingCorrection(),
      })
      : undefined,
    unresolvedSources: () => sources.unresolvedCount,
    serverStats: () => {
      const stats = xdp?.serverStats(clientLog.serverStats()) ?? clientLog.serverStats();
      if (ntsKe === null) return stats;
      // NTS-KE connections (nts_server.ts): accepted = served or failed, dropped = limited.
      const ke = ntsKe.stats();
      return { ...stats, ntsKeHits: ke.served + ke.failed, ntsKeDrops: ke.limited };
    },
    clients: () => {
      const reports = clientLog.clients(engine.clock.cookedNow());
      return xdp?.clients(reports) ?? reports;
    },
    sourceName: (address) =>
      engine.sourceName(address) ?? (engine.ntpData(address) !== null ? address : null),
    deleteSource: (address) =>
      sources.removeByAddress(address) ? { ok: true } : engine.deleteSource(address),
    ntpAccess: (subnet, allow, all) => {
      const result = allow ? ntpAccess.allow(subnet ?? "", all) : ntpAccess.deny(subnet ?? "", all);
      xdp?.accessChanged();
      return accessResult(result);
    },
    cmdAccess: (subnet, allow, all) =>
      accessResult(allow ? cmdAccess.allow(subnet ?? "", all) : cmdAccess.deny(subnet ?? "", all)),
    ntpAccessCheck: (address) => ntpAccess.isAllowed(address),
    cmdAccessCheck: (address) => cmdAccess.isAllowed(address),
    refresh: () => {
      void sources.refresh();
      return { ok: true };
    },
    cycleLogs: () => {
      parts.logging.reopen();
      parts.logFiles?.reopen();
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
      shutdown();
      return { ok: true };
    },
    smoothing: smoothing ? () => smoothing.report() : undefined,
    smoothTime: smoothing ? (action) => smoothing.smoothTime(action) : undefined,
    ...maintenance.services,
  });
}

function accessResult(r: { ok: true } | { ok: false; error: string }): ControlResult {
  return r.ok ? { ok: true } : { ok: false, status: "badsubnet", message: r.error };
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
function openCommandServer(parts: DaemonParts, control: DaemonControl): Promise<CommandServer> {
  const { config, cmdAccess, clientLog, engine, log, runUser } = parts;
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
      socketOwner: runUser,
      onCommand: (address) => {
        if (address !== null) clientLog.cmdRequest(address, engine.clock.cookedNow(), true);
        else clientLog.cmdLocalRequest();
      },
    },
    control,
    log,
  );
}
