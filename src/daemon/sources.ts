/**
 * Turns configured source names into engine sources: resolves `server`/`peer` names and
 * `pool` names (up to maxsources members), retries failed resolution with chrony's backoff
 * (7·2^n s, n = 2..9), and replaces unreachable or falseticker members on the engine's
 * request with a fresh address of the same name.
 *
 * @module
 */
import type { SourceConfig } from "../config/model.ts";
import type { LogPort, SocketAddress, TimerPort } from "../base/ports.ts";
import type { PacketAuthenticator } from "../core/source/packet_auth.ts";
import type { EngineCore } from "../core/engine/core.ts";
import { errorMessage } from "../base/errors.ts";
import { canonicalIp } from "../base/ip.ts";

/** The part of the engine the source manager drives. */
export interface SourceSink {
  /** Adds a source; returns its id. */
  addSource: EngineCore["addSource"];
  /** Removes a source. */
  removeSource(id: number): void;
}

/** What `SourceManager.add` did. */
export interface AddResult {
  /** True when nothing was added: a source already uses this literal address. */
  present: boolean;
  /** Settles once the first resolution attempt is done (sources added or retry set). */
  resolved: Promise<void>;
}

/** Resolves a host name to IP literals (IPv4 and IPv6). */
export type Resolver = (name: string) => Promise<string[]>;

/**
 * Establishes NTS for an `nts` source at one address of its name (NTS-KE, or the dump
 * file): the NTP address to poll and the authenticator. Rejects when NTS-KE fails.
 */
export type NtsConnector = (
  config: SourceConfig,
  address: string,
) => Promise<{ address: SocketAddress; auth: PacketAuthenticator }>;

interface Member {
  id: number;
  address: string;
  config: SourceConfig;
}

/** First retry of a failed resolution after 7·2^2 s, doubling up to 7·2^9 s. */
const RESOLVE_RETRY_MIN_EXP = 2;
const RESOLVE_RETRY_MAX_EXP = 9;

/** Keeps the engine's sources in step with the configuration and DNS. */
export class SourceManager {
  readonly #sink: SourceSink;
  readonly #resolve: Resolver;
  readonly #timers: TimerPort;
  readonly #log: LogPort;
  readonly #members = new Map<number, Member>();
  readonly #unresolved = new Set<SourceConfig>();
  readonly #retryTimers = new Map<SourceConfig, number>();
  readonly #configs: SourceConfig[] = [];
  readonly #nts: NtsConnector | null;
  /** Literal addresses being added (claimed before their asynchronous add completes). */
  readonly #claimed = new Set<string>();

  /** Creates a manager; `nts` serves the sources with the `nts` option. */
  constructor(
    sink: SourceSink,
    resolve: Resolver,
    timers: TimerPort,
    log: LogPort,
    nts: NtsConnector | null = null,
  ) {
    this.#sink = sink;
    this.#resolve = resolve;
    this.#timers = timers;
    this.#log = log;
    this.#nts = nts;
  }

