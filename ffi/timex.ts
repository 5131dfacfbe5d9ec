/**
 * struct timex (the kernel's x86_64 LP64 layout, 208 bytes) and the adjtimex constants, as
 * pure encode/decode functions that need no kernel.
 *
 * @module
 */

/** Size in bytes of struct timex on x86_64. */
export const TIMEX_SIZE = 208;

/** adjtimex `modes` bits. */
export const ADJ_OFFSET = 0x0001;
/** Sets `freq`. */
export const ADJ_FREQUENCY = 0x0002;
/** Sets `maxerror`. */
export const ADJ_MAXERROR = 0x0004;
/** Sets `esterror`. */
export const ADJ_ESTERROR = 0x0008;
/** Sets `status`. */
export const ADJ_STATUS = 0x0010;
/** Sets `constant`. */
export const ADJ_TIMECONST = 0x0020;
/** Sets the TAI offset from `constant`. */
export const ADJ_TAI = 0x0080;
/** Adds `time` to the clock (a step). */
export const ADJ_SETOFFSET = 0x0100;
/** Selects microsecond resolution. */
export const ADJ_MICRO = 0x1000;
/** Selects nanosecond resolution (`time.tv_usec` holds ns for ADJ_SETOFFSET). */
export const ADJ_NANO = 0x2000;
/** Sets `tick`. */
export const ADJ_TICK = 0x4000;
/** Old-style adjtime(): slews `offset` microseconds at 500 ppm. */
export const ADJ_OFFSET_SINGLESHOT = 0x8001;
/** Reads the pending single-shot offset without changing it. */
export const ADJ_OFFSET_SS_READ = 0xa001;

/** NTP-style aliases of the ADJ_* bits. */
export const MOD_OFFSET: number = ADJ_OFFSET;
/** Alias of ADJ_FREQUENCY. */
export const MOD_FREQUENCY: number = ADJ_FREQUENCY;
/** Alias of ADJ_MAXERROR. */
export const MOD_MAXERROR: number = ADJ_MAXERROR;
/** Alias of ADJ_ESTERROR. */
export const MOD_ESTERROR: number = ADJ_ESTERROR;
/** Alias of ADJ_STATUS. */
export const MOD_STATUS: number = ADJ_STATUS;
/** Alias of ADJ_TIMECONST. */
export const MOD_TIMECONST: number = ADJ_TIMECONST;
/** Alias of ADJ_TAI. */
export const MOD_TAI: number = ADJ_TAI;
/** Alias of ADJ_MICRO. */
export const MOD_MICRO: number = ADJ_MICRO;
/** Alias of ADJ_NANO. */
export const MOD_NANO: number = ADJ_NANO;
/** Clock source B. */
export const MOD_CLKB = 0x4000;
/** Clock source A. */
export const MOD_CLKA = 0x8000;

/** `status` bit: kernel PLL updates enabled. */
export const STA_PLL = 0x0001;
/** PPS frequency discipline. */
export const STA_PPSFREQ = 0x0002;
/** PPS time discipline. */
export const STA_PPSTIME = 0x0004;
/** FLL mode. */
export const STA_FLL = 0x0008;
/** Insert a leap second at the end of the UTC day. */
export const STA_INS = 0x0010;
/** Delete a leap second at the end of the UTC day. */
export const STA_DEL = 0x0020;
/** Clock unsynchronised (also stops the kernel 11-minute RTC copy while set). */
export const STA_UNSYNC = 0x0040;
/** Hold frequency. */
export const STA_FREQHOLD = 0x0080;
/** PPS signal present (read-only). */
export const STA_PPSSIGNAL = 0x0100;
/** PPS jitter exceeded (read-only). */
export const STA_PPSJITTER = 0x0200;
/** PPS wander exceeded (read-only). */
export const STA_PPSWANDER = 0x0400;
/** PPS calibration error (read-only). */
export const STA_PPSERROR = 0x0800;
/** Clock hardware fault (read-only). */
export const STA_CLOCKERR = 0x1000;
/** Nanosecond resolution (read-only; set with ADJ_NANO). */
export const STA_NANO = 0x2000;
/** FLL mode selected (read-only). */
export const STA_MODE = 0x4000;
/** Clock source (read-only). */
export const STA_CLK = 0x8000;

/** Clock state returned by adjtimex: synchronised, no leap pending. */
export const TIME_OK = 0;
/** A leap second will be inserted at the end of the day. */
export const TIME_INS = 1;
/** A leap second will be deleted at the end of the day. */
export const TIME_DEL = 2;
/** The inserted leap second is in progress (23:59:60). */
export const TIME_OOP = 3;
/** A leap second has just happened. */
export const TIME_WAIT = 4;
/** Clock unsynchronised. */
export const TIME_ERROR = 5;

