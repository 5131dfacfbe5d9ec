/**
 * The port through which an NTP client source authenticates its requests and checks its
 * replies with a scheme the core does not implement itself (Network Time Security, whose
 * keys, cookies and AEAD live at the edge in src/nts). The core stays sans-IO and FFI-free:
 * it hands the 48-octet request over and gets the protected octets back, and asks whether a
 * reply is authentic. Symmetric keys (ntp/auth.ts) stay in measure.ts as before.
 *
 * @module
 */

/** What the authenticator made of a reply. */
export type PacketAuthCheck =
  /** Authentic, and a reply to the request protected last. */
  | "ok"
  /** A negative acknowledgement (NTS: KoD NTSN echoing our identifier): keys must be renewed. */
  | "nak"
  /** Not authentic (tampered, replayed, unknown identifier, wrong keys). */
  | "fail";

/** Figures of the authentication state for reports (chronyc authdata). */
export interface PacketAuthState {
  /** Mode shown by chronyc authdata ("NTS"). */
  mode: string;
  /** Key ID shown (NTS: the number of the current keys, counting from 1, as chrony's context ID). */
  keyId: number;
  /** AEAD algorithm number (RFC 5116 registry: 15 = AES-SIV-CMAC-256). */
  keyType: number;
  /** Key length, bits. */
  keyLength: number;
  /** NTS-KE attempts since the last successful one. */
  keAttempts: number;
  /** Seconds since the current keys were established, or null when there are none. */
  lastKeAgo: number | null;
  /** Cookies held. */
  cookies: number;
  /** Length of the cookies held, octets. */
  cookieLength: number;
  /** A NAK was received and the keys are not yet renewed. */
  nak: boolean;
}

/** An authentication scheme for one client source. */
export interface PacketAuthenticator {
  /**
   * Protects a request (the 48-octet header) and remembers it as the one a reply must
   * answer; null when no request can be protected now (keys being established).
   */
  protect(request: Uint8Array): Uint8Array | null;
  /** Checks a reply to the request protected last. Never throws. */
  check(reply: Uint8Array): PacketAuthCheck;
  /** The state for reports. */
  state(): PacketAuthState;
}
