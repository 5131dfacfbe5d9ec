/**
 * The server side of ffi/openssl_tls.ts: a TLS 1.3 server engine over memory BIOs that
 * presents a certificate and requires one ALPN protocol, and a server context shared by many
 * connections (certificate and key loaded once).
 *
 * @module
 */
import {
  ALPN_SELECT_CALLBACK,
  cString,
  libssl,
  OpensslError,
  SSL_FILETYPE_PEM,
  SSL_TLSEXT_ERR_ALERT_FATAL,
  SSL_TLSEXT_ERR_OK,
} from "./openssl.ts";
import { memorySsl, MemoryTls, tls13Context, TlsError, type TlsHandles } from "./openssl_tls.ts";

/** Options of a TLS server engine. */
export interface TlsServerOptions {
  /** PEM file with the certificate chain (server certificate first). */
  certFile: string;
  /** PEM file with the private key. */
  keyFile: string;
  /** The one ALPN protocol served; clients not offering it are refused. */
  alpn: string;
}

/** The ALPN selection callback handed to OpenSSL. */
type AlpnCallback = Deno.UnsafeCallback<typeof ALPN_SELECT_CALLBACK>;

/** A server context: TLS 1.3, the certificate and key loaded, the ALPN callback set. */
function serverContext(
  options: TlsServerOptions,
): { ctx: NonNullable<Deno.PointerValue>; callback: AlpnCallback } {
  const ssl = libssl();
  const ctx = tls13Context(ssl.TLS_server_method());
  const wanted = new TextEncoder().encode(options.alpn);
  // ALPN: pick `wanted` from the client's list (the chosen name points into that list).
  const callback = new Deno.UnsafeCallback(
    ALPN_SELECT_CALLBACK,
    (_ssl, out, outLength, input, inputLength) => {
      if (out === null || outLength === null || input === null) return SSL_TLSEXT_ERR_ALERT_FATAL;
      const list = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(input, inputLength));
      for (let pos = 0; pos < list.length;) {
        const length = list[pos];
        const name = list.subarray(pos + 1, pos + 1 + length);
        if (name.length === wanted.length && name.every((b, i) => b === wanted[i])) {
          const chosen = Deno.UnsafePointer.value(input) as bigint + BigInt(pos + 1);
          new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(out, 8))[0] = chosen;
          new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(outLength, 1))[0] = length;
          return SSL_TLSEXT_ERR_OK;
        }
        pos += 1 + length;
      }
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    },
  );
  try {
    if (ssl.SSL_CTX_use_certificate_chain_file(ctx, cString(options.certFile)) !== 1) {
      throw new OpensslError(`loading certificate ${options.certFile}`);
    }
    if (ssl.SSL_CTX_use_PrivateKey_file(ctx, cString(options.keyFile), SSL_FILETYPE_PEM) !== 1) {
      throw new OpensslError(`loading private key ${options.keyFile}`);
    }
    if (ssl.SSL_CTX_check_private_key(ctx) !== 1) {
      throw new OpensslError("the private key does not match the certificate");
    }
    ssl.SSL_CTX_set_alpn_select_cb(ctx, callback.pointer, null);
    return { ctx, callback };
  } catch (e) {
    ssl.SSL_CTX_free(ctx);
    callback.close();
    throw e;
  }
}

function serverHandles(options: TlsServerOptions): TlsHandles {
  const { ctx, callback } = serverContext(options);
  try {
    const handles = memorySsl(ctx);
    libssl().SSL_set_accept_state(handles.ssl);
    return { ...handles, onFree: () => callback.close() };
  } catch (e) {
    libssl().SSL_CTX_free(ctx);
    callback.close();
    throw e;
  }
}

/**
 * A server context shared by many connections: the certificate and key are loaded once (at
 * creation, so errors show at start-up, and never again, so they may become unreadable
 * after a privilege drop). `free` it when no more connections are made; connections still
 * open keep it alive (OpenSSL counts references).
 */
export class TlsServerContext {
  readonly #ctx: NonNullable<Deno.PointerValue>;
  readonly #callback: AlpnCallback;
  #freed = false;

  /** Loads the certificate and key; throws OpensslError when they cannot be used. */
  constructor(options: TlsServerOptions) {
    const { ctx, callback } = serverContext(options);
    this.#ctx = ctx;
    this.#callback = callback;
  }

  /** Handles of a new connection on this context (holding one context reference). */
  handles(): TlsHandles {
    if (this.#freed) throw new TlsError("TLS server context already freed");
    const ssl = libssl();
    if (ssl.SSL_CTX_up_ref(this.#ctx) !== 1) throw new OpensslError("SSL_CTX_up_ref");
    try {
      const handles = memorySsl(this.#ctx);
      ssl.SSL_set_accept_state(handles.ssl);
      return handles;
    } catch (e) {
      ssl.SSL_CTX_free(this.#ctx);
      throw e;
    }
  }

  /** Drops the context's own reference. The ALPN callback stays (connections may use it). */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    libssl().SSL_CTX_free(this.#ctx);
  }

  /** Closes the ALPN callback too: only when no connection of this context is left. */
  close(): void {
    this.free();
    this.#callback.close();
  }
}

/**
 * A TLS 1.3 server for one connection: presents the certificate, requires the ALPN
 * protocol.
 */
export class MemoryTlsServer extends MemoryTls {
  /**
   * Creates the engine, on its own context (loading the certificate and key now) or on a
   * shared one; throws OpensslError when the certificate or key cannot be used.
   */
  constructor(options: TlsServerOptions | TlsServerContext) {
    super(options instanceof TlsServerContext ? options.handles() : serverHandles(options));
  }
}
