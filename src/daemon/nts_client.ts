/**
 * The NTS client of one daemon source (RFC 8915): the edge behind the core's
 * `PacketAuthenticator` port. It holds an `NtsSession` (keys and cookies), protects each
 * request and checks each reply through it, and runs NTS-KE again - in the background, with
 * a growing back-off - when the cookies run out, after an NTS NAK, or when `ntsrefresh` has
 * passed. Until new keys arrive no request is sent (the core counts missed polls). The state
 * is kept in `ntsdumpdir` so a restart needs no NTS-KE.
 *
 * @module
 */
import type { LogPort, TimerPort } from "../base/ports.ts";
import type {
  PacketAuthCheck,
  PacketAuthenticator,
  PacketAuthState,
} from "../core/source/packet_auth.ts";
import { decodePacket } from "../ntp/packet.ts";
import { decodeNtsDump, dumpFileName, encodeNtsDump, type NtsDump } from "../nts/cookie_dump.ts";
import type { NtsKeOptions, NtsKeResult } from "../nts/ke_client.ts";
import { NtsSession } from "../nts/session.ts";
import { type CertTimeCheck, certTimeCheck, certTimeOptions } from "../nts/cert_time.ts";
import { RELEASE_DATE, RELEASE_UNIX_TIME } from "../version.ts";
import { readTextOrNull, writeFileAtomic } from "../io/files.ts";

/** First retry of a failed NTS-KE, seconds; doubles up to MAX_KE_RETRY. */
const MIN_KE_RETRY = 8;
const MAX_KE_RETRY = 4096;
/** Least interval between two writes of the dump file after replies, seconds (a restart then
 * reuses no cookie already spent, except within this last second). */
const DUMP_INTERVAL = 1;

/** What the client needs from the daemon. */
export interface NtsClientDeps {
  /** Runs one NTS-KE exchange (ke_client.ts ntsKeExchange, or a fake in tests). */
  exchange: (options: NtsKeOptions) => Promise<NtsKeResult>;
  /** Random octets (crypto.getRandomValues). */
  random: (n: number) => Uint8Array;
  /** Timers for the back-off. */
  timers: TimerPort;
  /** Log. */
  log: LogPort;
  /** Unix time now, seconds (the system clock: ntsrefresh and dump ages). */
  unixNow: () => number;
  /**
   * True while certificate times must not be checked (`nocerttimecheck`: the clock has not
   * yet been updated that many times).
   */
  skipCertTime: () => boolean;
  /**
   * Lower bound on the true time, Unix seconds (default: the release date, version.ts): a
   * system clock before it is wrong, and certificates are checked at it for expiry only.
   */
  timeFloor?: number;
}

/** Options of one NTS association. */
export interface NtsClientOptions {
  /** The NTS-KE exchange to run (host is the address, serverName the configured name). */
  ke: NtsKeOptions;
  /** ntsrefresh, seconds (0: never). */
  refresh: number;
  /** ntsdumpdir, or null. */
  dumpDir: string | null;
}

/** The NTS client of one source; implements the core's authenticator port. */
export class NtsClient implements PacketAuthenticator {
  readonly #o: NtsClientOptions;
  readonly #deps: NtsClientDeps;
  #session: NtsSession | null = null;
  #result: Pick<NtsKeResult, "aeadId" | "c2sKey" | "s2cKey" | "ntpServer" | "ntpPort"> | null =
    null;
  #established = 0;
  #contextId = 0;
  #attempts = 0;
  #running = false;
  #retryDelay = MIN_KE_RETRY;
  #notBefore = 0;
  #lastDump = 0;
  #unverifiedKeys = false;

  /** A client for `options`; call `start` before use. */
  constructor(options: NtsClientOptions, deps: NtsClientDeps) {
    this.#o = options;
    this.#deps = deps;
  }

