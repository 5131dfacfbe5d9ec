/**
 * NTS Key Establishment client (RFC 8915 section 4): a TLS 1.3 connection with ALPN
 * `ntske/1` to port 4460, one request (NTPv4, the AEAD algorithms offered), one response
 * (cookies, chosen AEAD, optional NTP server and port), and the two NTP keys taken from the
 * TLS exporter.
 *
 * Deno owns the TCP socket (Deno.connect); OpenSSL (ffi/openssl_tls.ts) only transforms bytes
 * in memory, so nothing blocks the event loop. The whole exchange runs under one deadline.
 *
 * @module
 */
import { type MemoryTls, MemoryTlsClient } from "../../ffi/openssl_tls.ts";
import { AEAD_AES_SIV_CMAC_256, SIV_KEY_LENGTH } from "./aead.ts";
import {
  decodeKeMessage,
  encodeKeRequest,
  interpretKeResponse,
  type KeRecord,
  keyExporterContext,
  MAX_KE_MESSAGE_LENGTH,
  NEXT_PROTOCOL_NTPV4,
  NTS_EXPORTER_LABEL,
} from "./ke_records.ts";
import { bestEffort } from "../base/errors.ts";

/** Default NTS-KE port. */
export const NTS_KE_PORT = 4460;
/** ALPN protocol ID of NTS-KE. */
export const NTS_KE_ALPN = "ntske/1";
/** Default NTP port. */
const NTP_PORT = 123;

/** Options of one NTS-KE exchange. */
export interface NtsKeOptions {
  /** Host to connect to (name or address). */
  host: string;
  /** NTS-KE port (default 4460). */
  port?: number;
  /** Name the certificate must match (default `host`). */
  serverName?: string;
  /** PEM file of trusted CA certificates (default: the system's). */
  caFile?: string;
  /** Deadline for the whole exchange in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Further trusted certificate files or directories ("/"-terminated): `ntstrustedcerts`. */
  trusted?: readonly string[];
  /** Trust the system's certificates too (default: only with no caFile or trusted). */
  systemCerts?: boolean;
  /** Skip the certificate validity-date check (`nocerttimecheck` while it applies). */
  noTimeCheck?: boolean;
  /** Check certificates at this lower bound on the time, for expiry only (cert_time.ts). */
  timeFloor?: number;
}

/** What an NTS-KE exchange gives the NTP client. */
export interface NtsKeResult {
  /** The AEAD algorithm negotiated (15). */
  aeadId: number;
  /** Client-to-server key. */
  c2sKey: Uint8Array;
  /** Server-to-client key. */
  s2cKey: Uint8Array;
  /** Cookies for NTP requests (each used once). */
  cookies: Uint8Array[];
  /** NTP server to query: the one negotiated, else the NTS-KE host. */
  ntpServer: string;
  /** NTP port: the one negotiated, else 123. */
  ntpPort: number;
  /** Warning codes the server sent. */
  warnings: number[];
}

/** An NTS-KE exchange failed; the message says where and why. */
export class NtsKeError extends Error {
  /**
   * Builds the error.
   * @param message one line describing the failure
   */
  constructor(message: string) {
    super(message);
    this.name = "NtsKeError";
  }
}

/** Writes all of `bytes` to `conn`. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let pos = 0;
  while (pos < bytes.length) pos += await conn.write(bytes.subarray(pos));
}

/**
 * One NTS-KE message over `conn` (either end; `tls` works in memory): completes the TLS
 * handshake, runs `afterHandshake` (which may queue application data), sends what is
 * pending, then reads the peer's message. Returns its records, or the decoder's error.
 * Throws `fail(...)` when the `peer` closes early or its `what` ("request" or "response")
 * grows too long.
 */
