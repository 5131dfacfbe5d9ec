/**
 * Configuration of broadcast, multicast and manycast (the ntpd association modes chrony has
 * only the server half of): what to send, what to listen to, and the bounds.
 *
 * @module
 */
import type { SourceParams } from "./model.ts";

/** chrony's `broadcast INTERVAL ADDRESS [PORT]`, with tempus's `key` and `ttl` options. */
export interface BroadcastTarget {
  /** Seconds between mode-5 packets. */
  interval: number;
  /** Broadcast or multicast address (IP literal). */
  address: string;
  /** Destination UDP port (chrony default 123). */
  port: number;
  /** Symmetric key to sign with (null: unauthenticated, as chrony). */
  key: number | null;
  /** Multicast TTL / IPv6 hop limit (ntpd's `ttl`; default 1). */
  ttl: number;
}

/** ntpd's `broadcastclient` / `multicastclient`: who may become a broadcast source. */
export interface BroadcastClientConfig {
  /** Listen for broadcasts on the NTP port (`broadcastclient`). */
  broadcast: boolean;
  /** Multicast groups joined on the NTP server socket (`multicastclient`). */
  groups: string[];
  /**
   * Accept broadcasts without a MAC (`unauthenticated` option). Off by default: anyone on
   * the segment can send mode 5, so only broadcasts signed with a key of the keyfile count.
   */
  unauthenticated: boolean;
  /** Skip the client/server delay calibration (ntpd's `novolley`): use `broadcastdelay`. */
  novolley: boolean;
  /** Most broadcast/multicast associations mobilised at once (`maxsources`). */
  maxSources: number;
}

/** ntpd's `manycastclient ADDRESS [options]`. */
export interface ManycastClientConfig {
  /** The multicast group solicited. */
  group: string;
  /** Options of the associations mobilised (server options; `maxsources` is the bound). */
  params: SourceParams;
}

/** Everything broadcast, multicast and manycast. */
export interface BroadcastConfig {
  /** `broadcast` lines. */
  targets: BroadcastTarget[];
  /** `broadcastclient` / `multicastclient` (null: mode 5 is ignored). */
  client: BroadcastClientConfig | null;
  /** `broadcastdelay`: the one-way delay assumed without calibration, seconds (ntpd 0.004). */
  delay: number;
  /** `manycastserver` groups joined by the NTP server socket. */
  manycastServers: string[];
  /** `manycastclient` lines. */
  manycastClients: ManycastClientConfig[];
}

/** ntpd's default `broadcastdelay`, seconds. */
export const DEFAULT_BROADCAST_DELAY = 0.004;
/** Default bound of broadcast/multicast associations (chrony's pool `maxsources` default). */
export const DEFAULT_BROADCAST_MAX_SOURCES = 4;
/** ntpd's default multicast group (IPv4). */
export const NTP_MULTICAST_V4 = "224.0.1.1";

/** A configuration with nothing of broadcast, multicast or manycast. */
export function emptyBroadcastConfig(): BroadcastConfig {
  return {
    targets: [],
    client: null,
    delay: DEFAULT_BROADCAST_DELAY,
    manycastServers: [],
    manycastClients: [],
  };
}
