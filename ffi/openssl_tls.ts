/**
 * TLS 1.3 client and server engines over OpenSSL memory BIOs (the server side is in
 * openssl_tls_server.ts). It never touches a socket: the caller
 * feeds it the bytes received from the network (`receive`), sends what it produces
 * (`takeOutgoing`), and calls `handshake`, `write` and `read`, each of which returns at once
 * (no OpenSSL call here can block). The peer's certificate is verified against the given CA
 * file (or the system's default paths) and the host name, or for an IP literal the
 * certificate's IP addresses (SNI is sent for names only). The keying-material exporter (RFC 5705 / RFC 8446 section 7.5) is exposed
 * because Deno's own TLS lacks it.
 *
 * @module
 */
import {
  cString,
  libcrypto,
  libssl,
  OpensslError,
  opensslErrors,
  readCString,
  SSL_CTRL_SET_MAX_PROTO_VERSION,
  SSL_CTRL_SET_MIN_PROTO_VERSION,
  SSL_CTRL_SET_TLSEXT_HOSTNAME,
  SSL_ERROR_SYSCALL,
  SSL_ERROR_WANT_READ,
  SSL_ERROR_WANT_WRITE,
  SSL_ERROR_ZERO_RETURN,
  SSL_VERIFY_PEER,
  TLS1_3_VERSION,
  TLSEXT_NAMETYPE_HOST_NAME,
  X509_V_ERR_CERT_NOT_YET_VALID,
  X509_V_FLAG_NO_CHECK_TIME,
  X509_V_OK,
} from "./openssl.ts";

/** Options of a TLS client engine. */
export interface TlsClientOptions {
  /** Name (or IP literal) the certificate must match; names are also sent as SNI. */
  serverName: string;
  /** ALPN protocols to offer, in preference order (e.g. ["ntske/1"]). */
  alpn: readonly string[];
  /** PEM file of trusted CA certificates; the system default paths when absent. */
  caFile?: string;
  /**
   * Further trusted certificates: PEM files, or directories of hashed certificates (a path
   * ending in "/"), added to `caFile` (chrony's `ntstrustedcerts`).
   */
  trusted?: readonly string[];
  /**
   * Whether the system's default certificates are trusted too (chrony: unless `nosystemcert`).
   * Default: only when neither `caFile` nor `trusted` is given.
   */
  systemCerts?: boolean;
  /** Skip the certificates' validity-date check (chrony's `nocerttimecheck`). */
  noTimeCheck?: boolean;
  /**
   * A lower bound on the true time (Unix seconds), for a clock known to be wrong: certificates
   * are checked at this time, and only their expiry counts (a certificate that expired before
   * it is refused; one not yet valid then may be valid now, so its notBefore is ignored).
   * Excludes `noTimeCheck`.
   */
  timeFloor?: number;
}

/** What a step of the engine needs next. */
export type TlsStep = "done" | "want-read";

/** A TLS failure (handshake refused, certificate rejected, protocol error). */
export class TlsError extends Error {
  /**
   * Builds the error.
   * @param message one line describing the failure
   */
  constructor(message: string) {
    super(message);
    this.name = "TlsError";
  }
}

function isIpLiteral(name: string): boolean {
  return /^[0-9.]+$/.test(name) || name.includes(":");
}

/** Encodes ALPN protocol names in the wire format (length-prefixed strings). */
export function alpnWire(protocols: readonly string[]): Uint8Array<ArrayBuffer> {
  const parts = protocols.map((p) => new TextEncoder().encode(p));
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 255) throw new RangeError(`bad ALPN protocol name`);
    out[pos++] = p.length;
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** The OpenSSL objects behind one TLS endpoint (for openssl_tls_server.ts). */
export interface TlsHandles {
  /** The SSL_CTX (one reference is released by `free`). */
  ctx: NonNullable<Deno.PointerValue>;
  /** The SSL object. */
  ssl: NonNullable<Deno.PointerValue>;
  /** The memory BIO OpenSSL reads from. */
  rbio: NonNullable<Deno.PointerValue>;
  /** The memory BIO OpenSSL writes to. */
  wbio: NonNullable<Deno.PointerValue>;
  /** Called once the engine is freed. */
  onFree: () => void;
}

