/**
 * The NTP server's transmit reports for interleaved mode: once a server socket has kernel
 * transmit timestamps on (`KernelSocket.enableTxFrames`, from the first reply saved for
 * interleaved mode), each datagram it sends comes back on the socket's error queue with the
 * time it left. This drains them and hands each timestamp of a saved reply to the store
 * (src/core/serve/tx_timestamps.ts), found by the receive timestamp the reply carries, as
 * chrony's NCR_ProcessTxUnknown does; a symmetric active packet's timestamp goes to the
 * engine's peers (`peerTransmitted`), as chrony's NCR_ProcessTxKnown. Mechanism only: what is kept and for how long is the
 * store's business.
 *
 * @module
 */
import type { ClientLog } from "../core/client_log.ts";
import type { TxTimestampStore } from "../core/serve/tx_timestamps.ts";
import type { KernelSocket } from "./kernel_socket.ts";
import type { Instant } from "../base/time.ts";

/**
 * Drains the socket's transmit reports: each reply saved for interleaved mode gets the
 * kernel's transmit timestamp, found by the receive timestamp it carries (chrony's
 * NCR_ProcessTxUnknown); the store refuses one that is not 0..1 s after the daemon's.
 */
export function collectTxTimestamps(
  sock: KernelSocket,
  store: TxTimestampStore | null,
  clientLog: ClientLog | null,
  peerTransmitted?: (payload: Uint8Array, tx: Instant) => void,
): void {
  for (let i = 0; i < TX_REPORTS_PER_DRAIN; i++) {
    const r = sock.readTxFrame();
    if (r === null) return;
    const p = r.payload;
    const mode = p === null ? 0 : p[0] & 7;
    // Symmetric active packets (1) are the peers' (interleaved symmetric mode).
    if (mode === 1 && p !== null && p.length >= 48 && peerTransmitted !== undefined) {
      const tx = r.cook();
      if (tx !== null) peerTransmitted(p, tx);
      continue;
    }
    // Server (4) and symmetric passive (2) replies are what the store may hold.
    if (store === null || p === null || p.length < 48 || (mode !== 4 && mode !== 2)) continue;
    const key = new DataView(p.buffer, p.byteOffset + 32, 8).getBigUint64(0, false);
    if (!store.wants(key)) continue;
    const tx = r.cook();
    if (tx !== null && store.updateTx(key, tx)) clientLog?.countKernelTx();
  }
}

/** Transmit reports read per drain at most (the rest wait for the next wake-up). */
const TX_REPORTS_PER_DRAIN = 1024;
