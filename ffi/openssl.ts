/**
 * Deno.dlopen bindings of the OpenSSL 3 calls NTS needs: the EVP cipher interface (for
 * AES-SIV) from libcrypto.so.3, and a TLS 1.3 client over memory BIOs from libssl.so.3.
 * Both libraries are opened lazily on first use, so importing this module never fails on a
 * system without them. Needs --allow-ffi.
 *
 * Only thin wrappers live here; the NTS logic is in src/nts/. Several OpenSSL "functions"
 * are macros over SSL_ctrl / SSL_CTX_ctrl; the control codes they expand to are exported as
 * constants below.
 *
 * @module
 */

/** The libcrypto functions bound, with their FFI signatures. */
export const LIBCRYPTO_SYMBOLS = {
  EVP_CIPHER_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_CIPHER_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_set_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_DecryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_EncryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_DecryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_EncryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_DecryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_clear_error: { parameters: [], result: "void" },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  X509_VERIFY_PARAM_set1_ip_asc: { parameters: ["pointer", "buffer"], result: "i32" },
  X509_VERIFY_PARAM_set_flags: { parameters: ["pointer", "u64"], result: "i32" },
  X509_VERIFY_PARAM_set_time: { parameters: ["pointer", "i64"], result: "void" },
  X509_STORE_CTX_get_error: { parameters: ["pointer"], result: "i32" },
  X509_STORE_CTX_set_error: { parameters: ["pointer", "i32"], result: "void" },
} as const;

/** The libssl functions bound, with their FFI signatures. */
export const LIBSSL_SYMBOLS = {
  TLS_client_method: { parameters: [], result: "pointer" },
  TLS_server_method: { parameters: [], result: "pointer" },
  SSL_CTX_use_certificate_chain_file: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_CTX_use_PrivateKey_file: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_set_alpn_select_cb: { parameters: ["pointer", "function", "pointer"], result: "void" },
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_up_ref: { parameters: ["pointer"], result: "i32" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "pointer"], result: "void" },
  SSL_set_verify: { parameters: ["pointer", "i32", "function"], result: "void" },
  SSL_CTX_load_verify_locations: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
  },
  SSL_CTX_set_default_verify_paths: { parameters: ["pointer"], result: "i32" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  SSL_set1_host: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_get0_param: { parameters: ["pointer"], result: "pointer" },
  SSL_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_get0_alpn_selected: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_version: { parameters: ["pointer"], result: "i32" },
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  SSL_export_keying_material: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "buffer", "usize", "i32"],
    result: "i32",
  },
} as const;

/** The opened libcrypto symbols. */
export type LibCrypto = Deno.DynamicLibrary<typeof LIBCRYPTO_SYMBOLS>["symbols"];
/** The opened libssl symbols. */
export type LibSsl = Deno.DynamicLibrary<typeof LIBSSL_SYMBOLS>["symbols"];

/** EVP_CIPHER_CTX_ctrl code: read the AEAD tag after encryption. */
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
/** EVP_CIPHER_CTX_ctrl code: set the expected AEAD tag before decryption. */
export const EVP_CTRL_AEAD_SET_TAG = 0x11;
/** SSL_ctrl code behind SSL_set_tlsext_host_name (SNI). */
export const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
/** SSL_CTX_ctrl code behind SSL_CTX_set_min_proto_version. */
export const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
/** SSL_CTX_ctrl code behind SSL_CTX_set_max_proto_version. */
export const SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
/** Protocol version number of TLS 1.3. */
export const TLS1_3_VERSION = 0x0304;
/** SSL_CTX_set_verify mode: verify the peer's certificate. */
export const SSL_VERIFY_PEER = 0x01;
/** X509_V_FLAG_NO_CHECK_TIME: verify certificates without checking their validity dates. */
export const X509_V_FLAG_NO_CHECK_TIME = 0x200000;
/** X509_V_OK: no verification error. */
export const X509_V_OK = 0;
/** X509_V_ERR_CERT_NOT_YET_VALID: a certificate's notBefore is after the verification time. */
export const X509_V_ERR_CERT_NOT_YET_VALID = 9;
/** SSL_get_error: a protocol or library error. */
export const SSL_ERROR_SSL = 1;
/** SSL_get_error: more input is needed from the network. */
export const SSL_ERROR_WANT_READ = 2;
/** SSL_get_error: output must be flushed first. */
export const SSL_ERROR_WANT_WRITE = 3;
/** SSL_get_error: a system call failed (or EOF without close_notify). */
export const SSL_ERROR_SYSCALL = 5;
/** SSL_get_error: the peer sent close_notify. */
export const SSL_ERROR_ZERO_RETURN = 6;
/** SSL_FILETYPE_PEM. */
export const SSL_FILETYPE_PEM = 1;
/** ALPN select callback result: protocol chosen. */
export const SSL_TLSEXT_ERR_OK = 0;
/** ALPN select callback result: no common protocol, abort with a fatal alert. */
export const SSL_TLSEXT_ERR_ALERT_FATAL = 2;
/** Signature of the ALPN select callback (SSL_CTX_set_alpn_select_cb). */
export const ALPN_SELECT_CALLBACK = {
  parameters: ["pointer", "pointer", "pointer", "pointer", "u32", "pointer"],
  result: "i32",
} as const;
/** TLSEXT_NAMETYPE_host_name. */
export const TLSEXT_NAMETYPE_HOST_NAME = 0;

let crypto: LibCrypto | null = null;
let ssl: LibSsl | null = null;

/** The libcrypto symbols, opening libcrypto.so.3 on first use. Throws if it cannot. */
export function libcrypto(): LibCrypto {
  if (crypto === null) crypto = Deno.dlopen("libcrypto.so.3", LIBCRYPTO_SYMBOLS).symbols;
  return crypto;
}

/** The libssl symbols, opening libssl.so.3 on first use. Throws if it cannot. */
export function libssl(): LibSsl {
  if (ssl === null) ssl = Deno.dlopen("libssl.so.3", LIBSSL_SYMBOLS).symbols;
  return ssl;
}

/** True when libcrypto.so.3 and libssl.so.3 can be opened. */
export function opensslAvailable(): boolean {
  try {
    libcrypto();
    libssl();
    return true;
  } catch {
    return false;
  }
}

/** A NUL-terminated copy of `text` for `char *` parameters. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/** Reads a NUL-terminated C string at `pointer` ("" for NULL). */
export function readCString(pointer: Deno.PointerValue): string {
  if (pointer === null) return "";
  return new Deno.UnsafePointerView(pointer).getCString();
}

/**
 * Drains OpenSSL's thread error queue into one line of text ("" when it was empty), so
 * later calls start from a clean queue.
 */
export function opensslErrors(): string {
  const lib = libcrypto();
  const parts: string[] = [];
  const buf = new Uint8Array(256);
  for (let i = 0; i < 16; i++) {
    const code = lib.ERR_get_error();
    if (code === 0n) break;
    lib.ERR_error_string_n(code, buf, BigInt(buf.length));
    const end = buf.indexOf(0);
    parts.push(new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end)));
  }
  lib.ERR_clear_error();
  return parts.join("; ");
}

/** An OpenSSL call failed; the message carries the drained error queue. */
export class OpensslError extends Error {
  /**
   * Builds the error for a failed call.
   * @param call the OpenSSL function that failed
   * @param detail extra text (defaults to the error queue)
   */
  constructor(call: string, detail: string = opensslErrors()) {
    super(`${call} failed${detail === "" ? "" : `: ${detail}`}`);
    this.name = "OpensslError";
  }
}