/** A context restricted to TLS 1.3; throws OpensslError. */
export function tls13Context(method: Deno.PointerValue): NonNullable<Deno.PointerValue> {
  const ssl = libssl();
  opensslErrors();
  const ctx = ssl.SSL_CTX_new(method);
  if (ctx === null) throw new OpensslError("SSL_CTX_new");
  if (
    ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, BigInt(TLS1_3_VERSION), null) !== 1n ||
    ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, BigInt(TLS1_3_VERSION), null) !== 1n
  ) {
    ssl.SSL_CTX_free(ctx);
    throw new OpensslError("SSL_CTX_set_min/max_proto_version(TLS 1.3)");
  }
  return ctx;
}

/** An SSL object on `ctx` with two memory BIOs; throws OpensslError. */
export function memorySsl(ctx: NonNullable<Deno.PointerValue>): TlsHandles {
  const ssl = libssl();
  const crypto = libcrypto();
  const handle = ssl.SSL_new(ctx);
  if (handle === null) throw new OpensslError("SSL_new");
  const rbio = crypto.BIO_new(crypto.BIO_s_mem());
  const wbio = crypto.BIO_new(crypto.BIO_s_mem());
  if (rbio === null || wbio === null) {
    ssl.SSL_free(handle);
    throw new OpensslError("BIO_new");
  }
  ssl.SSL_set_bio(handle, rbio, wbio);
  return { ctx, ssl: handle, rbio, wbio, onFree: () => {} };
}

const VERIFY_CALLBACK = { parameters: ["i32", "pointer"], result: "i32" } as const;
type VerifyCallback = Deno.UnsafeCallback<typeof VERIFY_CALLBACK>;

/** A verify callback that forgives "not yet valid" (and nothing else). */
function expiryOnlyCallback(): VerifyCallback {
  return new Deno.UnsafeCallback(VERIFY_CALLBACK, (ok, storeCtx) => {
    if (ok === 1) return 1;
    const crypto = libcrypto();
    if (
      storeCtx !== null &&
      crypto.X509_STORE_CTX_get_error(storeCtx) === X509_V_ERR_CERT_NOT_YET_VALID
    ) {
      crypto.X509_STORE_CTX_set_error(storeCtx, X509_V_OK);
      return 1;
    }
    return 0;
  });
}

/** Checks certificates at `floor` for expiry only (TlsClientOptions.timeFloor). */
function verifyAtFloor(handle: NonNullable<Deno.PointerValue>, floor: number): VerifyCallback {
  if (!Number.isFinite(floor)) throw new RangeError(`bad certificate time floor ${floor}`);
  const param = libssl().SSL_get0_param(handle);
  if (param === null) throw new OpensslError("SSL_get0_param");
  libcrypto().X509_VERIFY_PARAM_set_time(param, BigInt(Math.floor(floor)));
  const callback = expiryOnlyCallback();
  libssl().SSL_set_verify(handle, SSL_VERIFY_PEER, callback.pointer);
  return callback;
}

