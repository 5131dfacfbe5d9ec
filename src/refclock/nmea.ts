/**
 * NMEA 0183 time sentences, pure: checksum validation and the UTC time of RMC (with its
 * date and its A/V validity flag) and ZDA sentences from any talker (GP, GN, GL, GA, BD,
 * ...). Every string gives a typed result, never an exception. A line assembler turns a
 * byte stream into sentences, each stamped with the time its end arrived; it holds at most
 * one sentence's worth of bytes (NMEA allows 82 characters; longer lines are dropped).
 *
 * @module
 */

/** The time a sentence carries. */
export interface NmeaTime {
  /** Sentence type. */
  type: "RMC" | "ZDA";
  /** UTC time as Unix nanoseconds. */
  utc: bigint;
}

/** Why a sentence gives no time. */
export type NmeaRejection =
  | "not a sentence"
  | "bad checksum"
  | "no checksum"
  | "other sentence"
  | "no fix"
  | "bad field";

/** The outcome of parsing one sentence. */
export type NmeaParse = { ok: true; time: NmeaTime } | { ok: false; reason: NmeaRejection };

/** Longest line the assembler keeps (NMEA: 82 characters with $ and CR LF). */
export const MAX_NMEA_LINE = 128;

/** XOR of the characters between `$` and `*`, as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, "0");
}

function fail(reason: NmeaRejection): NmeaParse {
  return { ok: false, reason };
}

/** hhmmss[.fff] as nanoseconds since midnight, or null. */
function timeOfDay(text: string): bigint | null {
  const m = /^([01][0-9]|2[0-3])([0-5][0-9])([0-5][0-9]|60)(?:\.([0-9]{1,9}))?$/.exec(text);
  if (m === null) return null;
  const frac = BigInt((m[4] ?? "").padEnd(9, "0"));
  const secs = BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
  return secs * 1_000_000_000n + frac;
}

/** Unix nanoseconds of a UTC date at midnight, or null for an impossible date. */
function dateNs(year: number, month: number, day: number): bigint | null {
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month - 1) return null;
  return BigInt(ms) * 1_000_000n;
}

/** Parses one sentence (without or with the trailing CR LF). */
export function parseNmeaSentence(line: string): NmeaParse {
  const text = line.replace(/[\r\n]+$/, "");
  if (text.length > MAX_NMEA_LINE || !text.startsWith("$")) return fail("not a sentence");
  const star = text.lastIndexOf("*");
  if (star < 0) return fail("no checksum");
  const body = text.slice(1, star);
  const sum = text.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(sum) || sum.toUpperCase() !== nmeaChecksum(body)) {
    return fail("bad checksum");
  }
  const f = body.split(",");
  if (!/^[A-Z]{2}[A-Z]{3}$/.test(f[0])) return fail("not a sentence");
  const type = f[0].slice(2);
  if (type === "RMC") {
    if (f.length < 10) return fail("bad field");
    if (f[2] !== "A") return fail("no fix");
    // NMEA 2.3+ mode indicator: N = data not valid.
    if (f.length >= 13 && f[12] === "N") return fail("no fix");
    const tod = timeOfDay(f[1]);
    const dm = /^([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(f[9]);
    if (tod === null || dm === null) return fail("bad field");
    const yy = Number(dm[3]);
    const day = dateNs(yy < 80 ? 2000 + yy : 1900 + yy, Number(dm[2]), Number(dm[1]));
    if (day === null) return fail("bad field");
    return { ok: true, time: { type: "RMC", utc: day + tod } };
  }
  if (type === "ZDA") {
    if (f.length < 5) return fail("bad field");
    const tod = timeOfDay(f[1]);
    if (!/^[0-9]{2}$/.test(f[2]) || !/^[0-9]{2}$/.test(f[3]) || !/^[0-9]{4}$/.test(f[4])) {
      return fail("bad field");
    }
    const day = dateNs(Number(f[4]), Number(f[3]), Number(f[2]));
    if (tod === null || day === null) return fail("bad field");
    return { ok: true, time: { type: "ZDA", utc: day + tod } };
  }
  return fail("other sentence");
}

/** A complete line and the time its last byte arrived. */
export interface StampedLine {
  /** The line without CR LF. */
  line: string;
  /** Receive time (system time, ns) of the chunk that ended it. */
  received: bigint;
}

/** Splits a byte stream into lines; bounded: an over-long line is dropped, not kept. */
export class NmeaLineAssembler {
  #buf: number[] = [];
  #overflow = false;
  /** Lines dropped as too long. */
  dropped = 0;

  /** Feeds `bytes` received at `received`; returns the lines they complete. */
  push(bytes: Uint8Array, received: bigint): StampedLine[] {
    const out: StampedLine[] = [];
    for (const b of bytes) {
      if (b === 0x0a || b === 0x0d) {
        if (this.#overflow) this.dropped++;
        else if (this.#buf.length > 0) {
          out.push({ line: String.fromCharCode(...this.#buf), received });
        }
        this.#buf = [];
        this.#overflow = false;
      } else if (this.#buf.length >= MAX_NMEA_LINE) {
        this.#overflow = true;
        this.#buf = [];
      } else if (!this.#overflow) {
        if (b === 0x24) this.#buf = []; // '$' starts a sentence: drop any garbage before it
        this.#buf.push(b);
      }
    }
    return out;
  }
}

/**
 * Keeps the first time sentence of each UTC second: later ones (an RMC after a ZDA of the
 * same second) arrive later in the burst and would carry a different delay.
 */
export class FirstOfSecond {
  #last: bigint | null = null;

  /** True when `utc` starts a new second. */
  take(utc: bigint): boolean {
    const second = utc / 1_000_000_000n;
    if (this.#last !== null && second === this.#last) return false;
    this.#last = second;
    return true;
  }
}
