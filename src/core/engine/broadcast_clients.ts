/**
 * Routing of broadcasts to broadcast client associations (ntpd's broadcastclient and
 * multicastclient): a broadcast from a known server goes to its association; one from an
 * unknown server mobilises a new association only when it is authenticated as required
 * (a key of the keyfile, or no MAC with `unauthenticated`), comes from a synchronised
 * server, and the number of broadcast associations is below the bound (`maxsources`); at the
 * bound, associations silent for a whole reachability register make room.
 * Everything else is dropped and counted.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS } from "../../config/defaults.ts";
import type { BroadcastClientConfig } from "../../config/model_broadcast.ts";
import type { KeyStore } from "../../ntp/keyfile.ts";
import type { RandomPort, SocketAddress } from "../../base/ports.ts";
import type { Instant } from "../../base/time.ts";
import { BroadcastClientSource } from "../source/broadcast_client.ts";
import { checkBroadcast } from "../source/broadcast_measure.ts";
import type { EngineInputs } from "./inputs.ts";

/** What the routing needs besides the engine. */
export interface BroadcastClientsOptions {
  /** broadcastclient / multicastclient options. */
  client: BroadcastClientConfig;
  /** broadcastdelay, seconds (one way). */
  delay: number;
  /** The keyfile's keys (null: none). */
  keys: KeyStore | null;
  /** Randomness for the volleys. */
  random: RandomPort;
  /** maxclockerror, ppm. */
  maxClockError: number;
}

/** What happened to broadcasts, counted. */
export interface BroadcastClientStats {
  /** Handed to a known association. */
  routed: number;
  /** Mobilised a new association. */
  mobilised: number;
  /** Not mode 5, not authenticated as required, or from an unsynchronised server. */
  rejected: number;
  /** Acceptable but the bound of associations was reached. */
  overBound: number;
  /** Silent associations removed to make room. */
  demobilised: number;
}

/** What became of a broadcast. */
export type BroadcastRouting = "routed" | "mobilised" | "rejected" | "over-bound";

/** The broadcast client associations of one engine, by broadcaster address. */
export class BroadcastClients {
  readonly #engine: EngineInputs;
  readonly #o: BroadcastClientsOptions;
  readonly #byAddress = new Map<string, number>();
  /** Counters. */
  readonly stats: BroadcastClientStats = {
    routed: 0,
    mobilised: 0,
    rejected: 0,
    overBound: 0,
    demobilised: 0,
  };

  /** Routes broadcasts into `engine`. */
  constructor(engine: EngineInputs, options: BroadcastClientsOptions) {
    this.#engine = engine;
    this.#o = options;
  }

  /** Engine ids of the broadcast associations. */
  ids(): number[] {
    this.#prune();
    return [...this.#byAddress.values()];
  }

  /**
   * Frees the slots of servers silent for a whole reachability register (ntpd demobilises
   * such ephemeral associations), so a dead broadcaster cannot hold the bound for ever.
   */
  #demobiliseSilent(): void {
    for (const [address, id] of this.#byAddress) {
      const s = this.#engine.source(id);
      if (s !== undefined && s.reachability === 0 && s.reachabilitySize >= 8) {
        this.#engine.removeSource(id);
        this.#byAddress.delete(address);
        this.stats.demobilised++;
      }
    }
  }

  /** Forgets associations the engine no longer has (chronyc delete). */
  #prune(): void {
    for (const [address, id] of this.#byAddress) {
      if (this.#engine.source(id) === undefined) this.#byAddress.delete(address);
    }
  }

  /**
   * A mode-5 datagram `bytes` from `from`, received at cooked time `rx`: what became of
   * it. Never throws.
   */
  receive(bytes: Uint8Array, from: SocketAddress, rx: Instant): BroadcastRouting {
    const deliver = (id: number) =>
      this.#engine.callSource(
        id,
        (s, ctx) => s instanceof BroadcastClientSource ? s.broadcast(bytes, rx, ctx) : [],
      );
    const known = this.#byAddress.get(from.address);
    if (known !== undefined && this.#engine.source(known) !== undefined) {
      this.stats.routed++;
      deliver(known);
      return "routed";
    }
    const check = { keys: this.#o.keys, unauthenticated: this.#o.client.unauthenticated };
    const checked = checkBroadcast(bytes, check);
    if (
      !checked.ok || checked.packet.leap === 3 || checked.packet.stratum === 0 ||
      checked.packet.stratum >= 16
    ) {
      this.stats.rejected++;
      return "rejected";
    }
    this.#prune();
    if (this.#byAddress.size >= this.#o.client.maxSources) this.#demobiliseSilent();
    if (this.#byAddress.size >= this.#o.client.maxSources) {
      this.stats.overBound++;
      return "over-bound";
    }
    const params = { ...DEFAULT_SOURCE_PARAMS, port: from.port, key: checked.keyId };
    const key = checked.keyId === null ? null : this.#o.keys?.get(checked.keyId) ?? null;
    const address = { address: from.address, port: from.port };
    const id = this.#engine.addCustomSource(params, (id, stats) =>
      new BroadcastClientSource({
        id,
        address,
        params,
        precision: this.#engine.clock.precision,
        random: this.#o.random,
        stats,
        maxClockError: this.#o.maxClockError,
        key,
        check,
        novolley: this.#o.client.novolley,
        fallbackDelay: this.#o.delay,
      }));
    this.#byAddress.set(from.address, id);
    this.stats.mobilised++;
    deliver(id);
    return "mobilised";
  }
}
