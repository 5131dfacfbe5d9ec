/**
 * struct rtc_time (9 ints, 36 bytes) and the RTC ioctl request numbers of Linux, with pure
 * conversions between the struct and Unix seconds (the RTC kept in UTC or in local time).
 *
 * @module
 */

/** Size in bytes of struct rtc_time. */
export const RTC_TIME_SIZE = 36;

/** _IOR('p', 0x09, struct rtc_time): read the RTC time. */
export const RTC_RD_TIME = 0x80247009;
/** _IOW('p', 0x0a, struct rtc_time): set the RTC time. */
export const RTC_SET_TIME = 0x4024700a;
/** _IO('p', 0x03): enable update-ended interrupts. */
export const RTC_UIE_ON = 0x7003;
/** _IO('p', 0x04): disable update-ended interrupts. */
export const RTC_UIE_OFF = 0x7004;
/** Bit in the value read from /dev/rtc that flags an update-ended interrupt. */
export const RTC_UF = 0x10;

/** struct rtc_time, broken-down like struct tm (month 0-11, year since 1900). */
export interface RtcTime {
  /** Seconds, 0-59. */
  sec: number;
  /** Minutes, 0-59. */
  min: number;
  /** Hours, 0-23. */
  hour: number;
  /** Day of the month, 1-31. */
  mday: number;
  /** Month, 0-11. */
  mon: number;
  /** Years since 1900. */
  year: number;
  /** Day of the week, 0-6 (Sunday = 0). */
  wday: number;
  /** Day of the year, 0-365. */
  yday: number;
  /** DST flag (unused by Linux RTC drivers). */
  isdst: number;
}

const FIELDS: readonly (keyof RtcTime)[] = [
  "sec",
  "min",
  "hour",
  "mday",
  "mon",
  "year",
  "wday",
  "yday",
  "isdst",
];

/** Encodes an RtcTime into its 36-byte kernel form. */
export function encodeRtcTime(tm: RtcTime): Uint8Array {
  const bytes = new Uint8Array(RTC_TIME_SIZE);
  const view = new DataView(bytes.buffer);
  FIELDS.forEach((name, i) => view.setInt32(i * 4, tm[name], true));
  return bytes;
}

/** Decodes a 36-byte struct rtc_time. Throws RangeError when `bytes` is too short. */
export function decodeRtcTime(bytes: Uint8Array): RtcTime {
  if (bytes.byteLength < RTC_TIME_SIZE) {
    throw new RangeError(`struct rtc_time needs ${RTC_TIME_SIZE} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tm = {} as RtcTime;
  FIELDS.forEach((name, i) => tm[name] = view.getInt32(i * 4, true));
  return tm;
}

/**
 * Unix seconds of a broken-down RTC time. With `utc` false the fields are local time of
 * the process's time zone (TZ), as an RTC kept on local time holds them.
 */
export function rtcTimeToUnixSeconds(tm: RtcTime, utc: boolean): number {
  const ms = utc
    ? Date.UTC(tm.year + 1900, tm.mon, tm.mday, tm.hour, tm.min, tm.sec)
    : new Date(tm.year + 1900, tm.mon, tm.mday, tm.hour, tm.min, tm.sec).getTime();
  return Math.floor(ms / 1000);
}

/** Broken-down RTC time of whole Unix seconds (UTC, or local time when `utc` is false). */
export function unixSecondsToRtcTime(seconds: number, utc: boolean): RtcTime {
  const d = new Date(Math.floor(seconds) * 1000);
  if (utc) {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return {
      sec: d.getUTCSeconds(),
      min: d.getUTCMinutes(),
      hour: d.getUTCHours(),
      mday: d.getUTCDate(),
      mon: d.getUTCMonth(),
      year: d.getUTCFullYear() - 1900,
      wday: d.getUTCDay(),
      yday: Math.floor((d.getTime() - start) / 86_400_000),
      isdst: 0,
    };
  }
  const startLocal = new Date(d.getFullYear(), 0, 1);
  const dayLocal = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  return {
    sec: d.getSeconds(),
    min: d.getMinutes(),
    hour: d.getHours(),
    mday: d.getDate(),
    mon: d.getMonth(),
    year: d.getFullYear() - 1900,
    wday: d.getDay(),
    yday: Math.round((dayLocal.getTime() - startLocal.getTime()) / 86_400_000),
    isdst: 0,
  };
}
