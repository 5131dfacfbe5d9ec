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
import { AEAD_AES_SIV_CMAC_256, SIV_KEY_LENGTH } from "./aead.ts";
import { type CookieKey, makeCookie } from "./cookies.ts";
import { NTS_KE_ALPN } from "./ke_client.ts";
import {
  decodeKeMessage,
  encodeKeError,
  encodeKeResponse,
  interpretKeRequest,
  KeErrorCode,
  keyExporterContext,
  MAX_KE_MESSAGE_LENGTH,
  NEXT_PROTOCOL_NTPV4,
  NTS_EXPORTER_LABEL,
} from "./ke_records.ts";
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

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let pos = 0;
  while (pos < bytes.length) pos += await conn.write(bytes.subarray(pos));
}

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
    const engine = tls;
    const buf = new Uint8Array(16384);
    const fill = async (): Promise<void> => {
      await writeAll(conn, engine.takeOutgoing());
      const n = await conn.read(buf);
      if (n === null) throw new Error("connection closed by the client");
      engine.receive(buf.subarray(0, n));
    };
    while (engine.handshake() !== "done") await fill();
    await writeAll(conn, engine.takeOutgoing());
    let message = new Uint8Array(0);
    let records = null;
    while (records === null) {
      const got = engine.read();
      if (got === "want-read") {
        await fill();
        continue;
      }
      if (got === "closed") throw new Error("request ended before End of Message");
      const grown = new Uint8Array(message.length + got.length);
      grown.set(message);
      grown.set(got, message.length);
      message = grown;
      const parsed = decodeKeMessage(message);
      if (!parsed.ok) {
        engine.write(encodeKeError(KeErrorCode.BAD_REQUEST));
        await writeAll(conn, engine.takeOutgoing());
        return { ok: false, message: parsed.error.message };
      }
      if (parsed.complete) records = parsed.records;
      else if (message.length > MAX_KE_MESSAGE_LENGTH) throw new Error("request too long");
    }
    const request = interpretKeRequest(records, [AEAD_AES_SIV_CMAC_256]);
    if (!request.ok) {
      engine.write(encodeKeError(request.errorCode));
      engine.shutdown();
      await writeAll(conn, engine.takeOutgoing());
      return { ok: false, message: request.message };
    }
    const key = (direction: "c2s" | "s2c") =>
      engine.exportKeyingMaterial(
        NTS_EXPORTER_LABEL,
        keyExporterContext(NEXT_PROTOCOL_NTPV4, request.aeadId, direction),
        SIV_KEY_LENGTH,
      );
    const contents = { aeadId: request.aeadId, c2sKey: key("c2s"), s2cKey: key("s2c") };
    const cookies = Array.from(
      { length: COOKIES_PER_KE },
      () => makeCookie(options.cookieKey, options.random(16), contents),
    );
    engine.write(encodeKeResponse({
      aeadId: request.aeadId,
      cookies,
      server: options.ntpServer,
      port: options.ntpPort === undefined || options.ntpPort === 123 ? undefined : options.ntpPort,
    }));
    engine.shutdown();
    await writeAll(conn, engine.takeOutgoing());
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
