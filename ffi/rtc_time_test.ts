import assert from "node:assert/strict";
import {
  decodeRtcTime,
  encodeRtcTime,
  RTC_RD_TIME,
  RTC_SET_TIME,
  RTC_TIME_SIZE,
  rtcTimeToUnixSeconds,
  unixSecondsToRtcTime,
} from "./rtc_time.ts";

Deno.test("rtc_time encodes 9 little-endian ints", () => {
  const tm = unixSecondsToRtcTime(Date.UTC(2016, 11, 31, 23, 59, 58) / 1000, true);
  assert.deepEqual(tm, {
    sec: 58,
    min: 59,
    hour: 23,
    mday: 31,
    mon: 11,
    year: 116,
    wday: 6,
    yday: 365,
    isdst: 0,
  });
  const bytes = encodeRtcTime(tm);
  assert.equal(bytes.byteLength, RTC_TIME_SIZE);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getInt32(0, true), 58);
  assert.equal(v.getInt32(20, true), 116);
  assert.deepEqual(decodeRtcTime(bytes), tm);
});

Deno.test("rtc_time converts to and from Unix seconds in UTC", () => {
  for (const s of [0, 951_782_400, 1_719_791_999, 1_782_345_678]) {
    assert.equal(rtcTimeToUnixSeconds(unixSecondsToRtcTime(s, true), true), s);
    assert.equal(rtcTimeToUnixSeconds(unixSecondsToRtcTime(s, false), false), s);
  }
});

Deno.test("RTC ioctl numbers match _IOR/_IOW('p', n, struct rtc_time)", () => {
  const ioc = (dir: number, nr: number, size: number) =>
    ((dir << 30) | (size << 16) | (0x70 << 8) | nr) >>> 0;
  assert.equal(RTC_RD_TIME, ioc(2, 0x09, 36));
  assert.equal(RTC_SET_TIME, ioc(1, 0x0a, 36));
});