  /** Path of the dump file, or null without ntsdumpdir. */
  get dumpPath(): string | null {
    if (this.#o.dumpDir === null) return null;
    return `${this.#o.dumpDir}/${dumpFileName(this.#where(), this.#o.ke.host)}`;
  }

  /**
   * Establishes the first keys: from the dump file when it is usable and fresh, else by
   * NTS-KE (which throws on failure). Returns the NTP server and port to query.
   */
  async start(): Promise<{ ntpServer: string; ntpPort: number }> {
    if (!this.#loadDump()) this.#install(await this.#exchange(), this.#deps.unixNow());
    return { ntpServer: this.#result!.ntpServer, ntpPort: this.#result!.ntpPort };
  }

  /** True while the keys come from an NTS-KE whose certificate dates were not fully checked. */
  get certificateTimeUnverified(): boolean {
    return this.#unverifiedKeys && this.#session !== null;
  }

  /**
   * After a clock update: keys established without a full certificate date check are dropped
   * and NTS-KE runs again against the (now synchronised) clock, as chrony does after the
   * `nocerttimecheck` updates; until it succeeds, no request is protected.
   */
  clockUpdated(): void {
    if (!this.certificateTimeUnverified || this.#check().kind !== "clock") return;
    this.#deps.log.log(
      "info",
      `Clock synchronised: checking the certificate of ${this.#where()} again (NTS-KE)`,
    );
    this.#session = null;
    this.#unverifiedKeys = false;
    this.#notBefore = 0;
    this.#rekey();
  }

  #where(): string {
    return this.#o.ke.serverName ?? this.#o.ke.host;
  }

  #check(): CertTimeCheck {
    const floor = this.#deps.timeFloor ?? RELEASE_UNIX_TIME;
    return certTimeCheck(this.#deps.unixNow(), floor, this.#deps.skipCertTime());
  }

  #loadDump(): boolean {
    const path = this.dumpPath;
    if (path === null) return false;
    const text = readTextOrNull(path);
    if (text === null) return false;
    const d = decodeNtsDump(text);
    if (!d.ok) {
      this.#deps.log.log("warning", `Could not load NTS cookies from ${path}: ${d.error}`);
      return false;
    }
    const age = this.#deps.unixNow() - d.dump.established;
    // The cookies belong to the server's name (the file is per name and address); like
    // chronyd, a changed NTS-KE port does not invalidate them.
    if (
      d.dump.keServer !== this.#where() || d.dump.cookies.length === 0 || age < 0 ||
      (this.#o.refresh > 0 && age >= this.#o.refresh)
    ) return false;
    this.#session = new NtsSession(d.dump, this.#deps.random);
    this.#result = d.dump;
    this.#established = d.dump.established;
    this.#contextId++;
    this.#deps.log.log("info", `Loaded ${d.dump.cookies.length} NTS cookies from ${path}`);
    return true;
  }

  async #exchange(): Promise<NtsKeResult & { unverified: boolean }> {
    this.#attempts++;
    const now = this.#deps.unixNow();
    const check = this.#check();
    if (check.kind === "floor") {
      const at = this.#deps.timeFloor === undefined
        ? `the release date ${RELEASE_DATE}`
        : new Date(check.floor * 1000).toISOString();
      this.#deps.log.log(
        "warning",
        `System clock (${new Date(now * 1000).toISOString()}) is before ${at}: ` +
          `certificates of ${this.#where()} checked for expiry at that date`,
      );
    }
    const r = await this.#deps.exchange({ ...this.#o.ke, ...certTimeOptions(check) });
    return { ...r, unverified: check.kind !== "clock" };
  }

