/**
 * chrony's socket directives at the daemon's edge: `binddevice` and `dscp` on the NTP server
 * sockets, `bindcmddevice` on the UDP command sockets, `bindacqaddress`, `bindacqdevice` and
 * `dscp` on the client request sockets. Server and command sockets are found by their bound
 * port (/proc), so the modules that open them need not know these directives.
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import { parseIpAddress } from "../config/subnet.ts";
import {
  applySocketTuning,
  ownUdpSocketsOnPort,
  type SocketTuning,
} from "../../ffi/socket_options.ts";

/** The tuning of the NTP server sockets (binddevice, dscp), or null when there is none. */
export function serverTuning(config: Config): SocketTuning | null {
  const device = config.bindDevice ?? null;
  const dscp = config.dscp ?? 0;
  return device === null && dscp === 0 ? null : { device, dscp };
}

/** The tuning of the client request sockets (bindacqdevice, dscp), or null. */
export function clientTuning(config: Config): SocketTuning | null {
  const device = config.bindAcqDevice ?? null;
  const dscp = config.dscp ?? 0;
  return device === null && dscp === 0 ? null : { device, dscp };
}

/** The tuning of the UDP command sockets (bindcmddevice), or null. */
export function commandTuning(config: Config): SocketTuning | null {
  const device = config.bindCmdDevice ?? null;
  return device === null ? null : { device, dscp: null };
}

/** bindacqaddress split by family (null: the wildcard). */
export function acquisitionAddresses(config: Config): { v4: string | null; v6: string | null } {
  const list = config.bindAcqAddresses ?? [];
  return {
    v4: list.find((a) => parseIpAddress(a)?.family === 4) ?? null,
    v6: list.find((a) => parseIpAddress(a)?.family === 6) ?? null,
  };
}

/** A `configure` hook for new client sockets applying `tuning`. */
export function socketConfigurer(tuning: SocketTuning): (fd: number, family: number) => void {
  return (fd, family) => applySocketTuning(fd, family, tuning);
}

/**
 * Applies `tuning` to every UDP socket of this process bound to `port`; returns how many.
 * Throws (ErrnoError, e.g. ENODEV for an unknown interface) on the first failure.
 */
export function tuneBoundSockets(port: number, tuning: SocketTuning): number {
  const sockets = ownUdpSocketsOnPort(port);
  for (const s of sockets) applySocketTuning(s.fd, s.family, tuning);
  return sockets.length;
}
