/**
 * The Network Time Security part of the configuration model: chrony's NTS directives
 * (`ntsdumpdir`, `ntstrustedcerts`, `nosystemcert`, `nocerttimecheck`, `ntsrefresh` for
 * clients; `ntsserverkey`, `ntsservercert`, `ntsport`, `ntsrotate`, `ntsratelimit`,
 * `ntsntpserver`, `ntsprocesses` for servers) with chrony's defaults.
 *
 * @module
 */

/** chrony's `ntsratelimit` (NTS-KE connections per client address). */
export interface NtsRateLimit {
  /** Minimum mean interval between connections of one address, log2 s (chrony default 6). */
  interval: number;
  /** Connections allowed in a burst (default 8). */
  burst: number;
  /** log2 of the share of refused connections let through anyway (default 2: 1/4)... */
  leak: number;
}

/** The NTS directives. */
export interface NtsConfig {
  /** ntsdumpdir: where client cookies and server keys are kept across restarts, or null. */
  dumpDir: string | null;
  /** ntstrustedcerts: extra trusted certificate files or directories (as written). */
  trustedCerts: string[];
  /** nosystemcert: do not trust the system's certificates. */
  noSystemCert: boolean;
  /** nocerttimecheck N: skip certificate time checks until the clock was updated N times. */
  noCertTimeCheck: number;
  /** ntsrefresh: seconds after which a client runs NTS-KE again (chrony: 2419200, 0 = never). */
  refresh: number;
  /** ntsserverkey: private key files of the NTS-KE server (pairs with serverCerts). */
  serverKeys: string[];
  /** ntsservercert: certificate files of the NTS-KE server. */
  serverCerts: string[];
  /** ntsport: TCP port of the NTS-KE server (chrony: 4460). */
  port: number;
  /** ntsrotate: seconds between server cookie-key rotations (chrony: 604800, 0 = never). */
  rotate: number;
  /** ntsratelimit: NTS-KE connection rate limit, or null (chrony: off). */
  rateLimit: NtsRateLimit | null;
  /** ntsntpserver: NTP server name given to NTS-KE clients, or null (this host). */
  ntpServer: string | null;
  /**
   * ntsprocesses: chrony's NTS-KE helper processes. tempus serves NTS-KE from its one
   * non-blocking event loop and maps N to the handshakes it runs at once: 64 per process
   * (0 counts as 1), the rest are closed at once.
   */
  processes: number;
}

/** chrony's NTS defaults. */
export function defaultNtsConfig(): NtsConfig {
  return {
    dumpDir: null,
    trustedCerts: [],
    noSystemCert: false,
    noCertTimeCheck: 0,
    refresh: 2419200,
    serverKeys: [],
    serverCerts: [],
    port: 4460,
    rotate: 604800,
    rateLimit: null,
    ntpServer: null,
    processes: 1,
  };
}

/** The NTS directives of `config` (defaults when none were given). */
export function ntsConfigOf(config: { nts?: NtsConfig }): NtsConfig {
  return config.nts ?? defaultNtsConfig();
}
