/**
 * The daemon's NTS clients: the `NtsConnector` the source manager calls for `nts` sources
 * (NTS-KE with the configured name at one of its addresses, then the NTP server it names),
 * and the registry of the clients by NTP address for `chronyc authdata`.
 * `nocerttimecheck N` is honoured here: certificate times are not checked until the clock was
 * updated N times.
 *
 * @module
 */
import type { LogPort, TimerPort } from "../base/ports.ts";
import { ntsConfigOf } from "../config/nts_config.ts";
import type { Config } from "../config/model.ts";
import type { PacketAuthState } from "../core/source/packet_auth.ts";
import type { NtsKeOptions, NtsKeResult } from "../nts/ke_client.ts";
import { NtsClient } from "./nts_client.ts";
import { isLiteral, type NtsConnector, type Resolver } from "./sources.ts";

/** What the connector needs. */
export interface NtsSourcesDeps {
  /** NTS-KE (ke_client.ts ntsKeExchange). */
  exchange: (options: NtsKeOptions) => Promise<NtsKeResult>;
  /** Name resolution for a negotiated NTP server name. */
  resolve: Resolver;
  /** Timers. */
  timers: TimerPort;
  /** Log. */
  log: LogPort;
}

/** Trusted certificate entries: directories get a trailing "/" (ffi/openssl_tls.ts). */
function trustedPaths(paths: readonly string[]): string[] {
  return paths.map((p) => {
    try {
      return Deno.statSync(p).isDirectory && !p.endsWith("/") ? `${p}/` : p;
    } catch {
      return p; // OpenSSL reports the missing file at NTS-KE
    }
  });
}

/** The NTS clients of the daemon's sources. */
export class NtsSources {
  readonly #config: Config;
  readonly #deps: NtsSourcesDeps;
  readonly #clients = new Map<string, NtsClient>();
  #clockUpdates = 0;

  /** Clients configured by `config`'s NTS directives. */
  constructor(config: Config, deps: NtsSourcesDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** Counts a clock update (for nocerttimecheck). */
  clockUpdated(): void {
    this.#clockUpdates++;
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
          unixNow: () => Date.now() / 1000,
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

/** The NTS clients of `config`, counting the engine's clock updates for nocerttimecheck. */
export function ntsClientsFor(
  config: Config,
  engine: { onReferenceUpdated: ((update: never) => void) | null },
  deps: NtsSourcesDeps,
): NtsSources {
  const nts = new NtsSources(config, deps);
  const previous = engine.onReferenceUpdated;
  engine.onReferenceUpdated = (update) => {
    previous?.(update);
    nts.clockUpdated();
  };
  return nts;
}
