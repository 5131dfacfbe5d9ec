/**
 * The daemon's NTS clients: the `NtsConnector` the source manager calls for `nts` sources
 * (NTS-KE with the configured name at one of its addresses, then the NTP server it names),
 * and the registry of the clients by NTP address for `chronyc authdata`.
 * `nocerttimecheck N` is honoured here: certificate times are not checked until the clock was
 * updated N times. While certificate dates are not fully checked (that period, or a system
 * clock before the release date until the first update), minsources is raised to a majority of
 * the NTS sources (cert_time.ts bootstrapMinSources), and once it ends every client whose keys
 * came from such an NTS-KE runs it again against the synchronised clock.
 *
 * @module
 */
import { ntsConfigOf } from "../config/nts_config.ts";
import { bootstrapMinSources, unverifiedUpdates } from "../nts/cert_time.ts";
import { RELEASE_UNIX_TIME } from "../version.ts";
import { statOrNull } from "../io/files.ts";
import type { Config } from "../config/model.ts";
import type { PacketAuthState } from "../core/source/packet_auth.ts";
import { NtsClient, type NtsClientDeps } from "./nts_client.ts";
import { isLiteral, type NtsConnector, type Resolver } from "./sources.ts";

/** What the connector needs. */
export interface NtsSourcesDeps
  extends Pick<NtsClientDeps, "exchange" | "timers" | "log" | "timeFloor"> {
  /** Name resolution for a negotiated NTP server name. */
  resolve: Resolver;
  /** Unix time now, seconds (default: Date.now()). */
  unixNow?: () => number;
}

/** Number of NTS sources `config` asks for (a pool counts its maxsources). */
export function ntsSourceCount(config: Config): number {
  const nts = config.sources.filter((s) => s.params.nts === true);
  return nts.reduce((n, s) => n + (s.type === "pool" ? s.params.maxSources : 1), 0);
}

/** Trusted certificate entries: directories get a trailing "/" (ffi/openssl_tls.ts). */
function trustedPaths(paths: readonly string[]): string[] {
  // A missing file is left as it is: OpenSSL reports it at NTS-KE.
  return paths.map((p) => statOrNull(p)?.isDirectory && !p.endsWith("/") ? `${p}/` : p);
}

/** The NTS clients of the daemon's sources. */
export class NtsSources {
  readonly #config: Config;
  readonly #deps: NtsSourcesDeps;
  readonly #clients = new Map<string, NtsClient>();
  readonly #unverifiedUpdates: number;
  #clockUpdates = 0;

  /** Clients configured by `config`'s NTS directives. */
  constructor(config: Config, deps: NtsSourcesDeps) {
    this.#config = config;
    this.#deps = deps;
    const floor = deps.timeFloor ?? RELEASE_UNIX_TIME;
    this.#unverifiedUpdates = unverifiedUpdates(
      ntsConfigOf(config).noCertTimeCheck,
      this.#now() < floor,
    );
  }

  #now(): number {
    return this.#deps.unixNow?.() ?? Date.now() / 1000;
  }

  /** True while certificate dates are not fully checked (the first clock updates). */
  get bootstrapping(): boolean {
    return this.#clockUpdates < this.#unverifiedUpdates;
  }

  /** minsources the selection needs now (raised while bootstrapping). */
  minSources(): number {
    return bootstrapMinSources(
      this.#config.minSources,
      ntsSourceCount(this.#config),
      this.bootstrapping,
    );
  }

  /** Counts a clock update; at the end of the bootstrap, unverified keys are renewed. */
  clockUpdated(): void {
    this.#clockUpdates++;
    for (const client of this.#clients.values()) client.clockUpdated();
  }

  /** The connector for the source manager. */
  connector(): NtsConnector {
    return async (source, address) => {
      const nts = ntsConfigOf(this.#config);
      const client = new NtsClient(
        {
          ke: {
            host: address,
            port: source.params.ntsPort ?? 4460,
            serverName: source.name,
            trusted: trustedPaths(nts.trustedCerts),
            systemCerts: !nts.noSystemCert,
          },
          refresh: nts.refresh,
          dumpDir: nts.dumpDir,
        },
        {
          exchange: this.#deps.exchange,
          random: (n) => crypto.getRandomValues(new Uint8Array(n)),
          timers: this.#deps.timers,
          log: this.#deps.log,
          unixNow: () => this.#now(),
          timeFloor: this.#deps.timeFloor,
          skipCertTime: () => this.#clockUpdates < nts.noCertTimeCheck,
        },
      );
      const server = await client.start();
      let ntpAddress = server.ntpServer;
      if (!isLiteral(ntpAddress)) {
        const addresses = await this.#deps.resolve(ntpAddress);
        if (addresses.length === 0) throw new Error(`NTP server ${ntpAddress} did not resolve`);
        ntpAddress = addresses[0];
      }
      this.#clients.set(ntpAddress, client);
      return { address: { address: ntpAddress, port: server.ntpPort }, auth: client };
    };
  }

  /** authdata of the NTS source polling `address`, or null when it is not one. */
  authData(address: string): PacketAuthState | null {
    return this.#clients.get(address)?.state() ?? null;
  }
}

/** What ntsClientsFor needs of the engine. */
export interface NtsEngineHooks {
  /** Called after every clock update. */
  onReferenceUpdated: ((update: never) => void) | null;
  /** Sets minsources for the next selections (engine.ts). */
  setMinSources(count: number): unknown;
}

/**
 * The NTS clients of `config`, counting the engine's clock updates for nocerttimecheck and
 * holding the engine's minsources at the bootstrap quorum until certificates are verified.
 */
export function ntsClientsFor(
  config: Config,
  engine: NtsEngineHooks,
  deps: NtsSourcesDeps,
): NtsSources {
  const nts = new NtsSources(config, deps);
  let applied = nts.minSources();
  if (applied !== config.minSources) {
    engine.setMinSources(applied);
    deps.log.log(
      "info",
      `NTS certificate dates not fully checked yet: ${applied} sources must agree ` +
        `before the clock is updated`,
    );
  } else if (nts.bootstrapping && ntsSourceCount(config) === 1) {
    deps.log.log(
      "warning",
      "One NTS source and certificate dates not fully checked: it is trusted alone " +
        "until the clock is updated (configure more NTS sources)",
    );
  }
  const previous = engine.onReferenceUpdated;
  engine.onReferenceUpdated = (update) => {
    previous?.(update);
    nts.clockUpdated();
    const wanted = nts.minSources();
    if (wanted !== applied) {
      applied = wanted;
      engine.setMinSources(wanted);
      deps.log.log("info", `NTS certificate dates checked from now on: minsources ${wanted}`);
    }
  };
  return nts;
}
