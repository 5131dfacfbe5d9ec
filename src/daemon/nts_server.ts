/**
 * The daemon's NTS server (RFC 8915): the NTS-KE listener (TCP, `ntsport`, 4460 by default)
 * handing out keys and cookies, and the authenticator the NTP responder calls for NTS
 * requests (`ServerAuthenticator`): a request with a valid cookie and authenticator gets an
 * authenticated reply with fresh cookies; one whose cookie no key opens gets an NTS NAK.
 * Cookie master keys rotate every `ntsrotate` seconds (the previous two still open) and are
 * kept in `ntsdumpdir/ntskeys`. `ntsratelimit` limits NTS-KE connections per client address;
 * at most KE_IN_FLIGHT_PER_PROCESS × `ntsprocesses` handshakes run at once.
 *
 * @module
 */
import type { LogPort, TimerPort } from "../base/ports.ts";
import type { Config } from "../config/model.ts";
import { ntsConfigOf, type NtsRateLimit } from "../config/nts_config.ts";
import type { ServerAuthenticator, ServerAuthVerdict } from "../core/server_auth.ts";
import { decodePacket } from "../ntp/packet.ts";
import { instantToNtp64 } from "../ntp/timestamp.ts";
import { makeCookie } from "../nts/cookies.ts";
import { serveNtsKeConnection } from "../nts/ke_server.ts";
import { NTS_KE_ALPN } from "../nts/ke_client.ts";
import { TlsServerContext } from "../../ffi/openssl_tls_server.ts";
import { buildNtsNak, buildNtsReply, checkNtsRequest } from "../nts/server.ts";
import {
  decodeKeySet,
  encodeKeySet,
  newKeySet,
  rotateKeys,
  type ServerKeySet,
} from "../nts/server_keys.ts";
import { writeFileAtomic } from "../io/files.ts";
import { bindAll } from "../io/server_loop.ts";
import { bestEffort } from "../base/errors.ts";

/**
 * NTS-KE handshakes served at once per `ntsprocesses` (0 counts as 1); further connections
 * are closed at once.
 */
export const KE_IN_FLIGHT_PER_PROCESS = 64;

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** The cookie master keys, rotating. */
export class NtsServerKeys {
  #set: ServerKeySet;
  readonly #path: string | null;
  readonly #log: LogPort;

