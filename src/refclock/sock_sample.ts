/**
 * chrony's SOCK refclock sample (refclock_sock.c, `struct sock_sample` on 64-bit Linux): a
 * 16-byte `struct timeval` (system time of the measurement), the double offset of true time
 * from it, `pulse`, `leap`, padding and the magic 0x534f434b, 40 bytes little-endian. gpsd
 * writes these to `/run/chrony.<device>.sock`.
 *
 * @module
 */

/** Size of struct sock_sample on x86_64/aarch64 Linux. */
export const SOCK_SAMPLE_SIZE = 40;
/** The protocol identifier ("SOCK"). */
export const SOCK_MAGIC = 0x534f434b;

/** A decoded SOCK sample. */
export interface SockSample {
  /** System time of the measurement, ns since the epoch. */
  time: bigint;
  /** True time minus system time, seconds. */
  offset: number;
  /** True for a PPS pulse (only the sub-second is known). */
  pulse: boolean;
  /** 0 normal, 1 insert, 2 delete leap second (other values are passed on). */
  leap: number;
}

/** Decodes one datagram; null when its length, magic or values are wrong. */
export function decodeSockSample(bytes: Uint8Array): SockSample | null {
  if (bytes.length !== SOCK_SAMPLE_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getInt32(36, true) !== SOCK_MAGIC) return null;
  const sec = v.getBigInt64(0, true);
  const usec = v.getBigInt64(8, true);
  const offset = v.getFloat64(16, true);
  if (usec < -1_000_000_000n || usec > 1_000_000_000n) return null;
  if (sec < 0n || sec > 1n << 40n || !Number.isFinite(offset)) return null;
  return {
    time: sec * 1_000_000_000n + usec * 1000n,
    offset,
    pulse: v.getInt32(24, true) !== 0,
    leap: v.getInt32(28, true),
  };
}

/** Encodes a sample (for tests and tools that feed a SOCK refclock). */
export function encodeSockSample(s: SockSample): Uint8Array {
  const out = new Uint8Array(SOCK_SAMPLE_SIZE);
  const v = new DataView(out.buffer);
  const sec = s.time / 1_000_000_000n;
  v.setBigInt64(0, sec, true);
  v.setBigInt64(8, (s.time - sec * 1_000_000_000n) / 1000n, true);
  v.setFloat64(16, s.offset, true);
  v.setInt32(24, s.pulse ? 1 : 0, true);
  v.setInt32(28, s.leap, true);
  v.setInt32(36, SOCK_MAGIC, true);
  return out;
}