/** Names of the adjtimex return states, indexed by value. */
export const TIME_STATE_NAMES: readonly string[] = [
  "TIME_OK",
  "TIME_INS",
  "TIME_DEL",
  "TIME_OOP",
  "TIME_WAIT",
  "TIME_ERROR",
];

/** 2^16: `freq` and `ppsfreq` are ppm scaled by this. */
export const FREQ_SCALE = 65536;

/** The fields of struct timex (all `long` fields as numbers; they fit in 2^53 in practice). */
export interface Timex {
  /** Mode selector bits (ADJ_*). */
  modes: number;
  /** Time offset (µs, or ns with STA_NANO / ADJ_NANO); single-shot µs. */
  offset: number;
  /** Frequency offset, ppm scaled by 2^16. */
  freq: number;
  /** Maximum error, µs. */
  maxerror: number;
  /** Estimated error, µs. */
  esterror: number;
  /** Clock status bits (STA_*). */
  status: number;
  /** PLL time constant; with ADJ_TAI the TAI offset to set. */
  constant: number;
  /** Clock precision, µs (read-only). */
  precision: number;
  /** Clock frequency tolerance, ppm scaled by 2^16 (read-only). */
  tolerance: number;
  /** struct timeval time: seconds (current time on read; step amount with ADJ_SETOFFSET). */
  timeSec: number;
  /** struct timeval time: µs, or ns with ADJ_NANO/STA_NANO. */
  timeUsec: number;
  /** µs between clock ticks. */
  tick: number;
  /** PPS frequency, ppm scaled by 2^16 (read-only). */
  ppsfreq: number;
  /** PPS jitter (read-only). */
  jitter: number;
  /** PPS interval duration, log2 s (read-only). */
  shift: number;
  /** PPS stability (read-only). */
  stabil: number;
  /** PPS jitter limit exceeded count (read-only). */
  jitcnt: number;
  /** PPS calibration intervals (read-only). */
  calcnt: number;
  /** PPS calibration errors (read-only). */
  errcnt: number;
  /** PPS stability limit exceeded count (read-only). */
  stbcnt: number;
  /** TAI offset, seconds (read-only here; set through ADJ_TAI + constant). */
  tai: number;
}

/** Byte offsets of the fields of struct timex on x86_64. */
export const TIMEX_OFFSETS = {
  modes: 0, // unsigned int (+4 padding)
  offset: 8,
  freq: 16,
  maxerror: 24,
  esterror: 32,
  status: 40, // int (+4 padding)
  constant: 48,
  precision: 56,
  tolerance: 64,
  timeSec: 72,
  timeUsec: 80,
  tick: 88,
  ppsfreq: 96,
  jitter: 104,
  shift: 112, // int (+4 padding)
  stabil: 120,
  jitcnt: 128,
  calcnt: 136,
  errcnt: 144,
  stbcnt: 152,
  tai: 160, // int, then 44 bytes of padding to 208
} as const;

const INT_FIELDS = new Set(["status", "shift", "tai"]);

/** A timex with every field zero (a read-only query when passed to adjtimex). */
export function emptyTimex(): Timex {
  return {
    modes: 0,
    offset: 0,
    freq: 0,
    maxerror: 0,
    esterror: 0,
    status: 0,
    constant: 0,
    precision: 0,
    tolerance: 0,
    timeSec: 0,
    timeUsec: 0,
    tick: 0,
    ppsfreq: 0,
    jitter: 0,
    shift: 0,
    stabil: 0,
    jitcnt: 0,
    calcnt: 0,
    errcnt: 0,
    stbcnt: 0,
    tai: 0,
  };
}

/** Encodes a timex (partial fields default to 0) into its 208-byte kernel form. */
export function encodeTimex(tx: Partial<Timex>): Uint8Array {
  const bytes = new Uint8Array(TIMEX_SIZE);
  const view = new DataView(bytes.buffer);
  const full = { ...emptyTimex(), ...tx };
  for (const [name, offset] of Object.entries(TIMEX_OFFSETS)) {
    const value = Math.trunc(full[name as keyof Timex]);
    if (name === "modes") view.setUint32(offset, value >>> 0, true);
    else if (INT_FIELDS.has(name)) view.setInt32(offset, value, true);
    else view.setBigInt64(offset, BigInt(value), true);
  }
  return bytes;
}

/** Decodes a 208-byte struct timex. Throws RangeError when `bytes` is too short. */
export function decodeTimex(bytes: Uint8Array): Timex {
  if (bytes.byteLength < TIMEX_SIZE) {
    throw new RangeError(`struct timex needs ${TIMEX_SIZE} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tx = emptyTimex();
  for (const [name, offset] of Object.entries(TIMEX_OFFSETS)) {
    let value: number;
    if (name === "modes") value = view.getUint32(offset, true);
    else if (INT_FIELDS.has(name)) value = view.getInt32(offset, true);
    else value = Number(view.getBigInt64(offset, true));
    tx[name as keyof Timex] = value;
  }
  return tx;
}