  /**
   * Adds the source of `config` at `address` (for NTS: after NTS-KE with it); returns the
   * id and the address polled, or null when NTS-KE failed.
   */
  async #addAt(
    config: SourceConfig,
    address: string,
  ): Promise<{ id: number; address: string } | null> {
    const name = isLiteral(config.name) ? null : config.name;
    if (config.params.nts !== true) {
      const to = { address, port: config.params.port };
      return { id: this.#sink.addSource(config.type, to, config.params, name), address };
    }
    if (this.#nts === null) {
      this.#log.log("error", `NTS is not available: not polling ${config.name}`);
      return null;
    }
    try {
      const nts = await this.#nts(config, address);
      const params = { ...config.params, port: nts.address.port };
      const id = this.#sink.addSource(config.type, nts.address, params, name, nts.auth);
      return { id, address: nts.address.address };
    } catch (error) {
      this.#log.log(
        "warning",
        `NTS-KE with ${config.name} (${address}) failed: ${errorMessage(error)}`,
      );
      return null;
    }
  }

  /**
   * Adds a configured source (resolving its name; failures are retried). A literal address
   * that a source already uses is not added (`present`), as chronyd answers
   * NSR_AlreadyInUse; `resolved` settles once the first resolution attempt is done.
   */
  add(config: SourceConfig): AddResult {
    if (isLiteral(config.name)) {
      if (this.#literalInUse(config.name)) return { present: true, resolved: Promise.resolve() };
      this.#claimed.add(config.name);
    }
    this.#configs.push(config);
    const resolved = this.#resolveAndAdd(config, RESOLVE_RETRY_MIN_EXP).finally(() => {
      if (isLiteral(config.name)) this.#claimed.delete(config.name);
    });
    return { present: false, resolved };
  }

  /**
   * Removes every source that `config` added (chronyc `reload sources` for a source line
   * gone from a sourcedir file), with its pending resolution retries.
   */
  removeConfig(config: SourceConfig): void {
    const i = this.#configs.indexOf(config);
    if (i >= 0) this.#configs.splice(i, 1);
    this.#unresolved.delete(config);
    const handle = this.#retryTimers.get(config);
    if (handle !== undefined) this.#timers.cancelTimer(handle);
    this.#retryTimers.delete(config);
    for (const [id, member] of [...this.#members]) {
      if (member.config !== config) continue;
      this.#sink.removeSource(id);
      this.#members.delete(id);
    }
  }

  /** True while `config` is one of the configured sources (not removed). */
  has(config: SourceConfig): boolean {
    return this.#configs.includes(config);
  }

  #literalInUse(address: string): boolean {
    const members = [...this.#members.values()].map((m) => m.address);
    return [...this.#claimed, ...members].some((a) => sameAddress(a, address));
  }

  /** Number of configured names still waiting for resolution. */
  get unresolvedCount(): number {
    return this.#unresolved.size;
  }

  /** Configured name of the source with this id, if it came from a name. */
  nameOf(id: number): string | null {
    return this.#members.get(id)?.config.name ?? null;
  }

  /** Removes the source with this address (chronyc `delete`); false if unknown. */
  removeByAddress(address: string): boolean {
    for (const [id, member] of this.#members) {
      if (member.address === address) {
        this.#sink.removeSource(id);
        this.#members.delete(id);
        return true;
      }
    }
    return false;
  }

  /**
   * Replaces source `id` (unreachable or a falseticker) by another address of the same
   * name, when the name resolves to one not already in use. Literal addresses stay.
   */
  async replace(id: number): Promise<boolean> {
    const member = this.#members.get(id);
    if (member === undefined || isLiteral(member.config.name)) return false;
    let addresses: string[];
    try {
      addresses = await this.#resolve(member.config.name);
    } catch {
      return false;
    }
    const inUse = new Set([...this.#members.values()].map((m) => m.address));
    const fresh = addresses.find((a) => !inUse.has(a));
    if (fresh === undefined) return false;
    this.#sink.removeSource(id);
    this.#members.delete(id);
    const added = await this.#addAt(member.config, fresh);
    if (added === null) return false;
    this.#members.set(added.id, { id: added.id, address: added.address, config: member.config });
    this.#log.log(
      "info",
      `Source ${member.address} replaced with ${fresh} (${member.config.name})`,
    );
    return true;
  }

  /** Re-resolves every name (chronyc `refresh`): replaces members whose name moved away. */
  async refresh(): Promise<void> {
    for (const member of [...this.#members.values()]) {
      if (isLiteral(member.config.name)) continue;
      try {
        const addresses = await this.#resolve(member.config.name);
        if (!addresses.includes(member.address)) await this.replace(member.id);
      } catch {
        // keep the current address
      }
    }
  }

  /** Cancels pending resolution retries. */
  close(): void {
    for (const handle of this.#retryTimers.values()) this.#timers.cancelTimer(handle);
    this.#retryTimers.clear();
  }

  async #resolveAndAdd(config: SourceConfig, retryExp: number): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.#resolve(config.name);
      if (addresses.length === 0) throw new Error("no addresses");
    } catch (error) {
      if (!this.#configs.includes(config)) return; // removed while resolving
      const delay = this.#retryLater(config, retryExp);
      this.#log.log(
        "warning",
        `Could not resolve ${config.name} (${errorMessage(error)}), retrying in ${delay} s`,
      );
      return;
    }
    this.#unresolved.delete(config);
    if (!this.#configs.includes(config)) return; // removed while resolving
    const wanted = config.type === "pool" ? config.params.maxSources : 1;
    const inUse = new Set([...this.#members.values()].map((m) => m.address));
    for (const address of addresses) {
      if (this.#countOf(config) >= wanted) break;
      if (inUse.has(address)) continue;
      const added = await this.#addAt(config, address);
      if (added === null) continue;
      this.#members.set(added.id, { id: added.id, address: added.address, config });
      inUse.add(address);
    }
    if (config.params.nts === true && this.#countOf(config) === 0) {
      // Every NTS-KE failed: try again later, as for a name that did not resolve.
      this.#retryLater(config, retryExp);
    }
  }

  /** Counts `config` as unresolved and tries it again later; returns the delay, seconds. */
  #retryLater(config: SourceConfig, retryExp: number): number {
    this.#unresolved.add(config);
    const delay = 7 * 2 ** retryExp;
    const next = Math.min(retryExp + 1, RESOLVE_RETRY_MAX_EXP);
    this.#retryTimers.set(
      config,
      this.#timers.setTimer(delay, () => {
        this.#retryTimers.delete(config);
        void this.#resolveAndAdd(config, next);
      }),
    );
    return delay;
  }

  #countOf(config: SourceConfig): number {
    return [...this.#members.values()].filter((m) => m.config === config).length;
  }
}

/** Same IP address, whatever the spelling of an IPv6 literal. */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (!a.includes(":") || !b.includes(":")) return false;
  const strict = { strict: true }; // a zone ("%eth0") keeps the text as it is
  return (canonicalIp(a, strict) ?? a) === (canonicalIp(b, strict) ?? b);
}

/** True when `name` is an IPv4 or IPv6 literal. */
export function isLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}
