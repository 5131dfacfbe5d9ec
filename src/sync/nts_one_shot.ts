/**
 * NTS for the one-shot commands (`tempus sync --nts`, `tempus query --nts`): one NTS-KE
 * exchange with the server (its certificate checked against the configured name), then an
 * authenticator over the session for the burst (no re-keying: a one-shot that runs out of
 * cookies or gets a NAK just stops using the server).
 *
 * @module
 */
import type { SocketAddress } from "../base/ports.ts";
import type {
  PacketAuthCheck,
  PacketAuthenticator,
  PacketAuthState,
} from "../core/source/packet_auth.ts";
import { decodePacket } from "../ntp/packet.ts";
import { certTimeCheck, certTimeOptions } from "../nts/cert_time.ts";
import { RELEASE_UNIX_TIME } from "../version.ts";
import { ntsKeExchange, type NtsKeResult } from "../nts/ke_client.ts";
import { NtsSession } from "../nts/session.ts";
import { resolveHost } from "../io/dns.ts";

/** Options of the NTS-KE of a one-shot. */
export interface NtsOneShotOptions {
  /** NTS-KE port (default 4460). */
  port?: number;
  /** Extra trusted CA file (beside the system's certificates). */
  caFile?: string;
  /** Deadline of NTS-KE, ms. */
  timeoutMs?: number;
}

/** An authenticator over one NTS session, without re-keying. */
export class OneShotNts implements PacketAuthenticator {
  readonly #session: NtsSession;
  readonly #ke: NtsKeResult;

  /** Wraps the result of an NTS-KE exchange. */
  constructor(ke: NtsKeResult) {
    this.#ke = ke;
    this.#session = new NtsSession(ke, (n) => crypto.getRandomValues(new Uint8Array(n)));
  }

  /** See PacketAuthenticator. */
  protect(request: Uint8Array): Uint8Array | null {
    if (this.#session.needsKeyEstablishment) return null;
    const decoded = decodePacket(request);
    return decoded.ok ? this.#session.buildRequest(decoded.packet) : null;
  }

  /** See PacketAuthenticator. */
  check(reply: Uint8Array): PacketAuthCheck {
    const r = this.#session.acceptReply(reply);
    return r.ok ? "ok" : r.error.kind === "nts-nak" ? "nak" : "fail";
  }

  /** See PacketAuthenticator. */
  state(): PacketAuthState {
    const cookies = this.#session.cookies();
    return {
      mode: "NTS",
      keyId: 1,
      keyType: this.#ke.aeadId,
      keyLength: this.#ke.c2sKey.length * 8,
      keAttempts: 0,
      lastKeAgo: 0,
      cookies: cookies.length,
      cookieLength: cookies[0]?.length ?? 0,
      nak: this.#session.nak,
    };
  }
}

/**
 * NTS-KE with `name` at `address`; returns the NTP server to measure (the one NTS-KE names,
 * resolved) and its authenticator. Rejects with the NTS-KE or TLS error.
 */
export async function ntsOneShot(
  name: string,
  address: string,
  options: NtsOneShotOptions = {},
): Promise<{ server: SocketAddress; auth: OneShotNts }> {
  const ke = await ntsKeExchange({
    host: address,
    port: options.port,
    serverName: name,
    trusted: options.caFile === undefined ? [] : [options.caFile],
    systemCerts: true,
    timeoutMs: options.timeoutMs,
    // A clock before the release date is wrong: check expiry against that date instead.
    ...certTimeOptions(certTimeCheck(Date.now() / 1000, RELEASE_UNIX_TIME, false)),
  });
  let ntpAddress = ke.ntpServer === name ? address : ke.ntpServer;
  if (!/^[0-9.]+$/.test(ntpAddress) && !ntpAddress.includes(":")) {
    const r = await resolveHost(ntpAddress, { family: "any", timeoutMs: 3000 });
    if (!r.ok) throw new Error(`NTS-KE named NTP server ${ntpAddress}: ${r.error}`);
    ntpAddress = r.addresses[0];
  }
  return { server: { address: ntpAddress, port: ke.ntpPort }, auth: new OneShotNts(ke) };
}

/**
 * The NTS target of a one-shot command line: `arg` as given (SERVER, without :PORT, since
 * NTS-KE names the NTP port), its host and resolved address, and the `--nts-port` /
 * `--nts-ca` values. A string is the error to print (starting with "--" for usage errors).
 */
export async function ntsTarget(
  arg: string,
  host: string,
  address: string,
  values: { "nts-port"?: string; "nts-ca"?: string },
  timeoutSeconds: number,
): Promise<{ server: SocketAddress; auth: OneShotNts } | string> {
  const port = values["nts-port"] === undefined ? 4460 : Number(values["nts-port"]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return "--nts-port must be a port number from 1 to 65535";
  }
  if (arg !== host && arg !== `[${host}]`) {
    return `--nts: give SERVER without :PORT (NTS-KE names the NTP port; --nts-port is NTS-KE's)`;
  }
  try {
    return await ntsOneShot(host, address, {
      port,
      caFile: values["nts-ca"],
      timeoutMs: Math.max(3000, timeoutSeconds * 1000),
    });
  } catch (e) {
    return `NTS-KE with ${host} failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}
