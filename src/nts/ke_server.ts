/**
 * NTS Key Establishment server for one accepted TCP connection (RFC 8915 section 4): TLS 1.3
 * with ALPN `ntske/1` (ffi/openssl_tls.ts over memory BIOs, Deno owning the socket), one
 * request, one response with 8 cookies sealing the exported keys (cookies.ts), then
 * close_notify. The whole exchange runs under one deadline. Accepting connections, rate
 * limits and key rotation are the caller's.
 *
 * @module
 */
import { MemoryTlsServer, type TlsServerContext } from "../../ffi/openssl_tls_server.ts";
import { AEAD_AES_SIV_CMAC_256 } from "./aead.ts";
import { type CookieKey, makeCookie } from "./cookies.ts";
import { exportNtpKeys, NTS_KE_ALPN, readKeMessage, writeAll } from "./ke_client.ts";
import { encodeKeError, encodeKeResponse, interpretKeRequest, KeErrorCode } from "./ke_records.ts";
import { bestEffort } from "../base/errors.ts";

/** Cookies handed out per NTS-KE response. */
export const COOKIES_PER_KE = 8;

/** Options of the NTS-KE server. */
export interface NtsKeServerOptions {
  /** PEM certificate chain. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /**
   * A context made once from certFile and keyFile (ffi/openssl_tls_server.ts TlsServerContext);
   * without it each connection loads them again.
   */
  context?: TlsServerContext;
  /** Master key that seals new cookies (the current one). */
  cookieKey: CookieKey;
  /** Random octets (crypto.getRandomValues in production). */
  random: (n: number) => Uint8Array;
  /** NTP port to announce when it is not 123. */
  ntpPort?: number;
  /** NTP server name to announce when it is not this host. */
  ntpServer?: string;
  /** Deadline of the exchange in milliseconds (default 10 000). */
  timeoutMs?: number;
}

/** How one connection ended. */
export type NtsKeServeResult =
  | { ok: true; aeadId: number; cookies: number }
  | { ok: false; message: string };

/**
 * Serves one NTS-KE connection and closes it. Never throws: failures (TLS, timeouts, bad
 * requests, which get an Error record) come back as `ok: false`.
 */
export async function serveNtsKeConnection(
  conn: Deno.Conn,
  options: NtsKeServerOptions,
): Promise<NtsKeServeResult> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    bestEffort(() => conn.close());
  }, options.timeoutMs ?? 10_000);
  let tls: MemoryTlsServer | null = null;
  try {
    tls = new MemoryTlsServer(
      options.context ?? {
        certFile: options.certFile,
        keyFile: options.keyFile,
        alpn: NTS_KE_ALPN,
      },
    );
    const parsed = await readKeMessage(conn, tls, "client", "request", (m) => new Error(m));
    if (!parsed.ok) {
      tls.write(encodeKeError(KeErrorCode.BAD_REQUEST));
      await writeAll(conn, tls.takeOutgoing());
      return { ok: false, message: parsed.error.message };
    }
    const request = interpretKeRequest(parsed.records, [AEAD_AES_SIV_CMAC_256]);
    if (!request.ok) {
      tls.write(encodeKeError(request.errorCode));
      tls.shutdown();
      await writeAll(conn, tls.takeOutgoing());
      return { ok: false, message: request.message };
    }
    const contents = { aeadId: request.aeadId, ...exportNtpKeys(tls, request.aeadId) };
    const cookies = Array.from(
      { length: COOKIES_PER_KE },
      () => makeCookie(options.cookieKey, options.random(16), contents),
    );
    tls.write(encodeKeResponse({
      aeadId: request.aeadId,
      cookies,
      server: options.ntpServer,
      port: options.ntpPort === undefined || options.ntpPort === 123 ? undefined : options.ntpPort,
    }));
    tls.shutdown();
    await writeAll(conn, tls.takeOutgoing());
    return { ok: true, aeadId: request.aeadId, cookies: cookies.length };
  } catch (e) {
    if (timedOut) return { ok: false, message: "timed out" };
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
    bestEffort(() => conn.close());
    tls?.free();
  }
}
