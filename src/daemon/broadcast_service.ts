/**
 * The daemon's broadcast edge: the socket options the NTP server socket needs (SO_BROADCAST,
 * multicast TTL, the groups of multicastclient and manycastserver), the broadcast server's
 * timers (one per `broadcast` line, sending core's mode-5 packet from the server port), and
 * the broadcast client routing the server's mode-5 datagrams go to.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { BroadcastConfig, BroadcastTarget } from "../config/model_broadcast.ts";
import { buildBroadcastPacket } from "../core/broadcast_server.ts";
import { BroadcastClients } from "../core/engine/broadcast_clients.ts";
import type { KeyStore, SymmetricKey } from "../ntp/keyfile.ts";
import type { LogPort, TimerHandle } from "../base/ports.ts";
import { enableBroadcast, joinMulticastGroup, setMulticastTtl } from "../../ffi/multicast.ts";
import type { NtpServerHandle } from "../io/ntp_server.ts";
import type { DaemonParts } from "./build.ts";

/** The broadcast part of `config` when it asks for anything, else null. */
export function broadcastConfig(config: Config): BroadcastConfig | null {
  const b = config.broadcast;
  if (b === undefined) return null;
  const any = b.targets.length > 0 || b.client !== null || b.manycastServers.length > 0 ||
    b.manycastClients.length > 0;
  return any ? b : null;
}

/** True when broadcast or multicast needs the NTP server socket even without `allow`. */
export function needsServerSocket(config: Config): boolean {
  const b = broadcastConfig(config);
  return b !== null && (b.targets.length > 0 || b.client !== null || b.manycastServers.length > 0);
}

/** The server socket options and, once the sockets are open, the groups none could join. */
export interface ServerSocketOptions {
  /** Sets the options on one socket before bind. */
  configure: (fd: number, family: number) => void;
  /** Groups no socket joined (an IPv6 group with only IPv4 sockets): to refuse at start-up. */
  unjoined(): string[];
}

/**
 * The options to set on each NTP server socket before bind, or undefined when none is
 * needed. IPv6 groups are joined only on IPv6 sockets; IPv4 groups on either.
 */
export function serverSocketOptions(config: Config): ServerSocketOptions | undefined {
  const b = broadcastConfig(config);
  if (b === null) return undefined;
  const groups = [...(b.client?.groups ?? []), ...b.manycastServers];
  const ttl = Math.max(1, ...b.targets.map((t) => t.ttl));
  if (b.targets.length === 0 && groups.length === 0) return undefined;
  const joined = new Set<string>();
  return {
    configure: (fd, family) => {
      if (b.targets.length > 0) {
        enableBroadcast(fd);
        setMulticastTtl(fd, family, ttl);
      }
      for (const g of groups) {
        const v6 = g.includes(":");
        if (v6 && family !== 10) continue;
        joinMulticastGroup(fd, family, g);
        joined.add(g);
      }
    },
    unjoined: () => groups.filter((g) => !joined.has(g)),
  };
}

/** The keys the broadcast lines name; throws one clear error for a missing one. */
function targetKeys(targets: BroadcastTarget[], keys: KeyStore): (SymmetricKey | null)[] {
  return targets.map((t) => {
    if (t.key === null) return null;
    const key = keys.get(t.key);
    if (key === null) throw new Error(`broadcast ${t.address} uses key ${t.key}, not in keyfile`);
    return key;
  });
}

/** The running broadcast server. */
export interface BroadcastSender {
  /** Packets sent and send failures. */
  readonly counts: { sent: number; failed: number };
  /** Stops the timers. */
  stop(): void;
}

/**
 * Starts one timer per `broadcast` line: every INTERVAL seconds (the first after one
 * interval, as chrony) a mode-5 packet built from the reference state is sent from the
 * server socket. Throws when a named key is missing.
 */
export function startBroadcastSender(
  targets: BroadcastTarget[],
  server: NtpServerHandle,
  deps: Pick<DaemonParts, "keys" | "timers" | "engine" | "log">,
): BroadcastSender {
  const keys = targetKeys(targets, deps.keys);
  const cookedNow = () => deps.engine.clock.cookedNow();
  const handles = new Map<number, TimerHandle>();
  const counts = { sent: 0, failed: 0 };
  let stopped = false;
  const arm = (i: number) => {
    const t = targets[i];
    handles.set(
      i,
      deps.timers.setTimer(t.interval, () => {
        if (stopped) return;
        arm(i);
        const reference = deps.engine.referenceState();
        const packet = buildBroadcastPacket(reference, t.interval, keys[i], cookedNow);
        void server.send(packet, t.address, t.port).then((error) => {
          if (error === null) counts.sent++;
          else if (++counts.failed === 1 || counts.failed % 100 === 0) {
            deps.log.log("warning", `Broadcast to ${t.address} port ${t.port} failed: ${error}`);
          }
        });
      }),
    );
  };
  targets.forEach((t, i) => {
    arm(i);
    const key = keys[i] === null ? "" : ` with key ${t.key}`;
    deps.log.log("info", `Broadcasting to ${t.address} port ${t.port} every ${t.interval} s${key}`);
  });
  return {
    counts,
    stop() {
      stopped = true;
      for (const h of handles.values()) deps.timers.cancelTimer(h);
    },
  };
}

/**
 * The broadcast client routing for `config` (null without broadcastclient or
 * multicastclient): the NTP server's `onBroadcast`.
 */
export function broadcastClientRouting(
  { config, engine, keys, random }: Pick<DaemonParts, "config" | "engine" | "keys" | "random">,
  log: LogPort,
): BroadcastClients | null {
  const b = broadcastConfig(config);
  if (b === null || b.client === null) return null;
  const clients = new BroadcastClients(engine, {
    client: b.client,
    delay: b.delay,
    keys,
    random,
    maxClockError: config.maxClockError,
  });
  const what = [b.client.broadcast ? "broadcasts" : "", ...b.client.groups].filter((w) => w);
  log.log(
    "info",
    `Listening for ${what.join(", ")} (${
      b.client.unauthenticated ? "unauthenticated accepted" : "authenticated only"
    }, at most ${b.client.maxSources} servers)`,
  );
  return clients;
}