function clientHandles(options: TlsClientOptions): TlsHandles {
  const ssl = libssl();
  const crypto = libcrypto();
  if (options.noTimeCheck === true && options.timeFloor !== undefined) {
    throw new RangeError("noTimeCheck and timeFloor exclude each other");
  }
  const ctx = tls13Context(ssl.TLS_client_method());
  let handles: TlsHandles | null = null;
  let callback: VerifyCallback | null = null;
  try {
    ssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, null);
    const files = [
      ...(options.caFile === undefined ? [] : [options.caFile]),
      ...(options.trusted ?? []),
    ];
    if (options.systemCerts ?? files.length === 0) {
      if (ssl.SSL_CTX_set_default_verify_paths(ctx) !== 1) {
        throw new OpensslError(`loading the system's trusted certificates`);
      }
    }
    for (const f of files) {
      const dir = f.endsWith("/");
      const loaded = ssl.SSL_CTX_load_verify_locations(
        ctx,
        dir ? null : cString(f),
        dir ? cString(f) : null,
      );
      if (loaded !== 1) throw new OpensslError(`loading trusted certificates from ${f}`);
    }
    handles = memorySsl(ctx);
    const handle = handles.ssl;
    if (options.noTimeCheck === true) {
      const param = ssl.SSL_get0_param(handle);
      if (
        param === null ||
        crypto.X509_VERIFY_PARAM_set_flags(param, BigInt(X509_V_FLAG_NO_CHECK_TIME)) !== 1
      ) {
        throw new OpensslError("X509_VERIFY_PARAM_set_flags(NO_CHECK_TIME)");
      }
    }
    if (options.timeFloor !== undefined) {
      const installed = verifyAtFloor(handle, options.timeFloor);
      callback = installed;
      handles.onFree = () => installed.close();
    }
    if (isIpLiteral(options.serverName)) {
      // An address is matched against the certificate's IP SANs (and sent without SNI).
      const param = ssl.SSL_get0_param(handle);
      const ip = cString(options.serverName);
      if (param === null || crypto.X509_VERIFY_PARAM_set1_ip_asc(param, ip) !== 1) {
        throw new OpensslError(`X509_VERIFY_PARAM_set1_ip_asc(${options.serverName})`);
      }
    } else {
      if (ssl.SSL_set1_host(handle, cString(options.serverName)) !== 1) {
        throw new OpensslError("SSL_set1_host");
      }
      const sni = ssl.SSL_ctrl(
        handle,
        SSL_CTRL_SET_TLSEXT_HOSTNAME,
        BigInt(TLSEXT_NAMETYPE_HOST_NAME),
        cString(options.serverName),
      );
      if (sni !== 1n) throw new OpensslError("SSL_set_tlsext_host_name");
    }
    const alpn = alpnWire(options.alpn);
    if (ssl.SSL_set_alpn_protos(handle, alpn, alpn.length) !== 0) {
      throw new OpensslError("SSL_set_alpn_protos");
    }
    ssl.SSL_set_connect_state(handle);
    return handles;
  } catch (e) {
    if (handles !== null) ssl.SSL_free(handles.ssl);
    ssl.SSL_CTX_free(ctx);
    callback?.close();
    throw e;
  }
}

/** One TLS 1.3 endpoint driven through memory BIOs. Call `free` when done. */
export class MemoryTls {
  #ctx: NonNullable<Deno.PointerValue>;
  #ssl: NonNullable<Deno.PointerValue>;
  #rbio: NonNullable<Deno.PointerValue>;
  #wbio: NonNullable<Deno.PointerValue>;
  #onFree: () => void;
  #freed = false;

  /** Wraps handles made by the client or server constructors. */
  protected constructor(handles: TlsHandles) {
    this.#ctx = handles.ctx;
    this.#ssl = handles.ssl;
    this.#rbio = handles.rbio;
    this.#wbio = handles.wbio;
    this.#onFree = handles.onFree;
  }

  /** Feeds bytes received from the network. */
  receive(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      const chunk = bytes.slice(pos, pos + 65536);
      const n = libcrypto().BIO_write(this.#rbio, chunk, chunk.length);
      if (n <= 0) throw new OpensslError("BIO_write");
      pos += n;
    }
  }

