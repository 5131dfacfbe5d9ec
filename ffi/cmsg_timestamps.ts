/**
 * Kernel timestamps in the control messages of a recvmsg (Linux LP64 layout): the receive
 * timestamp of SO_TIMESTAMPNS and the software transmit timestamp of SO_TIMESTAMPING.
 * Malformed control data gives null, never an exception.
 *
 * @module
 */
import type { Instant } from "../src/base/time.ts";

const SOL_SOCKET = 1;
/** SCM_TIMESTAMPNS = SO_TIMESTAMPNS. */
const SCM_TIMESTAMPNS = 35;
/** SCM_TIMESTAMPING = SO_TIMESTAMPING. */
const SCM_TIMESTAMPING = 37;

/**
 * Walks the control messages in `control[0..length)` (the control data of a recvmsg) and
 * returns the first timespec of the first SOL_SOCKET message of `type`, at least `minLength`
 * octets long, that `accept` takes; null when there is none or the data is malformed.
 */
function findCmsgTimespec(
  control: Uint8Array,
  length: number,
  type: number,
  minLength: number,
  accept: (t: Instant) => boolean,
): Instant | null {
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let at = 0;
  while (at + 16 <= length) {
    const cmsgLen = Number(v.getBigUint64(at, true));
    const level = v.getInt32(at + 8, true);
    const cmsgType = v.getInt32(at + 12, true);
    if (cmsgLen < 16 || at + cmsgLen > length) return null;
    if (level === SOL_SOCKET && cmsgType === type && cmsgLen >= minLength) {
      const t = v.getBigInt64(at + 16, true) * 1_000_000_000n + v.getBigInt64(at + 24, true);
      if (accept(t)) return t;
    }
    at += Math.ceil(cmsgLen / 8) * 8;
  }
  return null;
}

/**
 * Finds the SCM_TIMESTAMPNS control message in `control[0..length)` (the control data of a
 * recvmsg) and returns its timestamp as an instant, or null.
 */
export function findRxTimestamp(control: Uint8Array, length: number): Instant | null {
  return findCmsgTimespec(control, length, SCM_TIMESTAMPNS, 32, () => true);
}

/**
 * Finds the SCM_TIMESTAMPING control message (struct scm_timestamping: software, legacy,
 * hardware timespecs) in `control[0..length)` and returns its software timestamp, or null.
 */
export function findTxTimestamp(control: Uint8Array, length: number): Instant | null {
  return findCmsgTimespec(control, length, SCM_TIMESTAMPING, 16 + 48, (t) => t !== 0n);
}
