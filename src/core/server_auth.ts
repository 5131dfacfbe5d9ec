/**
 * The port through which the NTP responder (server.ts) serves requests protected by a
 * scheme the core does not implement itself (Network Time Security: cookies, AEAD and keys
 * live at the edge, src/daemon/nts_server.ts). The responder still builds the 48-octet reply
 * header; the authenticator appends its fields, or turns the reply into a NAK.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";

/** What the authenticator made of a request. */
export type ServerAuthVerdict =
  /** Not protected by this scheme: the responder's other checks apply. */
  | { kind: "not-mine" }
  /** Protected but unusable (no NAK possible): no reply. */
  | { kind: "drop" }
  /**
   * Answer: `finish` gets the reply header the responder built (48 octets, reused buffer)
   * and returns the datagram to send (authenticated reply or NAK), or null for none. It may
   * rewrite the transmit timestamp (octets 40-47) from `readTxTime` to account for its own
   * work after it (sealing the reply takes far longer than building a plain one).
   */
  | {
    kind: "reply";
    finish: (header: Uint8Array, readTxTime: () => Instant) => Uint8Array | null;
  };

/** A server-side authentication scheme. */
export interface ServerAuthenticator {
  /** Checks a request longer than the NTP header. Never throws. */
  check(request: Uint8Array): ServerAuthVerdict;
}