export async function readKeMessage(
  conn: Deno.Conn,
  tls: MemoryTls,
  peer: "client" | "server",
  what: "request" | "response",
  fail: (message: string) => Error,
  afterHandshake: () => void = () => {},
): Promise<{ ok: true; records: KeRecord[] } | { ok: false; error: { message: string } }> {
  const buf = new Uint8Array(16384);
  const fill = async (): Promise<void> => {
    await writeAll(conn, tls.takeOutgoing());
    const n = await conn.read(buf);
    if (n === null) throw fail(`connection closed by the ${peer}`);
    tls.receive(buf.subarray(0, n));
  };
  while (tls.handshake() !== "done") await fill();
  afterHandshake();
  await writeAll(conn, tls.takeOutgoing());
  let message = new Uint8Array(0);
  for (;;) {
    const got = tls.read();
    if (got === "want-read") {
      await fill();
      continue;
    }
    if (got === "closed") throw fail(`${what} ended before End of Message`);
    const grown = new Uint8Array(message.length + got.length);
    grown.set(message);
    grown.set(got, message.length);
    message = grown;
    const parsed = decodeKeMessage(message);
    if (!parsed.ok || parsed.complete) return parsed;
    if (message.length > MAX_KE_MESSAGE_LENGTH) throw fail(`${what} too long`);
  }
}

/** The two NTP keys of an NTS-KE session (RFC 8915 section 5.1), from the TLS exporter. */
export function exportNtpKeys(
  tls: MemoryTls,
  aeadId: number,
): { c2sKey: Uint8Array; s2cKey: Uint8Array } {
  const key = (direction: "c2s" | "s2c") =>
    tls.exportKeyingMaterial(
      NTS_EXPORTER_LABEL,
      keyExporterContext(NEXT_PROTOCOL_NTPV4, aeadId, direction),
      SIV_KEY_LENGTH,
    );
  return { c2sKey: key("c2s"), s2cKey: key("s2c") };
}

/** Runs one NTS-KE exchange. Throws NtsKeError (or TlsError) on any failure. */
export async function ntsKeExchange(options: NtsKeOptions): Promise<NtsKeResult> {
  const port = options.port ?? NTS_KE_PORT;
  const where = `NTS-KE ${options.host}:${port}`;
  const offered = [AEAD_AES_SIV_CMAC_256];
  let timedOut = false;
  let conn: Deno.Conn | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    bestEffort(() => conn?.close());
  }, options.timeoutMs ?? 10_000);
  const tls = new MemoryTlsClient({
    serverName: options.serverName ?? options.host,
    alpn: [NTS_KE_ALPN],
    caFile: options.caFile,
    trusted: options.trusted,
    systemCerts: options.systemCerts,
    noTimeCheck: options.noTimeCheck,
    timeFloor: options.timeFloor,
  });
  try {
    conn = await Deno.connect({ hostname: options.host, port, transport: "tcp" });
    const fail = (message: string) => new NtsKeError(`${where}: ${message}`);
    const parsed = await readKeMessage(conn, tls, "server", "response", fail, () => {
      const alpn = tls.alpnSelected();
      if (alpn !== NTS_KE_ALPN) {
        throw fail(`server did not select ALPN ${NTS_KE_ALPN} (got ${alpn})`);
      }
      tls.write(encodeKeRequest(offered));
    });
    if (!parsed.ok) throw fail(parsed.error.message);
    const response = interpretKeResponse(parsed.records, offered);
    if (!response.ok) throw fail(response.error.message);
    const r = response.response;
    const result: NtsKeResult = {
      aeadId: r.aeadId,
      ...exportNtpKeys(tls, r.aeadId),
      cookies: r.cookies,
      ntpServer: r.server ?? options.host,
      ntpPort: r.port ?? NTP_PORT,
      warnings: r.warnings,
    };
    tls.shutdown();
    await writeAll(conn, tls.takeOutgoing()).catch(() => {});
    return result;
  } catch (e) {
    if (timedOut) throw new NtsKeError(`${where}: timed out`);
    if (e instanceof Deno.errors.ConnectionRefused) {
      throw new NtsKeError(`${where}: connection refused`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
    bestEffort(() => conn?.close());
    tls.free();
  }
}
