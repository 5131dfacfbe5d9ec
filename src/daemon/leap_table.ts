/**
 * Leap seconds from a table, as chronyd reads them: `leapsectz` (a "right/" time zone of
 * the tz database, whose TZif file lists every leap second) and `leapseclist` (the IERS /
 * NIST leap-seconds.list). When the sources say nothing (leap "normal"), a leap second the
 * table schedules for the end of the current UTC day is inserted or deleted all the same;
 * the reference consults the table through one hook (Reference.leapTable).
 *
 * @module
 */
import type { Config } from "../config/model.ts";
import type { LogPort } from "../base/ports.ts";
import type { LeapStatus } from "../core/reports.ts";
import type { Instant } from "../base/time.ts";
import { envOrUndefined } from "../io/daemonize.ts";
import { errorMessage } from "../base/errors.ts";

/** One change of TAI - UTC: from the Unix time `at` (a UTC midnight) the offset is `tai`. */
export interface LeapEntry {
  /** Unix time (s) from which the new offset applies. */
  at: number;
  /** TAI - UTC from then on, seconds. */
  tai: number;
}

/** A table's answer for one day. */
export interface LeapDay {
  /** 1 insert or 2 delete a second at the end of the day, else 0. */
  leap: LeapStatus;
  /** TAI - UTC in force (10, its 1972 value, before the first entry). */
  tai: number;
}

const NTP_UNIX_DELTA = 2208988800;
/** TAI - UTC before the first leap second of the tables (1972-01-01). */
const TAI_BASE = 10;

/** Reads the leap-second records of a TZif file (version 1, or 2+ with 64-bit times). */
export function parseTzifLeaps(bytes: Uint8Array): LeapEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (bytes.length < 44 || magic !== "TZif") throw new Error("not a TZif file");
  const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => v.getUint32(at + 20 + i * 4));
  let [isut, isstd, leapcnt, timecnt, typecnt, charcnt] = counts(0);
  let base = 44;
  let timeSize = 4;
  const version = bytes[4];
  if (version >= 0x32) { // '2' or later: skip the 32-bit block, use the 64-bit one
    base += timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstd + isut;
    [isut, isstd, leapcnt, timecnt, typecnt, charcnt] = counts(base);
    base += 44;
    timeSize = 8;
  }
  let at = base + timecnt * (timeSize + 1) + typecnt * 6 + charcnt;
  if (at + leapcnt * (timeSize + 4) > bytes.length) throw new Error("truncated TZif file");
  const out: LeapEntry[] = [];
  let previous = 0;
  for (let i = 0; i < leapcnt; i++) {
    const occurrence = timeSize === 8 ? Number(v.getBigInt64(at)) : v.getInt32(at);
    const correction = v.getInt32(at + timeSize);
    at += timeSize + 4;
    // The occurrence time counts the earlier leap seconds: the UTC midnight after an
    // inserted second is occurrence - previous correction (deleted: + 1 more).
    const midnight = correction > previous ? occurrence - previous : occurrence - previous + 1;
    out.push({ at: midnight, tai: TAI_BASE + correction });
    previous = correction;
  }
  return out;
}

/** Reads leap-seconds.list: its entries and the expiry date (Unix s) of its "#@" line. */
export function parseLeapSecondsList(
  text: string,
): { entries: LeapEntry[]; expiry: number | null } {
  const entries: LeapEntry[] = [];
  let expiry: number | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith("#@")) {
      const n = Number(line.slice(2).trim().split(/\s+/)[0]);
      if (Number.isFinite(n)) expiry = n - NTP_UNIX_DELTA;
      return;
    }
    if (line === "" || line.startsWith("#")) return;
    const [ntp, tai] = line.split(/\s+/).map(Number);
    if (!Number.isInteger(ntp) || !Number.isInteger(tai)) {
      throw new Error(`line ${i + 1}: expected NTP seconds and TAI-UTC`);
    }
    entries.push({ at: ntp - NTP_UNIX_DELTA, tai });
  });
  if (entries.length === 0) throw new Error("no leap seconds listed");
  return { entries, expiry };
}

/** What the table says for the UTC day containing Unix time `now` (seconds). */
export function leapForDay(entries: readonly LeapEntry[], now: number): LeapDay {
  const dayEnd = (Math.floor(now / 86400) + 1) * 86400;
  let tai = TAI_BASE;
  let leap: LeapStatus = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.at <= now) tai = e.tai;
    if (e.at === dayEnd) {
      const before = i > 0 ? entries[i - 1].tai : TAI_BASE;
      leap = e.tai > before ? 1 : e.tai < before ? 2 : 0;
    }
  }
  return { leap, tai };
}

/**
 * chronyd's sanity check of a leap table: a leap second inserted at the end of 2012-06-30
 * (TAI - UTC 34 that day) and none at the end of 2012-12-31 (35).
 */
export function passesLeapCheck(entries: readonly LeapEntry[]): boolean {
  const june = leapForDay(entries, 1341014400);
  const december = leapForDay(entries, 1356912000);
  return june.leap === 1 && june.tai === 34 && december.leap === 0 && december.tai === 35;
}

/** The leap table hook for the reference: Instant → the table's leap for that day. */
export type LeapTable = (now: Instant) => LeapStatus;

/**
 * Loads `leapsectz` / `leapseclist` from `config` (leapseclist wins when both are given, as
 * in chrony 4.8). A time zone that fails the check is ignored with a warning, as chronyd
 * does; an unreadable or malformed leap-seconds list is an Error (a start-up failure).
 */
export function loadLeapTable(
  config: Pick<Config, "leapSecTz" | "leapSecList">,
  log: LogPort,
  options: { readFile?: (path: string) => Uint8Array; zoneDir?: string; now?: number } = {},
): LeapTable | null {
  const read = options.readFile ?? ((p: string) => Deno.readFileSync(p));
  let entries: LeapEntry[] | null = null;
  if (config.leapSecList !== null) {
    const path = config.leapSecList;
    let list: { entries: LeapEntry[]; expiry: number | null };
    try {
      list = parseLeapSecondsList(new TextDecoder().decode(read(path)));
    } catch (error) {
      throw new Error(`leapseclist ${path}: ${errorMessage(error)}`);
    }
    const now = options.now ?? Date.now() / 1000;
    if (list.expiry !== null && list.expiry < now) {
      log.log("warning", `Leap second list ${path} expired`);
    }
    entries = list.entries;
    log.log("info", `Using leap second list ${path}`);
  } else if (config.leapSecTz !== null) {
    const name = config.leapSecTz;
    const dir = options.zoneDir ?? envOrUndefined("TZDIR") ?? "/usr/share/zoneinfo";
    let tz: LeapEntry[] | null = null;
    try {
      if (name.includes("..")) throw new Error("bad zone name");
      tz = parseTzifLeaps(read(name.startsWith("/") ? name : `${dir}/${name}`));
    } catch {
      tz = null;
    }
    if (tz === null || !passesLeapCheck(tz)) {
      log.log("warning", `Timezone ${name} failed leap second check, ignoring`);
      return null;
    }
    entries = tz;
    log.log("info", `Using ${name} timezone to obtain leap second data`);
  }
  if (entries === null) return null;
  const table = entries;
  return (now: Instant) => leapForDay(table, Number(now / 1_000_000_000n)).leap;
}
