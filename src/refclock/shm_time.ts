/**
 * ntpd's SHM refclock segment (driver 28, `struct shmTime` on 64-bit Linux), as chrony's
 * refclock_shm.c reads it: mode, count, clock and receive timestamps (s + us, and ns in
 * the newer fields), leap, precision, nsamples, valid. 96 bytes, little-endian.
 *
 * @module
 */

/** Size of struct shmTime on x86_64/aarch64 Linux. */
export const SHM_TIME_SIZE = 96;
/** SysV IPC key of unit 0 ("NTP0"); unit N uses this plus N. */
export const SHM_KEY_BASE = 0x4e545030;
/** Byte offset of `count`. */
export const SHM_COUNT_OFFSET = 4;
/** Byte offset of `valid`. */
export const SHM_VALID_OFFSET = 48;

/** A decoded segment. */
export interface ShmTime {
  /** 0: no count check; 1: count must not change across the read. */
  mode: number;
  /** Write counter (mode 1). */
  count: number;
  /** Device (true) time, ns since the epoch. */
  clockTime: bigint;
  /** System time at which it was received, ns since the epoch. */
  receiveTime: bigint;
  /** Leap indicator. */
  leap: number;
  /** Precision, log2 s. */
  precision: number;
  /** Non-zero when the writer has put a new sample. */
  valid: number;
}

/** Decodes a copy of the segment. */
export function decodeShmTime(bytes: Uint8Array): ShmTime | null {
  if (bytes.length < SHM_TIME_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, SHM_TIME_SIZE);
  const clockSec = v.getBigInt64(8, true);
  const clockUsec = v.getInt32(16, true);
  const recvSec = v.getBigInt64(24, true);
  const recvUsec = v.getInt32(32, true);
  const clockNsec = v.getInt32(52, true);
  const recvNsec = v.getInt32(56, true);
  // As chrony: the ns fields count only when they agree with the us fields.
  const useNs = Math.trunc(clockNsec / 1000) === clockUsec &&
    Math.trunc(recvNsec / 1000) === recvUsec;
  const ns = (sec: bigint, frac: number) => sec * 1_000_000_000n + BigInt(frac);
  return {
    mode: v.getInt32(0, true),
    count: v.getInt32(4, true),
    clockTime: ns(clockSec, useNs ? clockNsec : clockUsec * 1000),
    receiveTime: ns(recvSec, useNs ? recvNsec : recvUsec * 1000),
    leap: v.getInt32(36, true),
    precision: v.getInt32(40, true),
    valid: v.getInt32(48, true),
  };
}

/** What one read of the segment gives: a sample, or why there is none. */
export type ShmRead =
  | { ok: true; receiveTime: bigint; offset: number; leap: number }
  | { ok: false; reason: string };

/**
 * chrony's shm_poll check on a copy `t` of the segment and the `count` read again after the
 * copy: a sample only when valid, mode 0 or 1, and (mode 1) the count unchanged.
 */
export function checkShmSample(t: ShmTime | null, countAfter: number): ShmRead {
  if (t === null) return { ok: false, reason: "short segment" };
  if (t.mode !== 0 && t.mode !== 1) return { ok: false, reason: `mode ${t.mode}` };
  if (t.mode === 1 && t.count !== countAfter) return { ok: false, reason: "count changed" };
  if (t.valid === 0) return { ok: false, reason: "not valid" };
  const offset = Number(t.clockTime - t.receiveTime) / 1e9;
  if (!Number.isFinite(offset)) return { ok: false, reason: "bad offset" };
  return { ok: true, receiveTime: t.receiveTime, offset, leap: t.leap };
}

/** Encodes a segment (for tests). */
export function encodeShmTime(t: ShmTime): Uint8Array {
  const out = new Uint8Array(SHM_TIME_SIZE);
  const v = new DataView(out.buffer);
  const split = (ns: bigint) => {
    const sec = ns / 1_000_000_000n;
    return { sec, nsec: Number(ns - sec * 1_000_000_000n) };
  };
  const c = split(t.clockTime);
  const r = split(t.receiveTime);
  v.setInt32(0, t.mode, true);
  v.setInt32(4, t.count, true);
  v.setBigInt64(8, c.sec, true);
  v.setInt32(16, Math.trunc(c.nsec / 1000), true);
  v.setBigInt64(24, r.sec, true);
  v.setInt32(32, Math.trunc(r.nsec / 1000), true);
  v.setInt32(36, t.leap, true);
  v.setInt32(40, t.precision, true);
  v.setInt32(48, t.valid, true);
  v.setInt32(52, c.nsec, true);
  v.setInt32(56, r.nsec, true);
  return out;
}