  /** Loads `ntsdumpdir/ntskeys` when present and valid, else makes a new key. */
  constructor(dumpDir: string | null, log: LogPort, now = Date.now() / 1000) {
    this.#path = dumpDir === null ? null : `${dumpDir}/ntskeys`;
    this.#log = log;
    let loaded: ServerKeySet | null = null;
    if (this.#path !== null) {
      try {
        loaded = decodeKeySet(Deno.readTextFileSync(this.#path));
        if (loaded === null) log.log("warning", `Ignoring invalid NTS key file ${this.#path}`);
      } catch {
        // no file yet
      }
    }
    this.#set = loaded ?? newKeySet(random, now);
    if (loaded === null) this.#save();
    else log.log("info", `Loaded ${loaded.keys.length} NTS server keys from ${this.#path}`);
  }

  /** Keys, newest first. */
  get keys(): ServerKeySet["keys"] {
    return this.#set.keys;
  }

  /** When the current key was made, Unix seconds. */
  get created(): number {
    return this.#set.created;
  }

  /** Rotates: a new current key; the oldest beyond the kept ones is dropped. */
  rotate(now = Date.now() / 1000): void {
    this.#set = rotateKeys(this.#set, random, now);
    this.#save();
  }

  #save(): void {
    if (this.#path === null) return;
    const path = this.#path;
    writeFileAtomic(path, encodeKeySet(this.#set), { mode: 0o600 }).catch((e) =>
      this.#log.log("warning", `Could not save NTS server keys to ${path}: ${e}`)
    );
  }
}

/**
 * The NTP responder's NTS authenticator over the server keys. The reply's seal covers the
 * header, so it must come after the transmit timestamp is written; that timestamp is read
 * again just before sealing and advanced by how long sealing has taken lately (a moving
 * average), so it is as close to the moment the reply leaves as a plain reply's.
 */
export class NtsRequestAuthenticator implements ServerAuthenticator {
  readonly #keys: NtsServerKeys;
  /** Recent duration of `finish` after its transmit-time read, nanoseconds. */
  #sealNs = 0;

  /** Checks requests against `keys`. */
  constructor(keys: NtsServerKeys) {
    this.#keys = keys;
  }

  /** See ServerAuthenticator. */
  check(request: Uint8Array): ServerAuthVerdict {
    const check = checkNtsRequest(request, this.#keys.keys);
    if (check.ok) {
      // The cookies are sealed now, before the responder reads the transmit time: only the
      // reply's own seal (over the finished header) comes after it, which keeps the served
      // transmit timestamp close to when the reply leaves.
      const master = this.#keys.keys[0];
      const cookies = Array.from(
        { length: check.cookiesWanted },
        () => makeCookie(master, random(16), check.keys),
      );
      const nonce = random(16);
      return {
        kind: "reply",
        finish: (header, readTxTime) => {
          const started = performance.now();
          const tx = readTxTime() + BigInt(Math.round(this.#sealNs));
          new DataView(header.buffer, header.byteOffset, 48).setBigUint64(40, instantToNtp64(tx));
          const decoded = decodePacket(header);
          if (!decoded.ok) return null;
          const reply = buildNtsReply(
            decoded.packet,
            check.uniqueId,
            check.keys.s2cKey,
            nonce,
            cookies,
          );
          const took = (performance.now() - started) * 1e6;
          // Moving average; a first value (cold code) or an outlier (a GC pause) counts 1/8.
          this.#sealNs = this.#sealNs === 0 ? Math.min(took, 50_000) : this.#sealNs +
            (Math.min(took, 4 * this.#sealNs) - this.#sealNs) / 8;
          return reply;
        },
      };
    }
    if (check.error.kind === "no-authenticator") return { kind: "not-mine" };
    if (check.nak && check.uniqueId !== null) {
      const uniqueId = check.uniqueId;
      return {
        kind: "reply",
        finish: (header) => {
          const decoded = decodePacket(header);
          return decoded.ok ? buildNtsNak(decoded.packet, uniqueId) : null;
        },
      };
    }
    return { kind: "drop" };
  }
}

/** Per-address token buckets of `ntsratelimit` (chrony's interval/burst/leak). */
class KeRateLimiter {
  readonly #limit: NtsRateLimit;
  readonly #buckets = new Map<string, { tokens: number; last: number }>();
  #leakCount = 0;

  constructor(limit: NtsRateLimit) {
    this.#limit = limit;
  }

  /** True when a connection from `address` at `now` (seconds) may be served. */
  allow(address: string, now: number): boolean {
    const interval = 2 ** this.#limit.interval;
    const b = this.#buckets.get(address) ?? { tokens: this.#limit.burst, last: now };
    b.tokens = Math.min(this.#limit.burst, b.tokens + (now - b.last) / interval);
    b.last = now;
    if (this.#buckets.size > 10_000) this.#buckets.clear(); // bounded memory
    this.#buckets.set(address, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    // leak: let 1 in 2^leak of the refused connections through anyway (0: none).
    const leak = this.#limit.leak;
    return leak > 0 && ++this.#leakCount % 2 ** leak === 0;
  }
}

/** A running NTS-KE server. */
export interface NtsKeServerHandle {
  /** The bound address and port. */
  readonly address: { hostname: string; port: number };
  /** Counters: connections served, failed, refused by the rate limit or the in-flight cap. */
  stats(): { served: number; failed: number; limited: number };
  /** Stops listening and rotating. */
  close(): void;
}

/** Starts the NTS server parts configured: null without ntsserverkey/ntsservercert. */
export function startNtsServer(
  config: Config,
  deps: { log: LogPort; timers: TimerPort; ntpPort: number },
): { authenticator: NtsRequestAuthenticator; ke: NtsKeServerHandle } | null {
  const nts = ntsConfigOf(config);
  if (nts.serverKeys.length === 0 && nts.serverCerts.length === 0) return null;
  if (nts.serverKeys.length !== nts.serverCerts.length) {
    throw new Error("ntsserverkey and ntsservercert must come in pairs");
  }
  if (nts.serverKeys.length > 1) {
    throw new Error("several NTS server certificates (chosen by SNI) are not supported");
  }
  // The certificate and key are loaded once, now: errors stop the start-up.
  const context = new TlsServerContext({
    certFile: nts.serverCerts[0],
    keyFile: nts.serverKeys[0],
    alpn: NTS_KE_ALPN,
  });
  const keys = new NtsServerKeys(nts.dumpDir, deps.log);
  const limiter = nts.rateLimit === null ? null : new KeRateLimiter(nts.rateLimit);
  let listeners: Deno.Listener[];
  try {
    // On every `bindaddress` (as the NTP server), or with none on "::" (both families),
    // falling back to "0.0.0.0" where IPv6 is off.
    listeners = bindAll(
      config.bindAddresses,
      (hostname) => Deno.listen({ transport: "tcp", hostname, port: nts.port }),
    );
  } catch (e) {
    context.close();
    throw e;
  }
  const address = listeners[0].addr as Deno.NetAddr;
  const counts = { served: 0, failed: 0, limited: 0 };
  let inFlight = 0;
  const maxInFlight = KE_IN_FLIGHT_PER_PROCESS * Math.max(1, nts.processes);
  let closed = false;
  let rotation: number | null = null;
  const scheduleRotation = () => {
    if (nts.rotate <= 0 || closed) return;
    const due = Math.max(1, keys.created + nts.rotate - Date.now() / 1000);
    rotation = deps.timers.setTimer(due, () => {
      keys.rotate();
      deps.log.log("info", "NTS server key rotated");
      scheduleRotation();
    });
  };
  scheduleRotation();
  const options = {
    context,
    certFile: nts.serverCerts[0],
    keyFile: nts.serverKeys[0],
    random,
    ntpPort: deps.ntpPort,
    ntpServer: nts.ntpServer ?? undefined,
    timeoutMs: 5_000,
  };
  const accept = async (listener: Deno.Listener) => {
    for await (const conn of listener) {
      const peer = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (
        inFlight >= maxInFlight || (limiter !== null && !limiter.allow(peer, Date.now() / 1000))
      ) {
        counts.limited++;
        conn.close();
        continue;
      }
      inFlight++;
      serveNtsKeConnection(conn, { ...options, cookieKey: keys.keys[0] }).then((r) => {
        if (r.ok) counts.served++;
        else {
          counts.failed++;
          deps.log.log("debug", `NTS-KE with ${peer} failed: ${r.message}`);
        }
      }).finally(() => inFlight--);
    }
  };
  for (const l of listeners) {
    accept(l).catch(() => {});
    const a = l.addr as Deno.NetAddr;
    deps.log.log("info", `NTS-KE server listening on ${a.hostname}:${a.port}`);
  }
  return {
    authenticator: new NtsRequestAuthenticator(keys),
    ke: {
      address: { hostname: address.hostname, port: address.port },
      stats: () => ({ ...counts }),
      close() {
        closed = true;
        if (rotation !== null) deps.timers.cancelTimer(rotation);
        context.free(); // connections still open keep their reference
        for (const l of listeners) bestEffort(() => l.close());
      },
    },
  };
}