  /** Takes the bytes the engine wants sent (empty when none). */
  takeOutgoing(): Uint8Array {
    const crypto = libcrypto();
    const pending = Number(crypto.BIO_ctrl_pending(this.#wbio));
    if (pending === 0) return new Uint8Array(0);
    const out = new Uint8Array(pending);
    const n = crypto.BIO_read(this.#wbio, out, pending);
    return n > 0 ? out.subarray(0, n) : new Uint8Array(0);
  }

  /** Why the last call returned `ret`; throws TlsError on a fatal condition. */
  #classify(ret: number, what: string): "want-read" | "closed" {
    const code = libssl().SSL_get_error(this.#ssl, ret);
    if (code === SSL_ERROR_WANT_READ || code === SSL_ERROR_WANT_WRITE) return "want-read";
    if (code === SSL_ERROR_ZERO_RETURN) return "closed";
    const verify = libssl().SSL_get_verify_result(this.#ssl);
    const queue = opensslErrors();
    if (verify !== 0n) {
      const reason = readCString(libcrypto().X509_verify_cert_error_string(verify));
      throw new TlsError(`${what}: certificate verification failed: ${reason}`);
    }
    if (code === SSL_ERROR_SYSCALL && queue === "") {
      throw new TlsError(`${what}: connection closed without TLS close_notify`);
    }
    throw new TlsError(`${what} failed (SSL error ${code})${queue === "" ? "" : `: ${queue}`}`);
  }

  /** Advances the handshake: "done", or "want-read" (send outgoing, then feed input). */
  handshake(): TlsStep {
    const ret = libssl().SSL_do_handshake(this.#ssl);
    if (ret === 1) return "done";
    const why = this.#classify(ret, "TLS handshake");
    if (why === "closed") throw new TlsError("TLS handshake: peer closed the connection");
    return "want-read";
  }

  /** The negotiated protocol version number (0x0304 for TLS 1.3). */
  version(): number {
    return libssl().SSL_version(this.#ssl);
  }

  /** The ALPN protocol the server selected, or null. */
  alpnSelected(): string | null {
    const dataPtr = new BigUint64Array(1);
    const length = new Uint32Array(1);
    libssl().SSL_get0_alpn_selected(this.#ssl, dataPtr, length);
    const pointer = Deno.UnsafePointer.create(dataPtr[0]);
    if (pointer === null || length[0] === 0) return null;
    const bytes = new Uint8Array(
      Deno.UnsafePointerView.getArrayBuffer(pointer, length[0]),
    ).slice();
    return new TextDecoder().decode(bytes);
  }

  /** Encrypts application data after the handshake (then send `takeOutgoing()`). */
  write(data: Uint8Array): void {
    if (data.length === 0) return;
    const copy = data.slice();
    const ret = libssl().SSL_write(this.#ssl, copy, copy.length);
    if (ret !== copy.length) {
      this.#classify(ret, "TLS write");
      throw new TlsError("TLS write: short write");
    }
  }

  /**
   * Decrypts available application data: bytes, "want-read" when more input is needed, or
   * "closed" when the peer sent close_notify.
   */
  read(max = 16384): Uint8Array | "want-read" | "closed" {
    const buf = new Uint8Array(max);
    const ret = libssl().SSL_read(this.#ssl, buf, max);
    if (ret > 0) return buf.slice(0, ret);
    return this.#classify(ret, "TLS read");
  }

  /**
   * The TLS exporter (RFC 8446 section 7.5) with a context: `length` octets for `label`.
   * Valid only after the handshake completed.
   */
  exportKeyingMaterial(label: string, context: Uint8Array, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const labelBytes = new TextEncoder().encode(label);
    const ctx = new Uint8Array(Math.max(1, context.length));
    ctx.set(context);
    const ok = libssl().SSL_export_keying_material(
      this.#ssl,
      out,
      BigInt(length),
      labelBytes,
      BigInt(labelBytes.length),
      ctx,
      BigInt(context.length),
      1,
    );
    if (ok !== 1) throw new OpensslError("SSL_export_keying_material");
    return out;
  }

  /** Queues a close_notify (send `takeOutgoing()` afterwards). */
  shutdown(): void {
    libssl().SSL_shutdown(this.#ssl);
    opensslErrors();
  }

  /** Frees the OpenSSL objects (the BIOs go with the SSL). Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    libssl().SSL_free(this.#ssl);
    libssl().SSL_CTX_free(this.#ctx);
    this.#onFree();
  }
}

/** A TLS 1.3 client: verifies the server's certificate and name, offers ALPN. */
export class MemoryTlsClient extends MemoryTls {
  /** Creates the engine; throws OpensslError when OpenSSL refuses the configuration. */
  constructor(options: TlsClientOptions) {
    super(clientHandles(options));
  }
}