  #install(r: NtsKeResult & { unverified: boolean }, now: number): void {
    const previous = this.#result;
    if (
      previous !== null && (previous.ntpServer !== r.ntpServer || previous.ntpPort !== r.ntpPort)
    ) {
      this.#deps.log.log(
        "warning",
        `NTS-KE ${this.#o.ke.host} now names NTP server ${r.ntpServer}:${r.ntpPort}; ` +
          `keeping ${previous.ntpServer}:${previous.ntpPort} until the source is replaced`,
      );
    }
    this.#session = new NtsSession(r, this.#deps.random);
    this.#result = r;
    this.#unverifiedKeys = r.unverified;
    this.#established = now;
    this.#contextId++;
    this.#attempts = 0;
    this.#retryDelay = MIN_KE_RETRY;
    this.#save(true);
  }

  #save(force: boolean): void {
    const path = this.dumpPath;
    const s = this.#session;
    const r = this.#result;
    if (path === null || s === null || r === null) return;
    const now = this.#deps.unixNow();
    if (!force && now - this.#lastDump < DUMP_INTERVAL) return;
    this.#lastDump = now;
    const dump: NtsDump = {
      keServer: this.#where(),
      kePort: this.#o.ke.port ?? 4460,
      aeadId: r.aeadId,
      c2sKey: r.c2sKey,
      s2cKey: r.s2cKey,
      cookies: s.cookies(),
      ntpServer: r.ntpServer,
      ntpPort: r.ntpPort,
      established: this.#established,
    };
    writeFileAtomic(path, encodeNtsDump(dump), { mode: 0o600 }).catch((e) =>
      this.#deps.log.log("warning", `Could not save NTS cookies to ${path}: ${e}`)
    );
  }

  /** Writes the dump file now (at shutdown). */
  flush(): void {
    this.#save(true);
  }

  #needsKeys(): boolean {
    const s = this.#session;
    if (s === null || s.needsKeyEstablishment) return true;
    const refresh = this.#o.refresh;
    return refresh > 0 && this.#deps.unixNow() - this.#established >= refresh;
  }

  /** Runs NTS-KE in the background unless one is running or the back-off holds it. */
  #rekey(): void {
    if (this.#running || this.#deps.unixNow() < this.#notBefore) return;
    this.#running = true;
    const where = this.#where();
    this.#exchange().then(
      (r) => {
        this.#install(r, this.#deps.unixNow());
        this.#deps.log.log("info", `NTS-KE with ${where}: ${r.cookies.length} cookies`);
      },
      (e) => {
        this.#notBefore = this.#deps.unixNow() + this.#retryDelay;
        this.#deps.log.log(
          "warning",
          `NTS-KE with ${where} failed (${e instanceof Error ? e.message : e}); ` +
            `retrying in ${this.#retryDelay} s at the earliest`,
        );
        this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_KE_RETRY);
      },
    ).finally(() => {
      this.#running = false;
    });
  }

  /** Protects a request with the next cookie; null (and NTS-KE started) when keys are due. */
  protect(request: Uint8Array): Uint8Array | null {
    if (this.#needsKeys()) {
      this.#rekey();
      return null;
    }
    const decoded = decodePacket(request);
    if (!decoded.ok) return null;
    return this.#session!.buildRequest(decoded.packet);
  }

  /** Checks a reply; new cookies join the jar, an NTSN marks the keys for renewal. */
  check(reply: Uint8Array): PacketAuthCheck {
    const s = this.#session;
    if (s === null) return "fail";
    const r = s.acceptReply(reply);
    if (r.ok) {
      this.#save(false);
      return "ok";
    }
    if (r.error.kind === "nts-nak") {
      this.#deps.log.log("warning", `Received NTS NAK from ${this.#o.ke.host}: renewing NTS keys`);
      return "nak";
    }
    return "fail";
  }

  /** chronyc authdata figures. */
  state(): PacketAuthState {
    const s = this.#session;
    const cookies = s?.cookies() ?? [];
    return {
      mode: "NTS",
      keyId: this.#contextId,
      keyType: this.#result?.aeadId ?? 0,
      keyLength: (this.#result?.c2sKey.length ?? 0) * 8,
      keAttempts: this.#attempts,
      lastKeAgo: s === null
        ? null
        : Math.max(0, Math.round(this.#deps.unixNow() - this.#established)),
      cookies: cookies.length,
      cookieLength: cookies[0]?.length ?? 0,
      nak: s?.nak ?? false,
    };
  }
}
